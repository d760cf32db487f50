//! A program that depends on `lolcore` alone can derive `Module` and use `sequential!`:
//! the generated code names `::lolcore::__private` when `keras` is not a dependency.
use lolcore::nn::{Forward, Module};
use lolcore::{Device, Result, Tensor};

#[derive(lolcore::Module)]
struct Affine {
    weight: Tensor,
    #[module(buffer)]
    scale: Tensor,
    #[module(skip)]
    _note: &'static str,
}

impl Forward for Affine {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.weight)?.mul(&self.scale)
    }
}

#[test]
fn derive_and_sequential_resolve_through_lolcore() -> Result<()> {
    let a = Affine {
        weight: Tensor::ones(&[2, 3], &Device::Cpu)?.requires_grad(true),
        scale: Tensor::full(2.0, &[3], &Device::Cpu)?,
        _note: "plain data",
    };
    let names: Vec<String> = a.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "scale"]);
    assert_eq!(a.num_parameters(), 6);
    let net = lolcore::sequential![a, |x: &Tensor| x.relu()];
    let y = net.forward(&Tensor::ones(&[1, 2], &Device::Cpu)?)?;
    assert_eq!(y.to_vec::<f32>()?, vec![4.0; 3]);
    assert_eq!(net.named_parameters()[0].0, "0.weight");
    Ok(())
}
