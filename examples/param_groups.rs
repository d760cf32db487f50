//! S9: one optimizer over two parameter groups with their own learning rates (features
//! at lr, classifier at lr/2), and the rates changed during training.
use keras::prelude::*;

#[derive(Module)]
pub struct Net {
    pub features: Dense,
    pub classifier: Dense,
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.classifier.forward(&self.features.forward(x)?.relu()?)
    }
}

/// For each step: (features lr, classifier lr, the step each group's parameters took
/// divided by its gradient: that ratio is −lr for plain SGD).
pub fn run() -> Result<Vec<(f64, f64, f64, f64)>> {
    manual_seed(0);
    let net = Net { features: Dense::new(4, 8), classifier: Dense::new(8, 2) };
    let lr = 0.1;
    let mut opt = Sgd::new(lr);
    opt.add_param_group(net.features.parameters(), None)?;
    opt.add_param_group(net.classifier.parameters(), Some(lr / 2.0))?;
    let x = Tensor::randn(&[16, 4], &Device::Cpu)?;
    let y = Tensor::randn(&[16, 2], &Device::Cpu)?;
    let mut out = Vec::new();
    for step in 0..4 {
        if step == 2 {
            // Change the rates mid-training, keeping the ratio.
            for g in opt.param_groups_mut() {
                g.lr *= 0.1;
            }
        }
        let loss = net.forward(&x)?.sub(&y)?.sqr()?.mean_all()?;
        let grads = loss.backward()?;
        let (wf, wc) = (net.features.weight.deep_copy()?, net.classifier.weight.deep_copy()?);
        opt.step(&grads)?;
        let ratio = |before: &Tensor, after: &Tensor, p: &Tensor| -> Result<f64> {
            let g = grads.get(p).ok_or_else(|| Error::msg("missing gradient"))?;
            let (d, g) = (after.sub(before)?.to_vec::<f32>()?, g.to_vec::<f32>()?);
            // The largest-gradient element gives the cleanest ratio.
            let (k, _) = g.iter().enumerate().fold((0, 0f32), |b, (i, v)| if v.abs() > b.1 { (i, v.abs()) } else { b });
            Ok((d[k] / g[k]) as f64)
        };
        let groups = opt.param_groups();
        out.push((
            groups[0].lr,
            groups[1].lr,
            ratio(&wf, &net.features.weight, &net.features.weight)?,
            ratio(&wc, &net.classifier.weight, &net.classifier.weight)?,
        ));
    }
    Ok(out)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for (s, (lf, lc, rf, rc)) in run()?.into_iter().enumerate() {
        println!("step {s}: features lr {lf:.4} (update/grad {rf:.4}), classifier lr {lc:.4} (update/grad {rc:.4})");
    }
    Ok(())
}
