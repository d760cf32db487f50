//! Optimizer update rules on the CPU: each one pass over a parameter, its gradient and
//! its state, in place.

use super::storage::{CpuElem, CpuStorage};
use super::thread_pool::par_chunks_mut;
use super::thread_pool::SyncPtr;
use crate::dtype::FloatElem;
use crate::error::{bail, Error, Result};
use crate::optim::UpdateRule;

/// Elements per parallel chunk of an update.
const CHUNK: usize = 1 << 15;

/// Applies `rule` to the parameter held in `param[range]`. `states` holds the rule's
/// state buffers in the order `UpdateRule::state_count` documents; they and the gradient
/// are compact, of the parameter's dtype (f32 or f64) and the range's length.
pub fn apply(
    rule: &UpdateRule,
    param: &mut CpuStorage,
    range: std::ops::Range<usize>,
    grad: &CpuStorage,
    states: &mut [&mut CpuStorage],
) -> Result<()> {
    match param {
        CpuStorage::F32(p) => apply_typed::<f32>(rule, p, range, grad, states),
        CpuStorage::F64(p) => apply_typed::<f64>(rule, p, range, grad, states),
        other => bail!(Error::dtype("optimizer", format!("parameters must be f32 or f64, got {}", other.dtype()))),
    }
}

fn apply_typed<T: FloatElem + CpuElem>(
    rule: &UpdateRule,
    p: &mut [T],
    range: std::ops::Range<usize>,
    grad: &CpuStorage,
    states: &mut [&mut CpuStorage],
) -> Result<()> {
    let Some(p) = p.get_mut(range) else { bail!(Error::msg("internal: parameter range outside its storage")) };
    let Some(g) = T::slice(grad) else {
        bail!(Error::dtype("optimizer", format!("the gradient is {}, the parameter {}", grad.dtype(), T::DTYPE)))
    };
    let mut st: Vec<&mut [T]> = Vec::with_capacity(states.len());
    for s in states.iter_mut() {
        let dt = s.dtype();
        match T::slice_mut(s) {
            Some(b) => st.push(b),
            None => bail!(Error::dtype("optimizer", format!("state is {dt}, the parameter {}", T::DTYPE))),
        }
    }
    let n = p.len();
    if g.len() != n || st.iter().any(|s| s.len() != n) {
        bail!(Error::shape("optimizer", "parameter, gradient and state sizes differ"));
    }
    // Chunk everything in step; each chunk is independent.
    let ptrs: Vec<SyncPtr<T>> = st.iter_mut().map(|s| SyncPtr(s.as_mut_ptr())).collect();
    par_chunks_mut(p, CHUNK, |c, pc| {
        let start = c * CHUNK;
        let len = pc.len();
        // SAFETY: chunk c of each state buffer is touched only by this task.
        let mut sc: Vec<&mut [T]> =
            ptrs.iter().map(|q| unsafe { std::slice::from_raw_parts_mut(q.0.add(start), len) }).collect();
        update_chunk(rule, pc, &g[start..start + len], &mut sc);
    });
    Ok(())
}

fn update_chunk<T: FloatElem>(rule: &UpdateRule, p: &mut [T], g: &[T], s: &mut [&mut [T]]) {
    let c = T::from_f64;
    let one = T::one();
    match *rule {
        UpdateRule::Sgd { lr, momentum, dampening, nesterov, weight_decay, first } => {
            let (lr, m, damp, wd) = (c(lr), c(momentum), c(dampening), c(weight_decay));
            if momentum == 0.0 {
                for (pi, &gi) in p.iter_mut().zip(g) {
                    let d = gi + wd * *pi;
                    *pi = *pi - lr * d;
                }
                return;
            }
            let buf = &mut *s[0];
            for ((pi, &gi), bi) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
                let d = gi + wd * *pi;
                *bi = if first { d } else { m * *bi + (one - damp) * d };
                let step = if nesterov { d + m * *bi } else { *bi };
                *pi = *pi - lr * step;
            }
        }
        UpdateRule::Adam { lr, beta1, beta2, eps, weight_decay, decoupled, step } => {
            let (b1, b2) = (c(beta1), c(beta2));
            let bc1 = 1.0 - beta1.powi(step as i32);
            let bc2 = 1.0 - beta2.powi(step as i32);
            let step_size = c(lr / bc1);
            let bc2_sqrt = c(bc2.sqrt());
            let (eps, wd, lr) = (c(eps), c(weight_decay), c(lr));
            let (ms, vs) = s.split_at_mut(1);
            let (m, v) = (&mut *ms[0], &mut *vs[0]);
            for (((pi, &gi), mi), vi) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let mut d = gi;
                if decoupled {
                    *pi = *pi * (one - lr * wd);
                } else {
                    d = d + wd * *pi;
                }
                *mi = b1 * *mi + (one - b1) * d;
                *vi = b2 * *vi + (one - b2) * d * d;
                let denom = vi.sqrt() / bc2_sqrt + eps;
                *pi = *pi - step_size * *mi / denom;
            }
        }
        UpdateRule::RmsProp { lr, alpha, eps, weight_decay, momentum, centered } => {
            let (lr, a, eps, wd, mo) = (c(lr), c(alpha), c(eps), c(weight_decay), c(momentum));
            let mut it = s.iter_mut();
            let sq = it.next().map(|x| &mut **x);
            let buf = if momentum > 0.0 { it.next().map(|x| &mut **x) } else { None };
            let ga = if centered { it.next().map(|x| &mut **x) } else { None };
            let Some(sq) = sq else { return };
            let (mut buf, mut ga) = (buf, ga);
            for i in 0..p.len() {
                let d = g[i] + wd * p[i];
                sq[i] = a * sq[i] + (one - a) * d * d;
                let avg = match ga.as_deref_mut() {
                    Some(ga) => {
                        ga[i] = a * ga[i] + (one - a) * d;
                        (sq[i] - ga[i] * ga[i]).sqrt() + eps
                    }
                    None => sq[i].sqrt() + eps,
                };
                match buf.as_deref_mut() {
                    Some(b) => {
                        b[i] = mo * b[i] + d / avg;
                        p[i] = p[i] - lr * b[i];
                    }
                    None => p[i] = p[i] - lr * d / avg,
                }
            }
        }
        UpdateRule::Adagrad { lr, eps, weight_decay, lr_decay, step } => {
            let clr = c(lr / (1.0 + (step as f64 - 1.0) * lr_decay));
            let (eps, wd) = (c(eps), c(weight_decay));
            let sum = &mut *s[0];
            for ((pi, &gi), si) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let d = gi + wd * *pi;
                *si = *si + d * d;
                *pi = *pi - clr * d / (si.sqrt() + eps);
            }
        }
    }
}
