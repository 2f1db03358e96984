//! The SBP paper's "RBM" (`../shared/docs/reference/sbp.md` §2.7): the layered Hopfield network
//! of equilibrium propagation with ρ(s) = clip(s, 0, 1), persistent particles per sample, a
//! sleep phase (free relaxation, N_s steps) and a wake phase (relaxation of F = E + β‖s_L − y‖²,
//! N_w steps, β with a random sign per minibatch), and the update p ← p − α·∂[(E(sᵝ) − E(s⁰))/β]/∂p.
//!
//! Two energies, written with per-layer coefficients so that one relaxation and one update
//! serve both:
//!
//!   E = Σ_l c_N[l]·‖ρ_l‖² + Σ_l c_b[l]·ρ_l·b_l + Σ_l c_W[l]·ρ_l W_l ρ_{l+1}
//!
//! - `Hopfield` (the baseline, "BP only"): c_N = ½, c_b = −1, c_W = −1.
//! - `Sbp { theta }`, the reference's SBP energy
//!   Σ_{l≤L−3}[ρ_l W_l ρ_{l+1} + ‖ρ_l‖² + θ(ρ_{l+1} W_{l+1} ρ_{l+2} + ‖ρ_{l+1}‖²)] +
//!   Σ_{l≤L−2} ρ_l·b_l + Σ_{l≥1} ρ_l·b_l: its signs are the reverse of the baseline's (as if
//!   W → −W), and for three layers the output has no ‖ρ‖² term at all.
//!
//! States stay in [0, 1], where ρ′ = 1: ∂E/∂s_l = 2c_N[l]·s_l + c_b[l]·b_l + c_W[l−1]·ρ_{l−1}W_{l−1} +
//! c_W[l]·ρ_{l+1}W_lᵀ, and a relaxation step is s ← clip(s − ε·∂F/∂s, 0, 1) for every
//! non-input layer at once.

