//! Progress: a bar with rate and ETA on a terminal, plain log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct EpochProgress {
    bar: Option<ProgressBar>,
}

impl EpochProgress {
    pub fn start(epoch: usize, epochs: usize, samples: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return EpochProgress { bar: None };
        }
        let bar = ProgressBar::new(samples as u64);
        bar.set_style(ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}").expect("valid template").progress_chars("=> "));
        bar.set_prefix(format!("{epoch}/{epochs}"));
        EpochProgress { bar: Some(bar) }
    }

    pub fn update(&self, samples_done: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(samples_done as u64);
            bar.set_message(format!("{:.0} samples/s, loss {loss:.4}", bar.per_sec()));
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
