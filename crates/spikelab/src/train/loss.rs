//! Losses on the network's output over time, `[T, B, classes]`.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Loss {
    /// Cross-entropy with the mean output over time (the firing rate, in [0, 1]) as logits.
    #[default]
    RateCe,
    /// Cross-entropy with the spike count (rate × T) as logits (snnTorch `ce_count_loss`).
    CountCe,
    /// Cross-entropy on the maximum over time of a non-spiking (LI) readout.
    MembraneMaxCe,
    /// Cross-entropy on the mean over time of a non-spiking (LI) readout.
    MembraneMeanCe,
    /// Mean squared error between spike counts and target counts of
    /// `correct_rate·T` for the label and `incorrect_rate·T` for the others (snnTorch `mse_count_loss`).
    CountMse {
        #[serde(default = "default_correct")]
        correct_rate: f32,
        #[serde(default = "default_incorrect")]
        incorrect_rate: f32,
    },
}

fn default_correct() -> f32 {
    0.8
}
fn default_incorrect() -> f32 {
    0.2
}

/// Result of a loss on one batch.
pub struct LossValue {
    /// Mean over the batch.
    pub loss: f64,
    /// dL/d(output), same shape as the output.
    pub grad: Tensor,
    /// Predicted class per sample (arg-max of the loss's logits or counts).
    pub predictions: Vec<usize>,
}

impl LossValue {
    /// How many predictions equal their label.
    pub fn correct(&self, labels: &[u8]) -> usize {
        self.predictions.iter().zip(labels).filter(|(p, l)| **p == **l as usize).count()
    }
}

impl Loss {
    pub fn validate(&self) -> Result<()> {
        if let Loss::CountMse { correct_rate, incorrect_rate } = *self {
            for (k, v) in [("correct_rate", correct_rate), ("incorrect_rate", incorrect_rate)] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(Error::config(format!("train.loss.{k}"), format!("must be in [0, 1], got {v}")));
                }
            }
        }
        Ok(())
    }

    pub fn name(&self) -> &'static str {
        match self {
            Loss::RateCe => "rate-ce",
            Loss::CountCe => "count-ce",
            Loss::MembraneMaxCe => "membrane-max-ce",
            Loss::MembraneMeanCe => "membrane-mean-ce",
            Loss::CountMse { .. } => "count-mse",
        }
    }

    pub fn compute(&self, output: &Tensor, labels: &[u8]) -> LossValue {
        let shape = output.shape();
        let (steps, batch, classes) = (shape[0], shape[1], shape[2..].iter().product::<usize>());
        assert_eq!(labels.len(), batch, "one label per sample");
        let y = output.data();
        let at = |t: usize, b: usize, c: usize| y[(t * batch + b) * classes + c];
        let mut grad = Tensor::zeros(shape);
        let g = grad.data_mut();
        let mut total = 0.0f64;
        let mut predictions = Vec::with_capacity(batch);
        for (b, &label) in labels.iter().enumerate() {
            let label = label as usize;
            // Per-class statistic over time and, for each class, which steps it depends on.
            let (stat, scale): (Vec<f32>, f32) = match self {
                Loss::RateCe | Loss::MembraneMeanCe => ((0..classes).map(|c| (0..steps).map(|t| at(t, b, c)).sum::<f32>() / steps as f32).collect(), 1.0 / steps as f32),
                Loss::CountCe | Loss::CountMse { .. } => ((0..classes).map(|c| (0..steps).map(|t| at(t, b, c)).sum::<f32>()).collect(), 1.0),
                Loss::MembraneMaxCe => ((0..classes).map(|c| (0..steps).map(|t| at(t, b, c)).fold(f32::NEG_INFINITY, f32::max)).collect(), 1.0),
            };
            predictions.push(argmax(&stat));
            let d_stat: Vec<f32> = match *self {
                Loss::CountMse { correct_rate, incorrect_rate } => {
                    let target = |c: usize| steps as f32 * if c == label { correct_rate } else { incorrect_rate };
                    total += stat.iter().enumerate().map(|(c, &s)| ((s - target(c)) as f64).powi(2)).sum::<f64>() / classes as f64;
                    stat.iter().enumerate().map(|(c, &s)| 2.0 * (s - target(c)) / classes as f32).collect()
                }
                _ => {
                    let max = stat.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let exp: Vec<f64> = stat.iter().map(|&s| ((s - max) as f64).exp()).collect();
                    let sum: f64 = exp.iter().sum();
                    total += sum.ln() - (stat[label] - max) as f64;
                    exp.iter().enumerate().map(|(c, &e)| (e / sum) as f32 - (c == label) as u8 as f32).collect()
                }
            };
            for (c, &d) in d_stat.iter().enumerate() {
                let d = d / batch as f32;
                if let Loss::MembraneMaxCe = self {
                    let t_max = argmax(&(0..steps).map(|t| at(t, b, c)).collect::<Vec<_>>());
                    g[(t_max * batch + b) * classes + c] = d;
                } else {
                    for t in 0..steps {
                        g[(t * batch + b) * classes + c] = d * scale;
                    }
                }
            }
        }
        LossValue { loss: total / batch as f64, grad, predictions }
    }
}

/// Index of the largest value; the first one on ties.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Rng::new(1);
        let (t, b, c) = (4, 3, 5);
        let data: Vec<f32> = (0..t * b * c).map(|_| rng.normal()).collect();
        let labels = [1u8, 4, 0];
        for loss in [Loss::RateCe, Loss::CountCe, Loss::MembraneMaxCe, Loss::MembraneMeanCe, Loss::CountMse { correct_rate: 0.8, incorrect_rate: 0.2 }] {
            let out = Tensor::from_vec(&[t, b, c], data.clone()).unwrap();
            let v = loss.compute(&out, &labels);
            let eps = 1e-3;
            for k in 0..data.len() {
                let mut p = data.clone();
                p[k] += eps;
                let mut m = data.clone();
                m[k] -= eps;
                let lp = loss.compute(&Tensor::from_vec(&[t, b, c], p).unwrap(), &labels).loss;
                let lm = loss.compute(&Tensor::from_vec(&[t, b, c], m).unwrap(), &labels).loss;
                let fd = (lp - lm) / (2.0 * eps as f64);
                let got = v.grad.data()[k] as f64;
                assert!((fd - got).abs() < 2e-3 * (1.0 + fd.abs()), "{} grad[{k}] = {got}, fd {fd}", loss.name());
            }
        }
    }

    #[test]
    fn predictions_are_the_strongest_class() {
        // Class 2 spikes most often for sample 0, class 0 for sample 1.
        let mut out = Tensor::zeros(&[3, 2, 3]);
        for t in 0..3 {
            out.data_mut()[t * 6 + 2] = 1.0;
            out.data_mut()[t * 6 + 3] = 1.0;
        }
        assert_eq!(Loss::CountCe.compute(&out, &[2, 0]).predictions, vec![2, 0]);
    }
}
