//! The noise-robustness test of Ahmad & Scheinkman (2019, htmpapers `RandomNoise`): at noise
//! level ν, exactly `⌊n·ν⌋` of a sample's n values, chosen uniformly without replacement, are
//! set to one fixed value (for MNIST 0.1307 + 2·0.3081 = 0.7469 on the raw [0, 1] intensity,
//! before normalisation). The noise score is the number of correct test answers summed over
//! the levels.

use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// MNIST's mean plus two standard deviations, on [0, 1] intensities.
pub const MNIST_NOISE_VALUE: f32 = 0.1307 + 2.0 * 0.3081;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseTest {
    /// Fractions of values replaced; default 0, 0.05, …, 0.5 (the paper's 11 levels).
    #[serde(default = "NoiseTest::default_levels")]
    pub levels: Vec<f64>,
    /// The replacement value on the encoder's [0, 1] scale; default MNIST's 0.7469.
    #[serde(default = "NoiseTest::default_value")]
    pub value: f32,
    /// Seed of the pixel choice (each level and sample draws its own stream from it).
    #[serde(default)]
    pub seed: u64,
    /// Also test the epoch of highest clean test accuracy, and report its accuracy and noise
    /// score beside the last epoch's: the selection behind the published Sparse CNN figures
    /// (htmpapers `test_score_table.py` takes, per seed, the best of the epochs' test scores).
    /// It is a selection on the test set, so the last epoch's figures stay the main result.
    /// The run keeps a copy of the trainer's state after that epoch (parameters, buffers,
    /// optimizer state) in memory, and under `--out` in `best-epoch.safetensors`.
    #[serde(default)]
    pub best_epoch: bool,
}

impl Default for NoiseTest {
    fn default() -> Self {
        NoiseTest { levels: Self::default_levels(), value: Self::default_value(), seed: 0, best_epoch: false }
    }
}

impl NoiseTest {
    fn default_levels() -> Vec<f64> {
        (0..=10).map(|i| i as f64 * 0.05).collect()
    }

    fn default_value() -> f32 {
        MNIST_NOISE_VALUE
    }

    pub fn validate(&self) -> Result<()> {
        if self.levels.is_empty() {
            return Err(Error::config("noise_test.levels", "give at least one level"));
        }
        if let Some(bad) = self.levels.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return Err(Error::config("noise_test.levels", format!("are fractions of the input in [0, 1], got {bad}")));
        }
        if !self.value.is_finite() {
            return Err(Error::config("noise_test.value", format!("must be finite, got {}", self.value)));
        }
        Ok(())
    }

    /// The noise of one level.
    pub fn level(&self, index: usize) -> PixelNoise {
        PixelNoise { fraction: self.levels[index], value: self.value, seed: Rng::derive(self.seed, index as u64).next_u64() }
    }
}

/// Replacement noise of one level, applied to each sample with its own seeded stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PixelNoise {
    pub fraction: f64,
    pub value: f32,
    pub seed: u64,
}

impl PixelNoise {
    /// Values replaced in a sample of `n` (Python's `int(n · ν)`).
    pub fn count(&self, n: usize) -> usize {
        // The small epsilon keeps 784 · 0.35 = 274.4 from flooring one low through rounding.
        ((n as f64 * self.fraction) + 1e-9).floor() as usize
    }

    /// Replaces `count(values.len())` distinct values of sample `sample`.
    pub fn apply(&self, values: &mut [f32], sample: u64) {
        let n = values.len();
        let mut rng = Rng::derive(self.seed, sample);
        let mut order: Vec<u32> = (0..n as u32).collect();
        for i in 0..self.count(n) {
            let j = i + rng.below(n - i);
            order.swap(i, j);
            values[order[i] as usize] = self.value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_exactly_the_counted_pixels() {
        let levels = NoiseTest::default().levels;
        assert_eq!(levels.len(), 11);
        let counts: Vec<usize> = (0..11).map(|i| NoiseTest::default().level(i).count(784)).collect();
        assert_eq!(counts, vec![0, 39, 78, 117, 156, 196, 235, 274, 313, 352, 392]);
        for (i, &count) in counts.iter().enumerate() {
            let noise = NoiseTest::default().level(i);
            let mut image = vec![0.0f32; 784];
            noise.apply(&mut image, 7);
            assert_eq!(image.iter().filter(|&&v| v == MNIST_NOISE_VALUE).count(), count);
            let mut again = vec![0.0f32; 784];
            noise.apply(&mut again, 7);
            assert_eq!(image, again, "seeded per sample");
        }
        assert!((MNIST_NOISE_VALUE - 0.7469).abs() < 1e-6);
    }

    #[test]
    fn bad_levels_are_named() {
        let t = NoiseTest { levels: vec![0.1, 1.5], ..Default::default() };
        assert!(t.validate().unwrap_err().to_string().contains("noise_test.levels"));
        assert!(NoiseTest { levels: vec![], ..Default::default() }.validate().is_err());
    }
}
