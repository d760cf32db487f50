//! S11: a forward with ordinary Rust control flow. A list of 10 Dense(10, 10) layers,
//! used as `x = linears[i / 2](x) + linears[i](x)` for as many layers as the step asks;
//! gradients reach exactly the layers that ran.
use keras::prelude::*;

#[derive(Module)]
pub struct ModuleListNet {
    linears: Vec<Dense>,
}

impl ModuleListNet {
    pub fn new() -> Self {
        ModuleListNet { linears: (0..10).map(|_| Dense::new(10, 10)).collect() }
    }
    /// Runs the first `depth` layers (the graph differs per call).
    pub fn forward_depth(&self, x: &Tensor, depth: usize) -> Result<Tensor> {
        let mut x = x.clone();
        for (i, l) in self.linears.iter().take(depth).enumerate() {
            x = self.linears[i / 2].forward(&x)?.add(&l.forward(&x)?)?;
        }
        Ok(x)
    }
}

impl Default for ModuleListNet {
    fn default() -> Self {
        Self::new()
    }
}

impl Forward for ModuleListNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_depth(x, self.linears.len())
    }
}

/// For each depth, the names of the parameters that received a gradient.
pub fn run(depths: &[usize]) -> Result<Vec<Vec<String>>> {
    manual_seed(0);
    let net = ModuleListNet::new();
    let x = Tensor::randn(&[4, 10], &Device::Cpu)?;
    let mut reached = Vec::new();
    for &d in depths {
        let grads = net.forward_depth(&x, d)?.sqr()?.mean_all()?.backward()?;
        reached
            .push(net.named_parameters().into_iter().filter(|(_, p)| grads.get(p).is_some()).map(|(n, _)| n).collect());
    }
    Ok(reached)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for (d, names) in [1, 3, 10].iter().zip(run(&[1, 3, 10])?) {
        println!("depth {d}: gradients for {names:?}");
    }
    Ok(())
}
