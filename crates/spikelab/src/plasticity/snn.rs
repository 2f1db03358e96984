//! The 3-layer "SNN" of the SBP paper as the reference code runs it
//! (`../shared/docs/reference/sbp.md` §2.1–2.5, §3): conductance-LIF layers driven by analog
//! inputs and mixed with persistent "homeostatic" particles, a free and a nudged relaxation of
//! the layered Hopfield energy, and a local weight change (`BaseRule`), optionally modulated by
//! SBP, with optional per-neuron short-term plasticity.
//!
//! Per batch: T/dt LIF steps (for each non-input layer l: I = ρ1(s_{l−1}W + b) [through STP];
//! g += dt/τ_syn·(−g + g_L + I); V += dt/τ_m·(−(V − V_L) − (g/g_L)(V − V_E)); V > V_th → V_reset;
//! u = (t/T)·V + (1 − t/T)·h_l; V = u; s_l = ρ1(u)); then `free_iterations` of the free
//! relaxation (hidden: s ← ρ1(s − ε(s − s_below·W − s_above·Wᵀ − b)); output: relu of the same
//! without the layer above; layers updated in place from the lowest, as the reference's
//! `snnhomeov.m`, or all at once with `relaxation = "simultaneous"`), stored as the particles h;
//! then `nudged_iterations` with the output pulled by β(s_L − y); then biases +=
//! α·mean((sᵝ − s)/β) and weights += α·ΔW, output matrix first. Evaluation runs the LIF loop
//! and the free relaxation only. State (V, g, particles) belongs to batch slots and carries
//! across batches, between training and evaluation, as in the reference; batches keep the data
//! set's order unless `shuffle` is set.
//!
//! `dale` (the reference's `set_EI`, off by default): each layer's neurons are excitatory or
//! inhibitory; an inhibitory neuron's membrane has the reversal potential V_I instead of V_E,
//! and its outgoing weights start ≤ 0 (an excitatory one's ≥ 0). Learning keeps signs with the
//! reference's step (`snn_dalelaw.m`): a change that pushes a weight towards zero moves it by
//! −η·w instead of α·ΔW. As in the reference, that step guards only the matrices above the first,
//! and a weight at exactly zero takes the plain step, so it may start the other sign;
//! `strict = true` clamps every weight of every matrix to its neuron's sign after each update.
//!
//! `adaptive_threshold` (beyond the reference, off by default): each neuron of each batch slot
//! fires above V_th + θ, θ raised by every spike (u > V_th + θ) and decaying with τ
//! (`homeostasis`); the membrane resets when it crosses the same raised threshold.

use super::homeostasis::{AdaptiveThresholdParams, ThresholdAdaptation};
use super::rules::{BaseRule, Phases};
use super::sbp::{modulate, SbpParams};
use super::stp::{NeuronStp, StpParams};
use crate::energy::OpCounts;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{math, matmul, Transpose};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnnConfig {
    /// Units per layer, input first (reference: 784-500-10 for MNIST, 189-500-26 for NETtalk).
    pub layers: Vec<usize>,
    pub rule: BaseRule,
    /// SBP modulation of the rule's changes; absent: the rule alone. The field's own serde
    /// default (None) overrides the struct's, whose `sbp` is the reference's: without it a
    /// config that leaves `sbp` out — every without-SBP twin — would get SBP anyway.
    #[serde(default)]
    pub sbp: Option<SbpParams>,
    /// Per-neuron short-term plasticity on every layer's input; absent: off.
    pub stp: Option<StpParams>,
    /// Excitatory and inhibitory neurons with sign-keeping learning (Dale's law); absent: off.
    pub dale: Option<DaleParams>,
    /// Thresholds raised by each spike and relaxing back (homeostasis); absent: fixed V_th.
    pub adaptive_threshold: Option<AdaptiveThresholdParams>,
    pub batch_size: usize,
    /// ms.
    pub dt: f32,
    pub duration: f32,
    pub tau_m: f32,
    pub tau_syn: f32,
    pub g_l: f32,
    pub v_l: f32,
    pub v_e: f32,
    pub v_threshold: f32,
    pub v_reset: f32,
    pub epsilon: f32,
    pub beta: f32,
    pub free_iterations: usize,
    pub nudged_iterations: usize,
    /// One learning rate per weight matrix (also used for the biases of the layer above it).
    pub learning_rates: Vec<f32>,
    /// Order of the layer updates within one relaxation sweep.
    pub relaxation: Relaxation,
    pub shuffle: bool,
}

