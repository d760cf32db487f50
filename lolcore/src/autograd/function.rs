//! User-defined differentiable ops (PyTorch's `torch.autograd.Function`): a forward and
//! its backward written by hand, usable anywhere a built-in op is. The forward runs
//! without recording (like PyTorch's); the backward receives the inputs and the output
//! it saved (checked against in-place writes like every built-in op's) and the output's
//! gradient, and returns one gradient per input. A forward-mode rule (`jvp`) is
//! optional.
//!
//! ```
//! use lolcore::{Function, Result, Tensor, Device};
//!
//! /// `y = x³`, with its derivative `3x²` written by hand.
//! struct Cube;
//!
//! impl Function for Cube {
//!     fn name(&self) -> &'static str {
//!         "cube"
//!     }
//!     fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
//!         x[0].mul(&x[0])?.mul(&x[0])
//!     }
//!     fn backward(&self, x: &[Tensor], _y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
//!         Ok(vec![Some(gy.mul(&x[0].sqr()?.mul_scalar(3.0)?)?)])
//!     }
//! }
//!
//! let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2], &Device::Cpu)?.requires_grad(true);
//! let y = Cube.apply(&[&x])?;
//! let g = y.sum_all()?.backward()?;
//! assert_eq!(g.get(&x).unwrap().to_vec::<f32>()?, vec![3.0, 12.0]);
//! # Ok::<(), lolcore::Error>(())
//! ```

use super::{no_grad, BackwardFn, Saved};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::sync::Arc;

/// A differentiable op defined by its forward and backward (and optionally jvp).
pub trait Function: Send + Sync + 'static {
    /// The op's name, used in errors and graph messages.
    fn name(&self) -> &'static str;

    /// The output, from the inputs (run without recording a graph).
    fn forward(&self, inputs: &[Tensor]) -> Result<Tensor>;

    /// Gradients with respect to each input (`None` for an input with no gradient, such
    /// as indices), given the inputs, the output and the output's gradient. Each must
    /// have its input's shape.
    fn backward(&self, inputs: &[Tensor], output: &Tensor, grad_output: &Tensor) -> Result<Vec<Option<Tensor>>>;

    /// Forward mode: the output's tangent from the inputs' tangents. Without it, `jvp`
    /// through this op is an error that names it.
    fn jvp(&self, inputs: &[Tensor], output: &Tensor, tangents: &[Tensor]) -> Result<Tensor> {
        let _ = (inputs, output, tangents);
        Err(Error::msg(format!("{}: this Function defines no jvp (forward-mode rule)", self.name())))
    }

    /// Runs the op on `inputs`, recording it for backward (and forward mode) like any
    /// built-in op.
    fn apply(self, inputs: &[&Tensor]) -> Result<Tensor>
    where
        Self: Sized,
    {
        apply_function(Arc::new(self), inputs)
    }
}

fn apply_function(f: Arc<dyn Function>, inputs: &[&Tensor]) -> Result<Tensor> {
    let name = f.name();
    let detached: Vec<Tensor> = inputs.iter().map(|t| t.detach()).collect();
    let y = no_grad(|| f.forward(&detached))?.detach();
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let saved_in: Vec<Saved> = detached.iter().map(|t| Saved::new(name, "input", t)).collect();
    let saved_out = Saved::new(name, "output", &y);
    let (fj, jin, jout) = (f.clone(), detached.clone(), y.clone());
    y.clone().record(
        name,
        inputs,
        move || -> BackwardFn {
            Box::new(move |gy| {
                let xs = saved_in.iter().map(|s| s.get().cloned()).collect::<Result<Vec<_>>>()?;
                let grads = f.backward(&xs, saved_out.get()?, gy)?;
                if grads.len() != shapes.len() {
                    return Err(Error::msg(format!(
                        "{name}: backward returned {} gradients for {} inputs",
                        grads.len(),
                        shapes.len()
                    )));
                }
                for (i, (g, s)) in grads.iter().zip(&shapes).enumerate() {
                    if let Some(g) = g {
                        if g.shape() != s.as_slice() {
                            return Err(Error::shape(
                                name,
                                format!("backward's gradient {i} has shape {:?}, its input {s:?}", g.shape()),
                            ));
                        }
                    }
                }
                Ok(grads)
            })
        },
        move |t, _| fj.jvp(&jin, &jout, t),
    )
}
