pub use lolcore;
