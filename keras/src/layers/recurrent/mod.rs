//! Recurrent layers: the cells (one step) and the sequence layers built on the same
//! step functions.

mod cells;
mod gru_rnn_sequence;
mod layers;
mod lstm_sequence;
mod sequence;
mod step;

pub use cells::{GRUCell, LSTMCell, RNNCell};
pub use layers::{GRU, LSTM, RNN};
pub use step::Nonlinearity;