/// How one sweep of the energy relaxation orders its layer updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relaxation {
    /// In place from the lowest layer up, as the reference (`snnhomeov.m`,
    /// `snnplasticitysbp.m`), and `SnnConfig`'s default: a layer sees this sweep's state below
    /// and the last sweep's above.
    Sequential,
    /// Every layer from the previous sweep's states (what spikelab did before `relaxation`
    /// existed; kept to reproduce those figures).
    Simultaneous,
}

impl Default for SnnConfig {
    /// The reference's MNIST settings (`main_snn_desktop.m`), post-difference rule with SBP.
    fn default() -> Self {
        SnnConfig {
            layers: vec![784, 500, 10],
            rule: BaseRule::PostDifference,
            sbp: Some(SbpParams::default()),
            stp: None,
            dale: None,
            adaptive_threshold: None,
            batch_size: 50,
            dt: 0.1,
            duration: 10.0,
            tau_m: 10.0,
            tau_syn: 2.0,
            g_l: 5.0,
            v_l: 0.0,
            v_e: 0.2,
            v_threshold: 0.05,
            v_reset: -0.1,
            epsilon: 0.5,
            beta: 0.5,
            free_iterations: 20,
            nudged_iterations: 5,
            learning_rates: vec![0.1, 0.05],
            relaxation: Relaxation::Sequential,
            shuffle: false,
        }
    }
}

impl SnnConfig {
    pub fn validate(&self) -> Result<()> {
        super::validate_layered(
            &self.layers,
            &self.learning_rates,
            &[("dt", self.dt), ("duration", self.duration), ("tau_m", self.tau_m), ("tau_syn", self.tau_syn), ("g_l", self.g_l), ("beta", self.beta), ("epsilon", self.epsilon)],
            self.batch_size,
        )?;
        if let Some(d) = &self.dale {
            d.validate(self.layers.len())?;
        }
        if let Some(a) = &self.adaptive_threshold {
            a.validate("adaptive_threshold")?;
        }
        Ok(())
    }

    /// The per-epoch cost C_iter of the paper's training-energy statistic (§6): m·n + n·k + n
    /// for the SBP rules, plus m for the symmetric (BBT) rule; m, n, k the layer sizes of a
    /// 3-layer net. Deeper nets sum the products of neighbouring sizes and the hidden sizes.
    pub fn cost_per_epoch(&self) -> f64 {
        let l = &self.layers;
        let products: usize = l.windows(2).map(|w| w[0] * w[1]).sum();
        let hidden: usize = l[1..l.len() - 1].iter().sum();
        let extra = if self.rule == BaseRule::Symmetric { l[0] } else { 0 };
        (products + hidden + extra) as f64
    }
}

/// Dale's law as the reference's `set_EI` (`snnsetup.m`, `snn_lif.m`, `snn_dalelaw.m`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaleParams {
    /// Per layer, input first: the fraction of neurons that are inhibitory (⌈n·fraction⌉ of
    /// them, chosen at random). The reference: 0.5 everywhere.
    pub inhibitory_fraction: Vec<f32>,
    /// Reversal potential of inhibitory neurons' membranes (V_E stays the excitatory one's).
    pub v_i: f32,
    /// The fraction of the way to zero a weight moves when its change points there.
    pub eta: f32,
    /// Keep every weight of every matrix on its neuron's side of zero (beyond the reference).
    pub strict: bool,
}

impl Default for DaleParams {
    fn default() -> Self {
        DaleParams { inhibitory_fraction: vec![0.5; 3], v_i: 0.1, eta: 0.1, strict: false }
    }
}

impl DaleParams {
    fn validate(&self, layers: usize) -> Result<()> {
        use crate::error::Error;
        if self.inhibitory_fraction.len() != layers {
            return Err(Error::config("dale.inhibitory_fraction", format!("{} fractions for {layers} layers (one per layer, input first)", self.inhibitory_fraction.len())));
        }
        if let Some(f) = self.inhibitory_fraction.iter().find(|f| !(0.0..=1.0).contains(*f)) {
            return Err(Error::config("dale.inhibitory_fraction", format!("fractions are in [0, 1], got {f}")));
        }
        if !(self.eta > 0.0 && self.eta <= 1.0) {
            return Err(Error::config("dale.eta", format!("must be in (0, 1], got {}", self.eta)));
        }
        if !self.v_i.is_finite() {
            return Err(Error::config("dale.v_i", format!("must be finite, got {}", self.v_i)));
        }
        Ok(())
    }
}

