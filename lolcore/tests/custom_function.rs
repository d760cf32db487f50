//! User-defined ops with their own backward (`Function`): gradients checked by finite
//! differences, forward mode, and the errors a wrong backward gets.

mod common;
use common::{check, rnd};
use lolcore::{jvp, Device, Function, Result, Tensor};

/// `a·sin(b)` with its gradients and tangent written by hand.
struct ScaledSin;

impl Function for ScaledSin {
    fn name(&self) -> &'static str {
        "scaled_sin"
    }
    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        x[0].mul(&x[1].sin()?)
    }
    fn backward(&self, x: &[Tensor], _y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(gy.mul(&x[1].sin()?)?), Some(gy.mul(&x[0].mul(&x[1].cos()?)?)?)])
    }
    fn jvp(&self, x: &[Tensor], _y: &Tensor, t: &[Tensor]) -> Result<Tensor> {
        t[0].mul(&x[1].sin()?)?.add(&x[0].mul(&x[1].cos()?)?.mul(&t[1])?)
    }
}

#[test]
fn a_function_with_a_hand_written_backward_passes_the_gradient_check() {
    let (a, b) = (rnd(&[3, 4], -1.0, 1.0), rnd(&[3, 4], -2.0, 2.0));
    check("scaled_sin", &[a.clone(), b.clone()], |t| ScaledSin.apply(&[&t[0], &t[1]]));
    // Inside a larger graph, with the input used twice.
    check("scaled_sin composed", &[a], |t| ScaledSin.apply(&[&t[0], &t[0].mul_scalar(2.0)?])?.exp()?.sum_all());
}

struct WrongCount;
impl Function for WrongCount {
    fn name(&self) -> &'static str {
        "wrong_count"
    }
    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        x[0].mul_scalar(2.0)
    }
    fn backward(&self, _x: &[Tensor], _y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(gy.clone()), None])
    }
}

struct WrongShape;
impl Function for WrongShape {
    fn name(&self) -> &'static str {
        "wrong_shape"
    }
    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        x[0].sum_all()
    }
    fn backward(&self, _x: &[Tensor], _y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(gy.clone())])
    }
}

#[test]
fn a_wrong_backward_or_a_missing_jvp_is_an_error_naming_the_function() {
    let x = Tensor::ones(&[3], &Device::Cpu).unwrap().requires_grad(true);
    let e = WrongCount.apply(&[&x]).unwrap().sum_all().unwrap().backward().unwrap_err().to_string();
    assert!(e.contains("wrong_count") && e.contains("2 gradients for 1 inputs"), "{e}");
    let e = WrongShape.apply(&[&x]).unwrap().backward().unwrap_err().to_string();
    assert!(e.contains("wrong_shape") && e.contains("shape []") && e.contains("[3]"), "{e}");
    let e = jvp(|t| Ok(vec![WrongCount.apply(&[&t[0]])?]), &[x.detach()], &[x.detach()]).unwrap_err().to_string();
    assert!(e.contains("wrong_count") && e.contains("no jvp"), "{e}");
    // The saved input is checked for in-place writes like a built-in op's.
    let y = ScaledSin.apply(&[&x, &x.detach()]).unwrap();
    x.detach().add_scaled_(&x.detach(), 1.0).unwrap();
    let e = y.sum_all().unwrap().backward().unwrap_err().to_string();
    assert!(e.contains("scaled_sin") && e.contains("modified"), "{e}");
}
