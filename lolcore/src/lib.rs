//! lolcore: tensors on the CPU and CUDA, reverse- and forward-mode autodiff, the
//! `Module` traits, optimizers and safetensors I/O. The repository's ARCHITECTURE.md is
//! the map: the crates, and how one op runs from a layer down to a kernel and back.
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

// Generated code (the derive, `sequential!`) names items as `::lolcore::__private`.
extern crate self as lolcore;

pub(crate) mod autograd;
pub mod checkpoint;
pub(crate) mod cpu;
pub mod cuda;
mod device;
pub mod dist;
mod dtype;
mod error;
pub(crate) mod layout;
pub mod nn;
pub(crate) mod ops;
pub mod optim;
pub mod rng;
pub mod safetensors;
pub(crate) mod storage;
mod tensor;

pub use autograd::forward::jvp;
pub use autograd::function::Function;
pub use autograd::{is_grad_enabled, no_grad, with_grad_enabled, GradReadyHook, Gradients};
pub use cpu::buffer_pool::release_all as release_cpu_buffers;
pub use cpu::thread_pool::{num_threads, set_num_threads};
pub use device::Device;
pub use dtype::{DType, FloatElem, NumElem, WithDType};
pub use error::{Error, Result};
pub use layout::{Dim, Layout};
pub use nn::{Forward, Module};
pub use ops::attention::AttentionParams;
pub use ops::conv1d::Conv1dParams;
pub use ops::conv_params::{Conv2dParams, IntoPair, Padding};
pub use ops::conv_transpose::{ConvTranspose1dParams, ConvTranspose2dParams};
pub use ops::pad::PadMode;
pub use ops::pool_params::{Pool1dParams, Pool2dParams};
pub use rng::{manual_seed, with_generator, Generator};
pub use tensor::{Probabilities, Tensor, TensorId};

pub use half::{bf16, f16};
/// `#[derive(Module)]` and `sequential!` (also re-exported by `keras`).
pub use lol_macros::{sequential, Module};

/// What generated code refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::nn::trace;
    pub use crate::nn::{
        check_layer, join_name, lambda, layer_error, short_type_name, visit_as_buffer, visit_mut_as_buffer, Forward,
        Module, Visit, VisitLazy, VisitLazyMut, VisitMut,
    };
    pub use crate::{Result, Tensor};
}