/// One weight's update under Dale's law (`snn_dalelaw.m`): the plain step `rate·delta` when it
/// does not point towards zero (w·Δ ≥ 0, zero weights included), else `−eta·w`, a fraction of
/// the way to zero, so the weight never crosses it.
pub fn dale_step(w: f32, delta: f32, rate: f32, eta: f32) -> f32 {
    if w * delta >= 0.0 {
        w + rate * delta
    } else {
        w - eta * w
    }
}

/// ρ1(z) = 2/(1 + e^(−z)) − 1 = tanh(z/2).
fn rho(z: f32) -> f32 {
    math::tanh_half(z)
}

/// What one batch did.
#[derive(Clone, Debug, Default)]
pub struct BatchOutcome {
    /// The free state of the output layer (rows × outputs): the network's answer, before this
    /// batch's update.
    pub output: Vec<f32>,
    /// Spikes (u > V_th) over all non-input layers and LIF steps.
    pub spikes: u64,
}

pub struct SbpSnn {
    pub config: SnnConfig,
    /// W[m]: layers[m] × layers[m + 1].
    pub weights: Vec<Vec<f32>>,
    /// Biases of the non-input layers (`biases[l − 1]` for layer l).
    pub biases: Vec<Vec<f32>>,
    /// Per non-input layer, per batch slot: particles, membrane V, conductance g, threshold
    /// raise θ (zero without `adaptive_threshold`).
    particles: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    g: Vec<Vec<f32>>,
    pub theta: Vec<Vec<f32>>,
    stp: Vec<NeuronStp>,
    /// Per layer, input first: which neurons are inhibitory (all false without `dale`).
    pub inhibitory: Vec<Vec<bool>>,
    /// Per non-input layer, per neuron: the membrane's reversal potential (V_E or V_I).
    reversal: Vec<Vec<f32>>,
    /// Operations so far: matrix products as dense MACs, LIF steps as neuron updates.
    ops: std::cell::Cell<OpCounts>,
}

