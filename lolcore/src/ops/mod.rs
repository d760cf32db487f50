//! Tensor ops. Each file holds one family: shape rule, dispatch to the backend, and the
//! backward and forward-mode rules beside the forward.

pub mod binary;
pub mod cat;
pub mod compare;
pub mod conv;
pub mod conv_params;
pub mod convert;
pub mod dropout;
pub mod index;
pub mod kinds;
pub mod linalg;
pub mod matmul;
pub mod operators;
pub mod pooling;
pub mod reduce;
pub mod softmax;
pub mod unary;
pub mod view;
