//! S12: Conv2D(1, 20, 5) → ReLU → Conv2D(20, 20, 5) → ReLU, as a struct and as a
//! sequential with named children; names and output shape as PyTorch gives.
use keras::prelude::*;

#[derive(Module)]
pub struct ConvModel {
    conv1: Conv2D,
    conv2: Conv2D,
}

impl Forward for ConvModel {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv2.forward(&self.conv1.forward(x)?.relu()?)?.relu()
    }
}

pub struct Described {
    pub names: Vec<(String, Vec<usize>)>,
    pub output_shape: Vec<usize>,
}

fn describe<M: Module + Forward>(m: &M) -> Result<Described> {
    let x = Tensor::randn(&[1, 1, 28, 28], &Device::Cpu)?;
    Ok(Described {
        names: m.state_dict().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect(),
        output_shape: m.forward(&x)?.shape().to_vec(),
    })
}

/// (the struct's description, the sequential's description)
pub fn run() -> Result<(Described, Described)> {
    manual_seed(0);
    let module = ConvModel { conv1: Conv2D::new(1, 20, 5), conv2: Conv2D::new(20, 20, 5) };
    let seq = sequential![conv1: Conv2D::new(1, 20, 5), relu1: Relu, conv2: Conv2D::new(20, 20, 5), relu2: Relu];
    Ok((describe(&module)?, describe(&seq)?))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (m, s) = run()?;
    for (label, d) in [("module", m), ("sequential", s)] {
        println!("{label}: output {:?}", d.output_shape);
        for (n, shape) in d.names {
            println!("  {n}: {shape:?}");
        }
    }
    Ok(())
}
