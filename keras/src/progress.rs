//! Keras-style progress: a bar per epoch in a terminal
//! (`Epoch 3/10 ━━━━━━━━━━━━━━━━━━━━ 63/63 12ms/step - loss: 0.2134 - accuracy: 0.9312`),
//! one line per epoch when stdout is not a terminal, nothing when quiet. The running
//! values are read from the device at most every 100 ms.

use crate::logs::Logs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How much `fit` prints (Keras's `verbose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// 0: nothing.
    Silent,
    /// 1: a progress bar per epoch (one line per epoch when stdout is not a terminal).
    #[default]
    ProgressBar,
    /// 2: one line per epoch.
    EpochLines,
}

const REFRESH: Duration = Duration::from_millis(100);

pub(crate) struct Progress {
    mode: Verbosity,
    bar: Option<ProgressBar>,
    header: String,
    steps: usize,
    started: Instant,
    last_refresh: Instant,
}

impl Progress {
    pub fn new(v: Verbosity) -> Self {
        let mode = match v {
            Verbosity::ProgressBar if !std::io::stdout().is_terminal() => Verbosity::EpochLines,
            other => other,
        };
        Progress {
            mode,
            bar: None,
            header: String::new(),
            steps: 0,
            started: Instant::now(),
            last_refresh: Instant::now(),
        }
    }
    pub fn begin_epoch(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.header = format!("Epoch {}/{}", epoch + 1, epochs);
        self.steps = steps;
        self.started = Instant::now();
        self.last_refresh = Instant::now() - REFRESH;
        if self.mode == Verbosity::ProgressBar {
            let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template("{prefix} {bar:20} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("━━─");
            bar.set_style(style);
            bar.set_prefix(self.header.clone());
            self.bar = Some(bar);
        }
    }
    /// Whether the display wants fresh values now (so the caller reads the device).
    pub fn wants_refresh(&self) -> bool {
        self.mode == Verbosity::ProgressBar && self.last_refresh.elapsed() >= REFRESH
    }
    fn per_step(&self, done: usize) -> String {
        let ms = self.started.elapsed().as_secs_f64() * 1000.0 / done.max(1) as f64;
        if ms >= 1.0 {
            format!("{ms:.0}ms/step")
        } else {
            format!("{:.0}us/step", ms * 1000.0)
        }
    }
    pub fn update(&mut self, done: usize, logs: Option<&Logs>) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            if let Some(l) = logs {
                bar.set_message(format!("{} - {l}", self.per_step(done)));
                self.last_refresh = Instant::now();
            }
        }
    }
    pub fn end_epoch(&mut self, logs: &Logs) {
        let line = format!("{} - {l}", self.per_step(self.steps), l = logs);
        match self.mode {
            Verbosity::ProgressBar => {
                if let Some(bar) = self.bar.take() {
                    bar.set_position(self.steps as u64);
                    bar.finish_with_message(line);
                }
            }
            Verbosity::EpochLines => {
                let secs = self.started.elapsed().as_secs_f64();
                println!("{} - {}/{} - {secs:.1}s {line}", self.header, self.steps, self.steps);
            }
            Verbosity::Silent => {}
        }
    }
}