impl SbpSnn {
    /// Glorot-uniform weights, zero biases, state at zero.
    pub fn new(config: SnnConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, 0x5B9);
        let l = &config.layers;
        let inhibitory: Vec<Vec<bool>> = match &config.dale {
            Some(d) => l.iter().zip(&d.inhibitory_fraction).map(|(&n, &f)| choose_inhibitory(n, f, &mut rng)).collect(),
            None => l.iter().map(|&n| vec![false; n]).collect(),
        };
        let matrices = l.len() - 1;
        let weights = l
            .windows(2)
            .enumerate()
            .map(|(m, w)| {
                let bound = (6.0 / (w[0] + w[1]) as f32).sqrt();
                // The reference shifts the hidden matrices' draws below zero by the post layer's
                // inhibitory fraction + 0.35 (`snnsetup.m`); the signs are then set by neuron.
                let shift = match &config.dale {
                    Some(d) if m + 1 < matrices => Some(d.inhibitory_fraction[m + 1] + 0.35),
                    _ => None,
                };
                let mut weights: Vec<f32> = (0..w[0] * w[1])
                    .map(|_| match shift {
                        Some(shift) => 2.0 * (rng.uniform() - shift) * bound,
                        None => (2.0 * rng.uniform() - 1.0) * bound,
                    })
                    .collect();
                if config.dale.is_some() {
                    keep_signs(&mut weights, &inhibitory[m]);
                }
                weights
            })
            .collect();
        let v_i = config.dale.as_ref().map_or(config.v_e, |d| d.v_i);
        let reversal = inhibitory[1..].iter().map(|layer| layer.iter().map(|&i| if i { v_i } else { config.v_e }).collect()).collect();
        let b = config.batch_size;
        let per_slot = |n: usize| vec![0.0f32; b * n];
        let stp = match config.stp {
            Some(p) => l[1..].iter().map(|&n| NeuronStp::new(p, b * n)).collect(),
            None => Vec::new(),
        };
        Ok(SbpSnn {
            biases: l[1..].iter().map(|&n| vec![0.0; n]).collect(),
            particles: l[1..].iter().map(|&n| per_slot(n)).collect(),
            v: l[1..].iter().map(|&n| per_slot(n)).collect(),
            g: l[1..].iter().map(|&n| per_slot(n)).collect(),
            theta: l[1..].iter().map(|&n| per_slot(n)).collect(),
            weights,
            stp,
            inhibitory,
            reversal,
            config,
            ops: Default::default(),
        })
    }

    pub fn ops(&self) -> OpCounts {
        self.ops.get()
    }

    fn count(&self, dense_mac: usize, neuron_updates: usize) {
        let mut ops = self.ops.get();
        ops.dense_mac += dense_mac as u64;
        ops.neuron_updates += neuron_updates as u64;
        self.ops.set(ops);
    }

    /// `x` · W[m] + bias of layer m + 1, for a batch of `rows`.
    fn drive(&self, x: &[f32], m: usize, rows: usize) -> Vec<f32> {
        let (n_in, n_out) = (self.config.layers[m], self.config.layers[m + 1]);
        let mut out = vec![0.0f32; rows * n_out];
        matmul(x, Transpose::No, &self.weights[m], Transpose::No, &mut out, (rows, n_out, n_in), false, parallel_worth_it(rows * n_out * n_in));
        self.count(rows * n_in * n_out, 0);
        for row in out.chunks_mut(n_out) {
            row.iter_mut().zip(&self.biases[m]).for_each(|(o, b)| *o += b);
        }
        out
    }

    /// The LIF loop from the input's drive x·W0 + b1: returns the states s_l of the non-input
    /// layers and the spike count.
    fn lif_phase(&mut self, x_drive: &[f32], rows: usize) -> (Vec<Vec<f32>>, u64) {
        let c = self.config.clone();
        let layers = c.layers.len();
        let steps = (c.duration / c.dt).round() as usize;
        let input_drive: Vec<f32> = x_drive.iter().map(|&z| rho(z)).collect();
        let mut states: Vec<Vec<f32>> = c.layers[1..].iter().map(|&n| vec![0.0f32; rows * n]).collect();
        let mut spikes = 0u64;
        let constants = LifConstants::from(&c);
        for k in 1..=steps {
            let mix = k as f32 * c.dt / c.duration;
            for l in 1..layers {
                let mut current = if l == 1 { input_drive.clone() } else { self.drive(&states[l - 2], l - 1, rows).into_iter().map(rho).collect() };
                if let Some(stp) = self.stp.get_mut(l - 1) {
                    stp.step(&mut current);
                }
                let n = c.layers[l];
                self.count(0, rows * n);
                let (v, g, h) = (&mut self.v[l - 1][..rows * n], &mut self.g[l - 1][..rows * n], &self.particles[l - 1][..rows * n]);
                let theta = &mut self.theta[l - 1][..rows * n];
                let state = &mut states[l - 1];
                let reversal = &self.reversal[l - 1];
                spikes += v
                    .par_chunks_mut(n)
                    .zip(g.par_chunks_mut(n))
                    .zip(theta.par_chunks_mut(n))
                    .zip(h.par_chunks(n))
                    .zip(state.par_chunks_mut(n))
                    .zip(current.par_chunks(n))
                    // Rows in tasks of at least ~8k values: below that, scheduling costs more than
                    // the step.
                    .with_min_len((8192 / n).max(1))
                    .map(|(((((v, g), theta), h), s), i)| lif_step(LifRow { v, g, theta, h, s }, i, reversal, mix, constants) as u64)
                    .sum::<u64>();
            }
        }
        (states, spikes)
    }

    /// Relaxation of the layered energy from `states`: `iterations` sweeps over the layers, the
    /// output pulled towards `target` by β when given. A sequential sweep (the reference's
    /// `snnhomeov.m`) updates the layers in place from the lowest, so each layer sees the new
    /// state below it and the old one above; a simultaneous sweep updates all from the old states.
    fn relax(&self, x_drive: &[f32], states: &mut [Vec<f32>], rows: usize, iterations: usize, target: Option<&[f32]>) {
        let c = &self.config;
        let last = states.len() - 1;
        for _ in 0..iterations {
            let previous = match c.relaxation {
                Relaxation::Sequential => None,
                Relaxation::Simultaneous => Some(states.to_vec()),
            };
            for l in 0..=last {
                let n = c.layers[l + 1];
                let neighbours: &[Vec<f32>] = previous.as_deref().unwrap_or(states);
                // Input from below: x·W0 + b1 (precomputed) or s_{l−1}·W + b.
                let mut net = if l == 0 { x_drive.to_vec() } else { self.drive(&neighbours[l - 1], l, rows) };
                if l < last {
                    let n_above = c.layers[l + 2];
                    matmul(&neighbours[l + 1], Transpose::No, &self.weights[l + 1], Transpose::Yes, &mut net, (rows, n, n_above), true, parallel_worth_it(rows * n * n_above));
                    self.count(rows * n * n_above, 0);
                }
                let s = &mut states[l];
                for (k, (s, net)) in s.iter_mut().zip(&net).enumerate() {
                    let mut step = *s - net;
                    if let (true, Some(y)) = (l == last, target) {
                        step += c.beta * (*s - y[k]);
                    }
                    let z = *s - c.epsilon * step;
                    *s = if l == last { z.max(0.0) } else { rho(z) };
                }
            }
        }
    }

    /// Trains on one batch (`x`: rows × inputs in [0, 1]; `target`: rows × outputs, e.g. one-hot
    /// classes); the slots used are the first `rows`.
    pub fn train_batch(&mut self, x: &[f32], target: &[f32]) -> BatchOutcome {
        let c = self.config.clone();
        let outputs = *c.layers.last().unwrap();
        let rows = target.len() / outputs;
        assert_eq!((rows * outputs, x.len()), (target.len(), rows * c.layers[0]), "train_batch: inputs and targets disagree in rows");
        // The clamped input's drive serves the LIF loop and every relaxation step.
        let x_drive = self.drive(x, 0, rows);
        let (mut free, spikes) = self.lif_phase(&x_drive, rows);
        self.relax(&x_drive, &mut free, rows, c.free_iterations, None);
        for (h, s) in self.particles.iter_mut().zip(&free) {
            h[..s.len()].copy_from_slice(s);
        }
        let output = free.last().unwrap().clone();
        let mut nudged = free.clone();
        self.relax(&x_drive, &mut nudged, rows, c.nudged_iterations, Some(target));
        for (l, bias) in self.biases.iter_mut().enumerate() {
            let n = c.layers[l + 1];
            for j in 0..n {
                let mean: f32 = (0..rows).map(|r| nudged[l][r * n + j] - free[l][r * n + j]).sum::<f32>() / (rows as f32 * c.beta);
                bias[j] += c.learning_rates[l] * mean;
            }
        }
        let mut deltas: Vec<Vec<f32>> = (0..self.weights.len())
            .map(|m| {
                let pre = if m == 0 { Phases { free: x, nudged: x } } else { Phases { free: &free[m - 1], nudged: &nudged[m - 1] } };
                c.rule.delta(pre, Phases { free: &free[m], nudged: &nudged[m] }, rows, c.beta)
            })
            .collect();
        let products = if c.rule == BaseRule::Symmetric { 2 } else { 1 };
        self.count(products * rows * c.layers.windows(2).map(|w| w[0] * w[1]).sum::<usize>(), 0);
        if let Some(sbp) = &c.sbp {
            modulate(&mut deltas, &c.layers, sbp);
        }
        for (m, ((w, d), &rate)) in self.weights.iter_mut().zip(&deltas).zip(&c.learning_rates).enumerate() {
            match &c.dale {
                // The reference guards the output synapses of hidden neurons, not the input's.
                Some(dale) if m > 0 || dale.strict => w.iter_mut().zip(d).for_each(|(w, &d)| *w = dale_step(*w, d, rate, dale.eta)),
                _ => w.iter_mut().zip(d).for_each(|(w, d)| *w += rate * d),
            }
            if c.dale.as_ref().is_some_and(|d| d.strict) {
                keep_signs(w, &self.inhibitory[m]);
            }
        }
        BatchOutcome { output, spikes }
    }

    /// Answers one batch of `rows` (LIF loop and free relaxation; the particles are updated,
    /// as in the reference).
    pub fn evaluate_batch(&mut self, x: &[f32], rows: usize) -> BatchOutcome {
        // The clamped input's drive serves the LIF loop and every relaxation step.
        let x_drive = self.drive(x, 0, rows);
        let (mut free, spikes) = self.lif_phase(&x_drive, rows);
        self.relax(&x_drive, &mut free, rows, self.config.free_iterations, None);
        for (h, s) in self.particles.iter_mut().zip(&free) {
            h[..s.len()].copy_from_slice(s);
        }
        BatchOutcome { output: free.pop().expect("an output layer"), spikes }
    }
}