use super::rules::{BaseRule, Phases};
use crate::energy::OpCounts;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{matmul, Transpose};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Energy {
    Hopfield,
    Sbp { theta: f32 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HopfieldConfig {
    pub layers: Vec<usize>,
    pub energy: Energy,
    pub batch_size: usize,
    pub epsilon: f32,
    pub beta: f32,
    /// Sleep (free) relaxation steps N_s.
    pub sleep_steps: usize,
    /// Wake (nudged) relaxation steps N_w.
    pub wake_steps: usize,
    pub learning_rates: Vec<f32>,
    /// A random sign for β per minibatch (the reference's), or always +β.
    pub random_beta_sign: bool,
    /// Shuffle the training order every epoch (default: the data set's order).
    pub shuffle: bool,
}

impl Default for HopfieldConfig {
    /// The reference's MNIST settings (`train_model.py`): 784-500-10, batch 20, ε 1, β 0.2,
    /// N_s = N_w = 10, learning rates 0.1 / 0.05, SBP energy with θ = 0.5.
    fn default() -> Self {
        HopfieldConfig {
            layers: vec![784, 500, 10],
            energy: Energy::Sbp { theta: 0.5 },
            batch_size: 20,
            epsilon: 1.0,
            beta: 0.2,
            sleep_steps: 10,
            wake_steps: 10,
            learning_rates: vec![0.1, 0.05],
            random_beta_sign: true,
            shuffle: false,
        }
    }
}

impl HopfieldConfig {
    pub fn validate(&self) -> Result<()> {
        super::validate_layered(&self.layers, &self.learning_rates, &[("epsilon", self.epsilon), ("beta", self.beta)], self.batch_size)
    }

    /// (c_N, c_b, c_W) per layer (c_W per weight matrix).
    fn coefficients(&self) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let n = self.layers.len();
        match self.energy {
            Energy::Hopfield => (vec![0.5; n], vec![-1.0; n], vec![-1.0; n - 1]),
            Energy::Sbp { theta } => {
                let first = |l: usize| (l + 3 <= n) as u8 as f32; // l ≤ L−3
                let second = |l: usize| (l >= 1 && l + 2 <= n) as u8 as f32 * theta; // 1 ≤ l ≤ L−2
                let norm = (0..n).map(|l| first(l) + second(l)).collect();
                let bias = (0..n).map(|l| (l + 2 <= n) as u8 as f32 + (l >= 1) as u8 as f32).collect();
                let weight = (0..n - 1).map(|l| first(l) + second(l)).collect();
                (norm, bias, weight)
            }
        }
    }

    /// The per-epoch cost C_iter of the paper's statistic for this network: 2(mn + nk).
    pub fn cost_per_epoch(&self) -> f64 {
        2.0 * self.layers.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>()
    }
}

pub struct HopfieldNet {
    pub config: HopfieldConfig,
    pub weights: Vec<Vec<f32>>,
    /// One bias vector per layer, the input's included (it enters the energy but is clamped).
    pub biases: Vec<Vec<f32>>,
    coefficients: (Vec<f32>, Vec<f32>, Vec<f32>),
    rng: Rng,
    ops: OpCounts,
}

impl HopfieldNet {
    pub fn new(config: HopfieldConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, 0x40F1);
        let weights = config
            .layers
            .windows(2)
            .map(|w| {
                let bound = (6.0 / (w[0] + w[1]) as f32).sqrt();
                (0..w[0] * w[1]).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect()
            })
            .collect();
        Ok(HopfieldNet { biases: config.layers.iter().map(|&n| vec![0.0; n]).collect(), coefficients: config.coefficients(), weights, rng, ops: OpCounts::default(), config })
    }

    pub fn ops(&self) -> OpCounts {
        self.ops
    }

    /// `steps` relaxation steps of every non-input layer of `states` (layer 0 is the clamped
    /// input), nudged towards `target` with `beta` when given.
    fn relax(&mut self, states: &mut [Vec<f32>], rows: usize, steps: usize, nudge: Option<(&[f32], f32)>) {
        let (c_n, c_b, c_w) = self.coefficients.clone();
        let layers = &self.config.layers;
        let last = layers.len() - 1;
        // The clamped input's drive c_W[0]·x·W0 is the same at every step.
        let mut input_drive = vec![0.0f32; rows * layers[1]];
        matmul(&states[0], Transpose::No, &self.weights[0], Transpose::No, &mut input_drive, (rows, layers[1], layers[0]), false, rows * layers[1] * layers[0] >= 1 << 20);
        self.ops.dense_mac += (rows * layers[1] * layers[0]) as u64;
        input_drive.iter_mut().for_each(|g| *g *= c_w[0]);
        for _ in 0..steps {
            let previous = states.to_vec();
            for l in 1..=last {
                let n = layers[l];
                let mut grad = if l == 1 { input_drive.clone() } else { vec![0.0f32; rows * n] };
                if l > 1 && c_w[l - 1] != 0.0 {
                    matmul(&previous[l - 1], Transpose::No, &self.weights[l - 1], Transpose::No, &mut grad, (rows, n, layers[l - 1]), false, rows * n * layers[l - 1] >= 1 << 20);
                    self.ops.dense_mac += (rows * n * layers[l - 1]) as u64;
                    grad.iter_mut().for_each(|g| *g *= c_w[l - 1]);
                }
                if l < last && c_w[l] != 0.0 {
                    let mut above = vec![0.0f32; rows * n];
                    matmul(&previous[l + 1], Transpose::No, &self.weights[l], Transpose::Yes, &mut above, (rows, n, layers[l + 1]), false, rows * n * layers[l + 1] >= 1 << 20);
                    self.ops.dense_mac += (rows * n * layers[l + 1]) as u64;
                    grad.iter_mut().zip(&above).for_each(|(g, a)| *g += c_w[l] * a);
                }
                let (eps, bias) = (self.config.epsilon, &self.biases[l]);
                for (r, (row, g)) in states[l].chunks_mut(n).zip(grad.chunks(n)).enumerate() {
                    for j in 0..n {
                        let mut d = g[j] + 2.0 * c_n[l] * previous[l][r * n + j] + c_b[l] * bias[j];
                        if let (true, Some((y, beta))) = (l == last, nudge) {
                            d += 2.0 * beta * (previous[l][r * n + j] - y[r * n + j]);
                        }
                        row[j] = (previous[l][r * n + j] - eps * d).clamp(0.0, 1.0);
                    }
                }
            }
        }
    }

    /// One minibatch: sleep from `particles` (updated in place to the free state), wake, update.
    /// Returns the free output (rows × outputs), the network's answer before the update.
    pub fn train_batch(&mut self, x: &[f32], target: &[f32], particles: &mut [Vec<f32>]) -> Vec<f32> {
        let c = self.config.clone();
        let outputs = *c.layers.last().unwrap();
        let rows = target.len() / outputs;
        let mut free: Vec<Vec<f32>> = std::iter::once(x.to_vec()).chain(particles.iter().cloned()).collect();
        self.relax(&mut free, rows, c.sleep_steps, None);
        for (p, s) in particles.iter_mut().zip(&free[1..]) {
            p.copy_from_slice(s);
        }
        let beta = if c.random_beta_sign && self.rng.next_u64() & 1 == 1 { -c.beta } else { c.beta };
        let mut nudged = free.clone();
        self.relax(&mut nudged, rows, c.wake_steps, Some((target, beta)));
        let (_, c_b, c_w) = self.coefficients.clone();
        for m in 0..self.weights.len() {
            let (pre, post) = (Phases { free: &free[m], nudged: &nudged[m] }, Phases { free: &free[m + 1], nudged: &nudged[m + 1] });
            // −α·∂[(E(sᵝ) − E(s⁰))/β]/∂W = −α·c_W·(ρᵝᵀρᵝ − ρᵀρ)/(βB): the symmetric rule, scaled.
            let delta = BaseRule::Symmetric.delta(pre, post, rows, beta);
            self.ops.dense_mac += 2 * (rows * c.layers[m] * c.layers[m + 1]) as u64;
            let scale = -c.learning_rates[m] * c_w[m];
            self.weights[m].iter_mut().zip(&delta).for_each(|(w, d)| *w += scale * d);
            let n = c.layers[m + 1];
            for j in 0..n {
                let mean = (0..rows).map(|r| nudged[m + 1][r * n + j] - free[m + 1][r * n + j]).sum::<f32>() / (rows as f32 * beta);
                self.biases[m + 1][j] -= c.learning_rates[m] * c_b[m + 1] * mean;
            }
        }
        free.pop().expect("an output layer")
    }

    /// The free output for `x` from `particles` (updated in place), without learning.
    pub fn evaluate_batch(&mut self, x: &[f32], particles: &mut [Vec<f32>]) -> Vec<f32> {
        let rows = x.len() / self.config.layers[0];
        let mut free: Vec<Vec<f32>> = std::iter::once(x.to_vec()).chain(particles.iter().cloned()).collect();
        self.relax(&mut free, rows, self.config.sleep_steps, None);
        for (p, s) in particles.iter_mut().zip(&free[1..]) {
            p.copy_from_slice(s);
        }
        free.pop().expect("an output layer")
    }
}

/// Persistent particles of a data set: per non-input layer, one state row per sample.
pub struct Particles {
    pub layers: Vec<Vec<f32>>,
    widths: Vec<usize>,
}

impl Particles {
    pub fn new(config: &HopfieldConfig, samples: usize) -> Self {
        Particles { layers: config.layers[1..].iter().map(|&n| vec![0.0; samples * n]).collect(), widths: config.layers[1..].to_vec() }
    }

    /// The particles of `indices`, gathered; `scatter` writes them back.
    pub fn gather(&self, indices: &[usize]) -> Vec<Vec<f32>> {
        self.layers.iter().zip(&self.widths).map(|(p, &n)| indices.iter().flat_map(|&i| &p[i * n..(i + 1) * n]).copied().collect()).collect()
    }

    pub fn scatter(&mut self, indices: &[usize], states: &[Vec<f32>]) {
        for ((p, &n), s) in self.layers.iter_mut().zip(&self.widths).zip(states) {
            for (k, &i) in indices.iter().enumerate() {
                p[i * n..(i + 1) * n].copy_from_slice(&s[k * n..(k + 1) * n]);
            }
        }
    }
}

#[cfg(test)]
mod tests;
