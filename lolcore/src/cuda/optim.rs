//! Fused optimizer updates on CUDA: the parameters of a step go through one launch per
//! 24 tensors (blockIdx.y picks the tensor), each a single pass over parameter,
//! gradient and state.

use super::{gpu, launch, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::optim::UpdateRule;
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{DType, Device};
use lol_kernels::cudarc::driver::{DeviceRepr, LaunchConfig, PushKernelArg};

const MAX_TENSORS: usize = 24;

/// The kernels' `struct TensorList`.
#[repr(C)]
#[derive(Clone, Copy)]
struct TensorList {
    p: [u64; MAX_TENSORS],
    g: [u64; MAX_TENSORS],
    s0: [u64; MAX_TENSORS],
    s1: [u64; MAX_TENSORS],
    s2: [u64; MAX_TENSORS],
    n: [u64; MAX_TENSORS],
    h0: [f32; MAX_TENSORS],
    h1: [f32; MAX_TENSORS],
}

// SAFETY: a plain C struct of integers and floats, laid out as the kernels declare it.
unsafe impl DeviceRepr for TensorList {}

/// One parameter's update: pointers and its per-tensor scalars.
pub struct Slot {
    pub rule: UpdateRule,
    pub p: u64,
    pub g: u64,
    pub states: Vec<u64>,
    pub n: usize,
}

fn ptr_of(t: &Tensor) -> Result<u64> {
    let s = t.storage();
    match &*s {
        Storage::Cuda(c) if c.dtype == DType::F32 => Ok(c.ptr() + (t.layout().offset() * 4) as u64),
        Storage::Cuda(c) => {
            bail!(Error::dtype("optimizer", format!("fused CUDA updates need f32 tensors, got {}", c.dtype)))
        }
        Storage::Cpu(_) => bail!(Error::msg("internal: CPU tensor in a CUDA update")),
    }
}

/// Applies `items` (all contiguous f32 on one CUDA device, gradients made contiguous)
/// in as few launches as the rules allow.
pub fn apply_multi(device: &Device, items: &[(&Tensor, Tensor, UpdateRule, Vec<Tensor>)]) -> Result<()> {
    let Device::Cuda(ord) = device else { bail!(Error::msg("internal: CUDA update on the CPU")) };
    let dev = gpu(*ord)?;
    let mut slots = Vec::with_capacity(items.len());
    for (p, g, rule, states) in items {
        slots.push(Slot {
            rule: *rule,
            p: ptr_of(p)?,
            g: ptr_of(g)?,
            states: states.iter().map(ptr_of).collect::<Result<_>>()?,
            n: p.numel(),
        });
    }
    // Tensors with the same kernel scalars share a launch; per-tensor scalars ride along.
    let mut start = 0;
    while start < slots.len() {
        let mut end = start + 1;
        while end < slots.len() && end - start < MAX_TENSORS && same_launch(&slots[start].rule, &slots[end].rule) {
            end += 1;
        }
        launch_group(&dev, &slots[start..end])?;
        start = end;
    }
    Ok(())
}

/// Whether two rules differ only in per-tensor scalars (the step count).
fn same_launch(a: &UpdateRule, b: &UpdateRule) -> bool {
    strip(a) == strip(b)
}

/// The rule with its per-tensor step removed.
fn strip(r: &UpdateRule) -> UpdateRule {
    match *r {
        UpdateRule::Adam { lr, beta1, beta2, eps, weight_decay, decoupled, .. } => {
            UpdateRule::Adam { lr, beta1, beta2, eps, weight_decay, decoupled, step: 0 }
        }
        UpdateRule::Adagrad { lr, eps, weight_decay, lr_decay, .. } => {
            UpdateRule::Adagrad { lr, eps, weight_decay, lr_decay, step: 0 }
        }
        other => other,
    }
}

fn launch_group(dev: &std::sync::Arc<lol_kernels::GpuDevice>, slots: &[Slot]) -> Result<()> {
    let mut list = TensorList {
        p: [0; MAX_TENSORS],
        g: [0; MAX_TENSORS],
        s0: [0; MAX_TENSORS],
        s1: [0; MAX_TENSORS],
        s2: [0; MAX_TENSORS],
        n: [0; MAX_TENSORS],
        h0: [0.0; MAX_TENSORS],
        h1: [0.0; MAX_TENSORS],
    };
    for (i, s) in slots.iter().enumerate() {
        list.p[i] = s.p;
        list.g[i] = s.g;
        list.n[i] = s.n as u64;
        let st = |k: usize| s.states.get(k).copied().unwrap_or(0);
        (list.s0[i], list.s1[i], list.s2[i]) = (st(0), st(1), st(2));
        match s.rule {
            UpdateRule::Adam { lr, beta1, beta2, step, .. } => {
                list.h0[i] = (lr / (1.0 - beta1.powi(step as i32))) as f32;
                list.h1[i] = (1.0 - beta2.powi(step as i32)).sqrt() as f32;
            }
            UpdateRule::Adagrad { lr, lr_decay, step, .. } => {
                list.h0[i] = (lr / (1.0 + (step as f64 - 1.0) * lr_decay)) as f32
            }
            _ => {}
        }
    }
    let count = slots.len() as i32;
    let longest = slots.iter().map(|s| s.n).max().unwrap_or(0);
    let cfg = LaunchConfig {
        grid_dim: (longest.div_ceil(256).clamp(1, 1024) as u32, slots.len() as u32, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let name = match slots[0].rule {
        UpdateRule::Sgd { .. } => "sgd_f32",
        UpdateRule::Adam { .. } => "adam_f32",
        UpdateRule::RmsProp { .. } => "rmsprop_f32",
        UpdateRule::Adagrad { .. } => "adagrad_f32",
    };
    let f = dev.function("optim", name).map_err(Error::Cuda)?;
    let mut b = dev.stream.launch_builder(&f);
    b.arg(&list).arg(&count);
    // Scalars common to the launch, as f32 (and ints for flags).
    let f = |v: f64| v as f32;
    let scalars: Vec<f32>;
    let flags: Vec<i32>;
    match slots[0].rule {
        UpdateRule::Sgd { lr, momentum, dampening, nesterov, weight_decay, first } => {
            scalars = vec![f(lr), f(momentum), f(dampening)];
            flags = vec![nesterov as i32];
            b.arg(&scalars[0]).arg(&scalars[1]).arg(&scalars[2]).arg(&flags[0]);
            let (wd, fi) = (f(weight_decay), first as i32);
            b.arg(&wd).arg(&fi);
            return launch(b, cfg, name);
        }
        UpdateRule::Adam { lr, beta1, beta2, eps, weight_decay, decoupled, .. } => {
            scalars = vec![f(lr), f(beta1), f(beta2), f(eps), f(weight_decay)];
            flags = vec![decoupled as i32];
        }
        UpdateRule::RmsProp { lr, alpha, eps, weight_decay, momentum, centered } => {
            scalars = vec![f(lr), f(alpha), f(eps), f(weight_decay), f(momentum)];
            flags = vec![centered as i32];
        }
        UpdateRule::Adagrad { eps, weight_decay, .. } => {
            scalars = vec![f(eps), f(weight_decay)];
            flags = vec![];
        }
    }
    for s in &scalars {
        b.arg(s);
    }
    for fl in &flags {
        b.arg(fl);
    }
    launch(b, cfg, name)
}

impl CudaStorage {
    /// One parameter's update (the multi-tensor path is `apply_multi`).
    pub fn optim_update(&mut self, _rule: &UpdateRule, _grad: &Self, _states: &mut [&mut Storage]) -> Result<()> {
        bail!(Error::msg("internal: CUDA parameters are updated through the multi-tensor path"))
    }
}