/// ⌈n·fraction⌉ of n neurons, chosen at random, marked inhibitory.
fn choose_inhibitory(n: usize, fraction: f32, rng: &mut Rng) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut inhibitory = vec![false; n];
    let count = ((n as f64 * fraction as f64).ceil() as usize).min(n);
    order[..count].iter().for_each(|&i| inhibitory[i] = true);
    inhibitory
}

/// Rows of `weights` (one per presynaptic neuron) clamped to their neuron's sign: ≥ 0 for
/// excitatory, ≤ 0 for inhibitory.
fn keep_signs(weights: &mut [f32], inhibitory: &[bool]) {
    let row = weights.len() / inhibitory.len();
    for (w, &inh) in weights.chunks_mut(row).zip(inhibitory) {
        w.iter_mut().for_each(|w| *w = if inh { w.min(0.0) } else { w.max(0.0) });
    }
}

/// Whether a product of this many multiply-adds is worth splitting over threads.
fn parallel_worth_it(macs: usize) -> bool {
    macs >= 1 << 20
}

#[derive(Clone, Copy)]
struct LifConstants {
    syn_rate: f32,
    mem_rate: f32,
    g_l: f32,
    inv_gl: f32,
    v_l: f32,
    v_threshold: f32,
    v_reset: f32,
    /// None: thresholds fixed at V_th.
    adaptation: Option<ThresholdAdaptation>,
}

