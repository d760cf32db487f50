//! Learning-rate schedules. Each scales every parameter group's *initial* learning rate
//! (captured on the first call), like PyTorch's schedulers; `step` is called once per
//! epoch.

use super::Optimizer;

/// A schedule: the learning-rate factor for `epoch` (0-based, the epoch about to run).
pub trait LrSchedule: Send {
    /// The multiplier on each group's initial learning rate for `epoch`.
    fn factor(&self, epoch: usize) -> f64;
}

/// Sets every group's lr to `initial · schedule.factor(epoch)`. `initial` holds the groups'
/// initial rates (filled on the first call).
pub fn apply_schedule(schedule: &dyn LrSchedule, opt: &mut dyn Optimizer, initial: &mut Vec<f64>, epoch: usize) {
    if initial.len() != opt.param_groups().len() {
        *initial = opt.param_groups().iter().map(|g| g.lr).collect();
    }
    let f = schedule.factor(epoch);
    for (g, &lr0) in opt.param_groups_mut().iter_mut().zip(initial.iter()) {
        g.lr = lr0 * f;
    }
}

/// Multiplies the rate by `gamma` every `step_size` epochs (`StepLR`).
#[derive(Clone, Copy, Debug)]
pub struct StepLr {
    pub step_size: usize,
    pub gamma: f64,
}

impl LrSchedule for StepLr {
    fn factor(&self, epoch: usize) -> f64 {
        self.gamma.powi((epoch / self.step_size.max(1)) as i32)
    }
}

/// Multiplies the rate by `gamma` every epoch (`ExponentialLR`).
#[derive(Clone, Copy, Debug)]
pub struct ExponentialLr {
    pub gamma: f64,
}

impl LrSchedule for ExponentialLr {
    fn factor(&self, epoch: usize) -> f64 {
        self.gamma.powi(epoch as i32)
    }
}

/// Cosine annealing from the initial rate to `eta_min_factor · initial` over `t_max`
/// epochs (`CosineAnnealingLR`, expressed as a fraction of the initial rate).
#[derive(Clone, Copy, Debug)]
pub struct CosineAnnealingLr {
    pub t_max: usize,
    pub eta_min_factor: f64,
}

impl LrSchedule for CosineAnnealingLr {
    fn factor(&self, epoch: usize) -> f64 {
        let t = (epoch as f64).min(self.t_max.max(1) as f64);
        let cos = (std::f64::consts::PI * t / self.t_max.max(1) as f64).cos();
        self.eta_min_factor + (1.0 - self.eta_min_factor) * (1.0 + cos) / 2.0
    }
}

/// Whether a smaller or a larger monitored value is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plateau {
    Min,
    Max,
}

/// Multiplies the rates by `factor` when a metric stops improving: PyTorch's
/// `lr_scheduler.ReduceLROnPlateau`, for hand-written loops (`Model::fit` users take the
/// `keras::callbacks::ReduceLrOnPlateau` callback, which drives one of these).
#[derive(Clone, Debug)]
pub struct PlateauScheduler {
    pub mode: Plateau,
    pub factor: f64,
    pub patience: usize,
    /// Relative improvement needed to count as better.
    pub threshold: f64,
    pub cooldown: usize,
    pub min_lr: f64,
    best: Option<f64>,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl PlateauScheduler {
    /// The best value so far, the epochs without improvement and the cooldown left (to
    /// save in a training checkpoint).
    pub fn progress(&self) -> (Option<f64>, usize, usize) {
        (self.best, self.bad_epochs, self.cooldown_left)
    }
    /// Restores what `progress` returned.
    pub fn set_progress(&mut self, best: Option<f64>, bad_epochs: usize, cooldown_left: usize) {
        (self.best, self.bad_epochs, self.cooldown_left) = (best, bad_epochs, cooldown_left);
    }
    /// factor 0.1, patience 10, threshold 1e-4, no cooldown, min_lr 0 (PyTorch's defaults).
    pub fn new(mode: Plateau) -> Self {
        PlateauScheduler {
            mode,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            bad_epochs: 0,
            cooldown_left: 0,
        }
    }
    pub fn factor(mut self, f: f64) -> Self {
        self.factor = f;
        self
    }
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    pub fn min_lr(mut self, lr: f64) -> Self {
        self.min_lr = lr;
        self
    }
    pub fn cooldown(mut self, c: usize) -> Self {
        self.cooldown = c;
        self
    }
    fn improved(&self, v: f64) -> bool {
        match (self.best, self.mode) {
            (None, _) => true,
            (Some(b), Plateau::Min) => v < b * (1.0 - self.threshold.copysign(b)),
            (Some(b), Plateau::Max) => v > b * (1.0 + self.threshold.copysign(b)),
        }
    }
    /// Feeds one epoch's metric; lowers the rates of `opt` when it has plateaued.
    /// Returns true when it lowered them.
    pub fn step(&mut self, metric: f64, opt: &mut dyn Optimizer) -> bool {
        if metric.is_nan() {
            return false;
        }
        if self.improved(metric) {
            self.best = Some(metric);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            let mut lowered = false;
            for g in opt.param_groups_mut() {
                let new = (g.lr * self.factor).max(self.min_lr);
                if g.lr - new > 1e-12 {
                    g.lr = new;
                    lowered = true;
                }
            }
            self.cooldown_left = self.cooldown;
            self.bad_epochs = 0;
            return lowered;
        }
        false
    }
}
