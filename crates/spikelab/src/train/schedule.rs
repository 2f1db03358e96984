//! Learning-rate schedules as a function of training progress.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    #[default]
    Constant,
    /// Multiply by `gamma` every `every` epochs.
    Step { every: usize, gamma: f32 },
    /// Cosine from the base rate down to `min_lr` over the whole run, updated every batch.
    Cosine {
        #[serde(default)]
        min_lr: f32,
    },
}

impl Schedule {
    pub fn validate(&self) -> Result<()> {
        match *self {
            Schedule::Step { every, gamma } if every == 0 || !(gamma > 0.0 && gamma.is_finite()) => Err(Error::config("train.schedule", "step needs every ≥ 1 and gamma > 0")),
            Schedule::Cosine { min_lr } if min_lr.is_nan() || min_lr < 0.0 => Err(Error::config("train.schedule.min_lr", "must be ≥ 0")),
            _ => Ok(()),
        }
    }

    /// Learning rate at `epoch` (0-based) plus `fraction` ∈ [0, 1) of it, of `epochs` in all.
    pub fn lr(&self, base: f32, epoch: usize, fraction: f64, epochs: usize) -> f32 {
        match *self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((epoch / every) as i32),
            Schedule::Cosine { min_lr } => {
                let progress = ((epoch as f64 + fraction) / epochs.max(1) as f64).min(1.0);
                min_lr + (base - min_lr) * (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_by_hand() {
        assert_eq!(Schedule::Constant.lr(0.1, 5, 0.5, 10), 0.1);
        let step = Schedule::Step { every: 2, gamma: 0.5 };
        assert_eq!((step.lr(1.0, 1, 0.0, 9), step.lr(1.0, 2, 0.0, 9), step.lr(1.0, 5, 0.0, 9)), (1.0, 0.5, 0.25));
        let cos = Schedule::Cosine { min_lr: 0.0 };
        assert!((cos.lr(1.0, 0, 0.0, 4) - 1.0).abs() < 1e-6);
        assert!((cos.lr(1.0, 2, 0.0, 4) - 0.5).abs() < 1e-6);
        assert!(cos.lr(1.0, 3, 0.999, 4) < 1e-4);
    }
}
