//! lolcore: tensors on the CPU and CUDA, reverse- and forward-mode autodiff, the
//! `Module` traits, optimizers and safetensors I/O. See ARCHITECTURE.md for the map.
//!
//! ```
//! use lolcore::{Device, Tensor};
//! let dev = Device::Cpu;
//! let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], &[2, 2], &dev)?;
//! let w = Tensor::ones(&[2, 2], &dev)?.requires_grad(true);
//! let loss = x.matmul(&w)?.relu()?.sum_all()?;
//! let grads = loss.backward()?;
//! assert_eq!(grads.get(&w).unwrap().to_vec::<f32>()?, vec![4., 4., 6., 6.]);
//! # Ok::<(), lolcore::Error>(())
//! ```

pub mod autograd;
pub mod cpu;
pub mod cuda;
mod device;
mod dtype;
mod error;
pub mod layout;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod safetensors;
pub mod storage;
mod tensor;

pub use autograd::forward::jvp;
pub use autograd::{is_grad_enabled, no_grad, with_grad_enabled, Gradients};
pub use device::Device;
pub use dtype::{DType, FloatElem, NumElem, WithDType};
pub use error::{Error, Result};
pub use layout::{Dim, Layout};
pub use nn::{Forward, Module};
pub use ops::conv_params::{Conv2dParams, Pool2dParams};
pub use rng::manual_seed;
pub use tensor::{Tensor, TensorId};

pub use half::{bf16, f16};
