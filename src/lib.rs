//! lol: one dependency for the whole framework. `lol::prelude::*` is
//! `keras::prelude::*` (tensors, layers, `sequential!`, `#[derive(Module)]`, `Model`,
//! optimizers, losses, metrics, callbacks), and `lol::lolcore` is the core crate.
//!
//! ```
//! use lol::prelude::*;
//!
//! #[derive(Module)]
//! struct Net {
//!     hidden: Dense,
//!     out: Dense,
//! }
//! impl Forward for Net {
//!     fn forward(&self, x: &Tensor) -> Result<Tensor> {
//!         self.out.forward(&self.hidden.forward(x)?.relu()?)
//!     }
//! }
//! let net = Net { hidden: Dense::new(4, 8), out: Dense::new(8, 2) };
//! assert_eq!(net.forward(&Tensor::zeros(&[3, 4], &Device::Cpu)?)?.dims(), &[3, 2]);
//! # Ok::<(), Error>(())
//! ```

pub use keras::*;