impl From<&SnnConfig> for LifConstants {
    fn from(c: &SnnConfig) -> Self {
        let adaptation = c.adaptive_threshold.map(|a| a.adaptation(c.dt));
        LifConstants { syn_rate: c.dt / c.tau_syn, mem_rate: c.dt / c.tau_m, g_l: c.g_l, inv_gl: 1.0 / c.g_l, v_l: c.v_l, v_threshold: c.v_threshold, v_reset: c.v_reset, adaptation }
    }
}

/// One row's LIF state: membrane, conductance, threshold raise, particles (read) and the
/// layer's state s = ρ1(u) (written).
struct LifRow<'a> {
    v: &'a mut [f32],
    g: &'a mut [f32],
    theta: &'a mut [f32],
    h: &'a [f32],
    s: &'a mut [f32],
}

/// One conductance-LIF step of one row (`reversal`: each neuron's V_E or V_I), mixed with the
/// particles `h` by `mix` = t/T; returns the spikes (u > V_th + θ). Written over zipped slices
/// with the constants in locals so that it vectorises. Without adaptation θ stays zero and is
/// neither read nor written: one memory stream less.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn lif_step<'a>(row: LifRow<'a>, input: &[f32], reversal: &[f32], mix: f32, k: LifConstants) -> u32 {
    let LifRow { v, g, theta, h, s } = row;
    let neurons = v.iter_mut().zip(g.iter_mut()).zip(h).zip(s.iter_mut()).zip(input).zip(reversal);
    let mut fired = 0u32;
    match k.adaptation {
        None => {
            for (((((v, g), &h), s), &i), &v_rev) in neurons {
                fired += lif_neuron(LifNeuron { v, g, s, h, input: i, v_rev }, mix, k.v_threshold, &k) as u32;
            }
        }
        Some(adaptation) => {
            for ((((((v, g), &h), s), &i), &v_rev), theta) in neurons.zip(theta.iter_mut()) {
                let spiked = lif_neuron(LifNeuron { v, g, s, h, input: i, v_rev }, mix, k.v_threshold + *theta, &k);
                *theta = adaptation.next(*theta, spiked);
                fired += spiked as u32;
            }
        }
    }
    fired
}

struct LifNeuron<'a> {
    v: &'a mut f32,
    g: &'a mut f32,
    s: &'a mut f32,
    h: f32,
    input: f32,
    v_rev: f32,
}

#[inline(always)]
fn lif_neuron(n: LifNeuron<'_>, mix: f32, threshold: f32, k: &LifConstants) -> bool {
    let LifNeuron { v, g, s, h, input, v_rev } = n;
    *g += k.syn_rate * (k.g_l + input - *g);
    let mut vm = *v + k.mem_rate * (-(*v - k.v_l) - *g * k.inv_gl * (*v - v_rev));
    vm = if vm > threshold { k.v_reset } else { vm };
    let u = mix * vm + (1.0 - mix) * h;
    *v = u;
    *s = math::tanh_half(u);
    u > threshold
}

#[cfg(test)]
mod tests;
