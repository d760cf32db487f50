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
    /// `Epoch 3/10 - 63/63 - 0.8s 12ms/step - loss: 0.2134 - accuracy: 0.9312`
    fn epoch_line(&self, logs: &Logs) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        format!("{} - {}/{} - {secs:.1}s {} - {logs}", self.header, self.steps, self.steps, self.per_step(self.steps))
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
            Verbosity::EpochLines => println!("{}", self.epoch_line(logs)),
            Verbosity::Silent => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_line_reads_like_keras() {
        let mut p = Progress::new(Verbosity::EpochLines);
        p.begin_epoch(2, 10, 63);
        let mut logs = Logs::new();
        logs.set("loss", 0.21344);
        logs.set("accuracy", 0.93121);
        logs.set("val_loss", 0.3);
        let line = p.epoch_line(&logs);
        assert!(line.starts_with("Epoch 3/10 - 63/63 - 0.0s "), "{line}");
        assert!(line.ends_with("/step - loss: 0.2134 - accuracy: 0.9312 - val_loss: 0.3000"), "{line}");
        // Not a terminal under the test harness: a bar request falls back to lines.
        assert_eq!(Progress::new(Verbosity::ProgressBar).mode, Verbosity::EpochLines);
    }
}
