//! Optimizer update rules on the CPU: each one pass over a parameter, its gradient and
//! its state, in place.

use super::parallel::par_chunks_mut;
use super::storage::CpuStorage;
use crate::error::{bail, Error, Result};
use crate::optim::UpdateRule;

/// Elements per parallel chunk of an update.
const CHUNK: usize = 1 << 15;

/// Applies `rule` to one parameter. `states` holds the rule's state buffers in the order
/// `UpdateRule::state_count` documents. All buffers are contiguous f32 of one length.
pub fn apply(
    rule: &UpdateRule,
    param: &mut CpuStorage,
    grad: &CpuStorage,
    states: &mut [&mut CpuStorage],
) -> Result<()> {
    let CpuStorage::F32(p) = param else {
        bail!(Error::dtype("optimizer", format!("parameters must be f32, got {}", param.dtype())))
    };
    let CpuStorage::F32(g) = grad else {
        bail!(Error::dtype("optimizer", format!("gradients must be f32, got {}", grad.dtype())))
    };
    let mut st: Vec<&mut [f32]> = Vec::with_capacity(states.len());
    for s in states.iter_mut() {
        match &mut **s {
            CpuStorage::F32(b) => st.push(&mut b[..]),
            other => bail!(Error::dtype("optimizer", format!("state must be f32, got {}", other.dtype()))),
        }
    }
    let n = p.len();
    if g.len() != n || st.iter().any(|s| s.len() != n) {
        bail!(Error::shape("optimizer", "parameter, gradient and state sizes differ"));
    }
    // Chunk everything in step; each chunk is independent.
    let ptrs: Vec<super::parallel::SyncPtr<f32>> =
        st.iter_mut().map(|s| super::parallel::SyncPtr(s.as_mut_ptr())).collect();
    let g = &g[..];
    par_chunks_mut(&mut p[..], CHUNK, |c, pc| {
        let start = c * CHUNK;
        let len = pc.len();
        // SAFETY: chunk c of each state buffer is touched only by this task.
        let mut sc: Vec<&mut [f32]> =
            ptrs.iter().map(|q| unsafe { std::slice::from_raw_parts_mut(q.0.add(start), len) }).collect();
        update_chunk(rule, pc, &g[start..start + len], &mut sc);
    });
    Ok(())
}

fn update_chunk(rule: &UpdateRule, p: &mut [f32], g: &[f32], s: &mut [&mut [f32]]) {
    match *rule {
        UpdateRule::Sgd { lr, momentum, dampening, nesterov, weight_decay, first } => {
            let (lr, m, damp, wd) = (lr as f32, momentum as f32, dampening as f32, weight_decay as f32);
            if momentum == 0.0 {
                for (pi, &gi) in p.iter_mut().zip(g) {
                    let d = gi + wd * *pi;
                    *pi -= lr * d;
                }
                return;
            }
            let buf = &mut *s[0];
            for ((pi, &gi), bi) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
                let d = gi + wd * *pi;
                *bi = if first { d } else { m * *bi + (1.0 - damp) * d };
                let step = if nesterov { d + m * *bi } else { *bi };
                *pi -= lr * step;
            }
        }
        UpdateRule::Adam { lr, beta1, beta2, eps, weight_decay, decoupled, step } => {
            let (b1, b2) = (beta1 as f32, beta2 as f32);
            let bc1 = 1.0 - beta1.powi(step as i32);
            let bc2 = 1.0 - beta2.powi(step as i32);
            let step_size = (lr / bc1) as f32;
            let bc2_sqrt = bc2.sqrt() as f32;
            let (eps, wd, lr) = (eps as f32, weight_decay as f32, lr as f32);
            let (ms, vs) = s.split_at_mut(1);
            let (m, v) = (&mut *ms[0], &mut *vs[0]);
            for (((pi, &gi), mi), vi) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let mut d = gi;
                if decoupled {
                    *pi *= 1.0 - lr * wd;
                } else {
                    d += wd * *pi;
                }
                *mi = b1 * *mi + (1.0 - b1) * d;
                *vi = b2 * *vi + (1.0 - b2) * d * d;
                let denom = vi.sqrt() / bc2_sqrt + eps;
                *pi -= step_size * *mi / denom;
            }
        }
        UpdateRule::RmsProp { lr, alpha, eps, weight_decay, momentum, centered } => {
            let (lr, a, eps, wd, mo) = (lr as f32, alpha as f32, eps as f32, weight_decay as f32, momentum as f32);
            let mut it = s.iter_mut();
            let sq = it.next().map(|x| &mut **x);
            let buf = if momentum > 0.0 { it.next().map(|x| &mut **x) } else { None };
            let ga = if centered { it.next().map(|x| &mut **x) } else { None };
            let Some(sq) = sq else { return };
            let (mut buf, mut ga) = (buf, ga);
            for i in 0..p.len() {
                let d = g[i] + wd * p[i];
                sq[i] = a * sq[i] + (1.0 - a) * d * d;
                let avg = match ga.as_deref_mut() {
                    Some(ga) => {
                        ga[i] = a * ga[i] + (1.0 - a) * d;
                        (sq[i] - ga[i] * ga[i]).sqrt() + eps
                    }
                    None => sq[i].sqrt() + eps,
                };
                match buf.as_deref_mut() {
                    Some(b) => {
                        b[i] = mo * b[i] + d / avg;
                        p[i] -= lr * b[i];
                    }
                    None => p[i] -= lr * d / avg,
                }
            }
        }
        UpdateRule::Adagrad { lr, eps, weight_decay, lr_decay, step } => {
            let clr = (lr / (1.0 + (step as f64 - 1.0) * lr_decay)) as f32;
            let (eps, wd) = (eps as f32, weight_decay as f32);
            let sum = &mut *s[0];
            for ((pi, &gi), si) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let d = gi + wd * *pi;
                *si += d * d;
                *pi -= clr * d / (si.sqrt() + eps);
            }
        }
    }
}
