//! S-MLP-SBP (`../shared/docs/reference/sbp.md` §2.6): a spiking MLP whose output layer learns
//! by BP through time and whose hidden layers learn from SBP signals instead of their BP
//! gradient, except every `bp_every`-th iteration.
//!
//! Neuron, per layer and step: I = sigmoid(W·x + b) − 0.1; V ← 0.2·V·(1 − o) + I;
//! o = 1[V > 0.5], with the surrogate derivative 1[|V − 0.5| < 0.3] (the reset path is not
//! detached). T steps; output = spike count / T; loss = mean squared error to the target.
//!
//! The hidden-layer update (the reference's backward hook): with the weight gradient G of the
//! layer above (in × out), σ_j = 0.01·Σ_k |G[j, k]| / (n·K) for each hidden neuron j (n hidden
//! units, K outputs); the layer's gradient becomes G[i, j] = σ_j·(B·eᵀ·x)[j, i] + 0.01·σ_j·H[i, j]
//! with e = y − rate, B a fixed random n × K matrix (Kaiming-uniform), x the layer's input at the
//! last step, and H the Hebbian correlation pre(t−1)ᵀ·post(t) summed over the last two steps
//! minus the first two, ÷ batch²; its bias gradient is 0. The sign of e with a random B is
//! arbitrary (noted in the reference).
//!
//! When that signal is formed is `sbp_hook`'s choice. [`SbpHook::PerIteration`] forms it once
//! per iteration from the whole BPTT gradient of the layer above and gives the hidden layers
//! their BP gradient in every `bp_every`-th iteration, as the paper describes it.
//! [`SbpHook::PerStep`] does what the released PyTorch code does: its hook on each `nn.Linear`
//! fires once per time step, so σ sums each step's own Σ_k |G_t[j, k]| of the *output* layer
//! (for every hidden layer), a counter of output-layer steps that runs on across iterations
//! gives a hidden layer that step's BP contribution when it reaches `bp_every` (steps 11 and 1
//! of 20 for `bp_every = 10`), and every bias gradient — the output layer's too — is zeroed.
//! One difference stays in both: the released code's early Hebbian pair is one step earlier
//! (pre(0)ᵀ·post(1) and, across batches, the previous batch's last input against this batch's
//! first spikes); here both early pairs lie within the batch (pre(t−1)ᵀ·post(t), t = 1, 2).
//!
//! `energy_weight` α_E (the reference's `-energy`, off by default) adds to the loss, per layer,
//! α_E·|mean(o·Wᵀ·hᵀ)/(in·out) + mean(o·oᵀ)/out²| over the batch's B × B entries, with h and o
//! the layer's input and output spikes at the last step and W detached (the term steers
//! activity, not weights directly). Both means reduce to the column sums O = Σ_rows o and
//! H = Σ_rows h: S = Oᵀ·Wᵀ·H/(B²·in·out) + ‖O‖²/(B²·out²).

use super::validate_layered;
use crate::error::Result;
use crate::nn::{event_density_for, Param};
use crate::rng::Rng;
use crate::tensor::{matmul, spike_matmul, spike_weight_grad, SpikeIndex, Spikes, Tensor, Transpose};
use crate::train::{Optimizer, OptimizerSpec};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmlpConfig {
    pub layers: Vec<usize>,
    pub time_steps: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerSpec,
    /// The learning rate is multiplied by `lr_gamma` every `lr_step` epochs (StepLR).
    pub lr_step: usize,
    pub lr_gamma: f32,
    /// Hidden layers take their true BP gradient every `bp_every`-th step (or iteration, as
    /// `sbp_hook` says) and the SBP signal otherwise: 1 = BP always (the baseline, biases
    /// learning), 10 = SBP in 90% of them, 0 = SBP always.
    pub bp_every: usize,
    /// α_E of the energy constraint on the last step's spikes (see the module text); 0: off.
    pub energy_weight: f32,
    /// When the SBP signal is formed and BP is mixed in (see the module text).
    pub sbp_hook: SbpHook,
}

/// The timing of the hidden layers' SBP signal (see the module text).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SbpHook {
    /// Once per iteration; BP in every `bp_every`-th iteration.
    PerIteration,
    /// Once per time step, as the released code's backward hook; BP in every `bp_every`-th step.
    #[default]
    PerStep,
}

impl Default for SmlpConfig {
    /// The reference's MNIST settings: batch 100, T 20, Adam 1e-3, StepLR(50, 0.1), BP in every
    /// 10th step as the released hook (the 10% BP of the paper's cost table).
    fn default() -> Self {
        SmlpConfig {
            layers: vec![784, 500, 10],
            time_steps: 20,
            batch_size: 100,
            optimizer: OptimizerSpec::default(),
            lr_step: 50,
            lr_gamma: 0.1,
            bp_every: 10,
            energy_weight: 0.0,
            sbp_hook: SbpHook::PerStep,
        }
    }
}

impl SmlpConfig {
    pub fn validate(&self) -> Result<()> {
        validate_layered(&self.layers, &vec![self.optimizer.lr; self.layers.len() - 1], &[("time_steps", self.time_steps as f32)], self.batch_size)?;
        if !(self.energy_weight.is_finite() && self.energy_weight >= 0.0) {
            return Err(crate::error::Error::config("energy_weight", format!("must be ≥ 0 and finite, got {}", self.energy_weight)));
        }
        if self.sbp_hook == SbpHook::PerStep && self.bp_every != 1 {
            // The released hook scales every hidden layer by σ from the output layer's inputs.
            let width = self.layers[self.layers.len() - 2];
            if let Some(&other) = self.layers[1..self.layers.len() - 1].iter().find(|&&n| n != width) {
                return Err(crate::error::Error::config("layers", format!("sbp_hook = \"per-step\" needs every hidden layer as wide as the last ({width}), got {other}")));
            }
        }
        self.optimizer.validate()
    }

    /// C_iter of the paper's statistic, with the BP share 1/bp_every: mn + nk + kn + (1 − s)·mn
    /// + s·n, s the SBP share (the paper's table has s = 0.9 for 10% BP).
    pub fn cost_per_epoch(&self) -> f64 {
        let l = &self.layers;
        let (m, n, k) = (l[0] as f64, l[1..l.len() - 1].iter().sum::<usize>() as f64, *l.last().unwrap() as f64);
        let sbp_share = match self.bp_every {
            0 => 1.0,
            e => 1.0 - 1.0 / e as f64,
        };
        m * n + n * k + k * n + (1.0 - sbp_share) * m * n + sbp_share * n
    }
}

/// How the spike is formed in the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spike {
    Step,
    /// clamp(V − 0.2, 0, 0.6): the surrogate's primitive, so that BPTT is the exact gradient
    /// (for finite-difference checks).
    Smooth,
}

/// What one layer's forward pass keeps for backward, per step: input (and its packed spikes
/// when it took the event path), sigmoid, V, o.
struct LayerTape {
    inputs: Vec<Vec<f32>>,
    events: Vec<Option<Spikes>>,
    sigmoid: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    o: Vec<Vec<f32>>,
}

/// The per-step hook's view of one iteration: for each hidden layer and step, whether the
/// step's BP contribution stays in the layer's weight gradient; for each step, the output
/// layer's Σ_k |G_t[j, k]| per input j.
struct StepPlan {
    bp_steps: Vec<Vec<bool>>,
    output_abs: Vec<Vec<f32>>,
}

pub struct Smlp {
    pub config: SmlpConfig,
    /// Weight (in × out) and bias per layer, interleaved.
    pub params: Vec<Param>,
    /// Fixed random feedback n_l × K per hidden layer.
    feedback: Vec<Vec<f32>>,
    optimizer: Optimizer,
    iteration: u64,
    /// The per-step hook's count of output-layer steps since the last BP step.
    step_counter: usize,
    pub spike: Spike,
    /// Binary sparse layer inputs take the event-driven kernels (on by default; off: GEMM
    /// always, for comparisons).
    pub event_kernels: bool,
}

impl LayerTape {
    /// `out += x_tᵀ·g` (inputs × `width`) for the layer's input x_t at step t and g (rows ×
    /// `width`): event-driven when x_t was packed.
    fn add_input_outer(&self, t: usize, g: &[f32], out: &mut [f32], width: usize) {
        match &self.events[t] {
            Some(spikes) => spike_weight_grad(&SpikeIndex::new(spikes), g, out, width),
            None => {
                let inputs = out.len() / width;
                let rows = g.len() / width;
                matmul(&self.inputs[t], Transpose::Yes, g, Transpose::No, out, (inputs, width, rows), true, inputs * width * rows >= 1 << 20);
            }
        }
    }
}

/// A step's layer input (rows × `width`) packed as spikes when it is binary and sparse enough
/// for the event kernels to beat GEMM on a layer of `outputs` units (`nn::Linear`'s
/// thresholds); analog inputs (the smooth spike of gradient checks, analog encodings) stay
/// dense.
fn event_input(x: &[f32], width: usize, outputs: usize) -> Option<Spikes> {
    // Counted without branches: a branch per value mispredicts on random spikes and cost more
    // than the products it enables.
    let ones = x.iter().filter(|&&v| v == 1.0).count();
    if ones + x.iter().filter(|&&v| v == 0.0).count() != x.len() || ones as f64 >= event_density_for(outputs) * x.len().max(1) as f64 {
        return None;
    }
    let mut spikes = Spikes::zeros(&[x.len() / width, width], 1);
    for (r, row) in x.chunks(width).enumerate() {
        spikes.pack_row(r, row);
    }
    Some(spikes)
}

/// Σ_k |G[j, k]| for each row j of a row-major matrix `width` wide (σ's per-neuron sum).
fn row_abs_sums(g: &[f32], width: usize) -> Vec<f32> {
    g.chunks(width).map(|row| row.iter().map(|v| v.abs()).sum()).collect()
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + crate::tensor::math::exp(-z))
}

impl Smlp {
    pub fn new(config: SmlpConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, 0x5A1F);
        let mut params = Vec::new();
        for (m, w) in config.layers.windows(2).enumerate() {
            // PyTorch's nn.Linear default: U(−1/√in, 1/√in) for weights and biases.
            let bound = 1.0 / (w[0] as f32).sqrt();
            let mut draw = |n: usize| (0..n).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect::<Vec<f32>>();
            params.push(Param::new(format!("w{m}"), Tensor::from_vec(&[w[0], w[1]], draw(w[0] * w[1]))?, true));
            params.push(Param::new(format!("b{m}"), Tensor::from_vec(&[w[1]], draw(w[1]))?, false));
        }
        let k = *config.layers.last().unwrap();
        let feedback = config.layers[1..config.layers.len() - 1]
            .iter()
            .map(|&n| {
                let bound = (6.0 / k as f32).sqrt(); // Kaiming-uniform over fan-in K
                (0..n * k).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect()
            })
            .collect();
        Ok(Smlp { optimizer: Optimizer::new(config.optimizer.clone()), config, params, feedback, iteration: 0, step_counter: 0, spike: Spike::Step, event_kernels: true })
    }

    fn forward(&self, input: &[Vec<f32>], rows: usize) -> (Vec<LayerTape>, Vec<f32>) {
        let layers = &self.config.layers;
        let t_steps = input.len();
        let mut tapes = Vec::new();
        let mut x: Vec<Vec<f32>> = input.to_vec();
        for m in 0..layers.len() - 1 {
            let (n_in, n) = (layers[m], layers[m + 1]);
            let (w, b) = (self.params[2 * m].value.data(), self.params[2 * m + 1].value.data());
            let events = x.iter().map(|xt| self.event_kernels.then(|| event_input(xt, n_in, n)).flatten()).collect();
            let mut tape = LayerTape { inputs: x.clone(), events, sigmoid: Vec::new(), v: Vec::new(), o: Vec::new() };
            let mut v = vec![0.0f32; rows * n];
            let mut o = vec![0.0f32; rows * n];
            for (xt, packed) in x.iter().zip(&tape.events) {
                let mut z = vec![0.0f32; rows * n];
                match packed {
                    Some(spikes) => spike_matmul(spikes, w, &mut z, n),
                    None => matmul(xt, Transpose::No, w, Transpose::No, &mut z, (rows, n, n_in), false, rows * n * n_in >= 1 << 20),
                }
                let s: Vec<f32> = z.chunks(n).flat_map(|row| row.iter().zip(b).map(|(z, b)| sigmoid(z + b))).collect();
                for k in 0..rows * n {
                    v[k] = 0.2 * v[k] * (1.0 - o[k]) + s[k] - 0.1;
                    o[k] = match self.spike {
                        Spike::Step => (v[k] > 0.5) as u8 as f32,
                        Spike::Smooth => (v[k] - 0.2).clamp(0.0, 0.6),
                    };
                }
                tape.sigmoid.push(s);
                tape.v.push(v.clone());
                tape.o.push(o.clone());
            }
            x = tape.o.clone();
            tapes.push(tape);
        }
        let k = *layers.last().unwrap();
        let mut rate = vec![0.0f32; rows * k];
        for ot in &tapes.last().unwrap().o {
            rate.iter_mut().zip(ot).for_each(|(r, o)| *r += o / t_steps as f32);
        }
        (tapes, rate)
    }

    /// BPTT from dL/d(rate), plus `last_step[m]`, a gradient on layer m's last-step spikes
    /// (the energy constraint's, when on): fills every parameter's gradient. With a `plan`, a
    /// hidden layer's weight gradient keeps only the steps the plan marks, and the output
    /// layer's per-step Σ_k |G_t[j, k]| are recorded in it.
    fn backward(&mut self, tapes: &[LayerTape], d_rate: &[f32], last_step: Option<&[Vec<f32>]>, rows: usize, mut plan: Option<&mut StepPlan>) {
        let layers = self.config.layers.clone();
        let t_steps = tapes[0].v.len();
        // dL/do_t arriving at the current layer from above, per step.
        let mut d_out: Vec<Vec<f32>> = vec![d_rate.iter().map(|d| d / t_steps as f32).collect(); t_steps];
        for m in (0..layers.len() - 1).rev() {
            let (n_in, n) = (layers[m], layers[m + 1]);
            let tape = &tapes[m];
            if let Some(extra) = last_step {
                d_out[t_steps - 1].iter_mut().zip(&extra[m]).for_each(|(d, e)| *d += e);
            }
            let mut d_w = vec![0.0f32; n_in * n];
            let mut d_b = vec![0.0f32; n];
            let mut d_in = vec![vec![0.0f32; rows * n_in]; t_steps];
            let mut d_v_next = vec![0.0f32; rows * n];
            for t in (0..t_steps).rev() {
                let (v, o) = (&tape.v[t], &tape.o[t]);
                let mut d_z = vec![0.0f32; rows * n];
                for k in 0..rows * n {
                    // o_t feeds V_{t+1} through the reset: ∂V_{t+1}/∂o_t = −0.2·V_t.
                    let d_o = d_out[t][k] - 0.2 * v[k] * d_v_next[k];
                    let surrogate = ((v[k] - 0.5).abs() < 0.3) as u8 as f32;
                    let d_v = d_o * surrogate + d_v_next[k] * 0.2 * (1.0 - o[k]);
                    let s = tape.sigmoid[t][k];
                    d_z[k] = d_v * s * (1.0 - s);
                    d_v_next[k] = d_v;
                }
                match plan.as_deref_mut() {
                    Some(plan) if m == layers.len() - 2 => {
                        let mut step = vec![0.0f32; n_in * n];
                        tape.add_input_outer(t, &d_z, &mut step, n);
                        plan.output_abs[t] = row_abs_sums(&step, n);
                        d_w.iter_mut().zip(&step).for_each(|(w, g)| *w += g);
                    }
                    Some(plan) if !plan.bp_steps[m][t] => {}
                    _ => tape.add_input_outer(t, &d_z, &mut d_w, n),
                }
                d_z.chunks(n).for_each(|row| d_b.iter_mut().zip(row).for_each(|(b, d)| *b += d));
                if m > 0 {
                    let w = self.params[2 * m].value.data();
                    matmul(&d_z, Transpose::No, w, Transpose::Yes, &mut d_in[t], (rows, n_in, n), false, rows * n_in * n >= 1 << 20);
                }
            }
            self.params[2 * m].grad.data_mut().copy_from_slice(&d_w);
            self.params[2 * m + 1].grad.data_mut().copy_from_slice(&d_b);
            d_out = d_in;
        }
    }

    /// The per-iteration hook: hidden layer m's gradient becomes the SBP signal, with σ from the
    /// gradient of layer m + 1 already in place.
    fn replace_with_sbp_signal(&mut self, tapes: &[LayerTape], error: &[f32], rows: usize, m: usize) {
        let layers = &self.config.layers;
        let (n, k) = (layers[m + 1], *layers.last().unwrap());
        let sigma: Vec<f32> = row_abs_sums(self.params[2 * (m + 1)].grad.data(), layers[m + 2]).iter().map(|a| 0.01 * a / (n * k) as f32).collect();
        self.params[2 * m].grad.data_mut().fill(0.0);
        self.add_sbp_signal(tapes, error, rows, m, &sigma);
    }

    /// Adds the SBP signal with factors `sigma` (see the module text) to hidden layer m's weight
    /// gradient and zeroes its bias gradient.
    fn add_sbp_signal(&mut self, tapes: &[LayerTape], error: &[f32], rows: usize, m: usize, sigma: &[f32]) {
        let layers = &self.config.layers;
        let (n_in, n, k) = (layers[m], layers[m + 1], *layers.last().unwrap());
        let tape = &tapes[m];
        let t_steps = tape.v.len();
        // e·Bᵀ: rows × n; then ((B·eᵀ)·x_last)ᵀ = x_lastᵀ·(e·Bᵀ): n_in × n.
        let mut eb = vec![0.0f32; rows * n];
        matmul(error, Transpose::No, &self.feedback[m], Transpose::Yes, &mut eb, (rows, n, k), false, false);
        let mut bex = vec![0.0f32; n_in * n];
        tape.add_input_outer(t_steps - 1, &eb, &mut bex, n);
        // H = Σ_{late} pre(t−1)ᵀ post(t) − Σ_{early} pre(t−1)ᵀ post(t), ÷ rows².
        let mut hebb = vec![0.0f32; n_in * n];
        let steps = |t: usize, sign: f32, hebb: &mut Vec<f32>| {
            let negated: Vec<f32> = tape.o[t].iter().map(|o| sign * o).collect();
            tape.add_input_outer(t - 1, &negated, hebb, n);
        };
        for t in [t_steps - 2, t_steps - 1] {
            steps(t, 1.0, &mut hebb);
        }
        for t in [1, 2.min(t_steps - 1)] {
            steps(t, -1.0, &mut hebb);
        }
        let grad = self.params[2 * m].grad.data_mut();
        let norm = 1.0 / (rows * rows) as f32;
        for i in 0..n_in {
            for j in 0..n {
                grad[i * n + j] += sigma[j] * bex[i * n + j] + 0.01 * sigma[j] * hebb[i * n + j] * norm;
            }
        }
        self.params[2 * m + 1].grad.data_mut().fill(0.0);
    }

    /// One iteration on `input` (T steps of rows × inputs spikes) and `target` (rows × K);
    /// returns the output rates before the update.
    pub fn train_batch(&mut self, input: &[Vec<f32>], target: &[f32], epoch: usize) -> Vec<f32> {
        let rows = target.len() / self.config.layers.last().unwrap();
        let hidden = self.config.layers.len() - 2;
        self.iteration += 1;
        let rate = match self.config.sbp_hook {
            _ if self.config.bp_every == 1 => self.bp_gradients(input, target, None).1,
            SbpHook::PerIteration => {
                let (tapes, rate) = self.bp_gradients(input, target, None);
                let use_bp = self.config.bp_every != 0 && self.iteration % self.config.bp_every as u64 == 0;
                if !use_bp {
                    let error: Vec<f32> = target.iter().zip(&rate).map(|(y, r)| y - r).collect();
                    for m in (0..hidden).rev() {
                        self.replace_with_sbp_signal(&tapes, &error, rows, m);
                    }
                }
                rate
            }
            SbpHook::PerStep => {
                let mut plan = self.plan_steps(input.len());
                let (tapes, rate) = self.bp_gradients(input, target, Some(&mut plan));
                let error: Vec<f32> = target.iter().zip(&rate).map(|(y, r)| y - r).collect();
                let (n, k) = (self.config.layers[hidden], *self.config.layers.last().unwrap());
                for m in (0..hidden).rev() {
                    let sigma: Vec<f32> = (0..n).map(|j| 0.01 * plan.output_abs.iter().zip(&plan.bp_steps[m]).filter(|(_, &bp)| !bp).map(|(abs, _)| abs[j]).sum::<f32>() / (n * k) as f32).collect();
                    self.add_sbp_signal(&tapes, &error, rows, m, &sigma);
                }
                for bias in self.params.iter_mut().skip(1).step_by(2) {
                    bias.grad.data_mut().fill(0.0);
                }
                rate
            }
        };
        let lr = self.config.optimizer.lr * self.config.lr_gamma.powi((epoch / self.config.lr_step.max(1)) as i32);
        let mut params: Vec<&mut Param> = self.params.iter_mut().collect();
        self.optimizer.step(&mut params, lr);
        rate
    }

    pub fn evaluate_batch(&self, input: &[Vec<f32>], rows: usize) -> Vec<f32> {
        self.forward(input, rows).1
    }

    /// The loss of `input` against `target`: the mean squared error plus the energy constraint
    /// (for gradient checks).
    pub fn loss(&self, input: &[Vec<f32>], target: &[f32]) -> f64 {
        self.loss_with_energy_weights(input, target, &self.weight_matrices())
    }

    /// Each layer's weight matrix (in × out), without the biases.
    fn weight_matrices(&self) -> Vec<&[f32]> {
        self.params.iter().step_by(2).map(|p| p.value.data()).collect()
    }

    /// The loss with the energy constraint's (detached) weights given apart.
    fn loss_with_energy_weights(&self, input: &[Vec<f32>], target: &[f32], energy_weights: &[&[f32]]) -> f64 {
        let rows = target.len() / self.config.layers.last().unwrap();
        let (tapes, rate) = self.forward(input, rows);
        let mse = rate.iter().zip(target).map(|(r, y)| ((r - y) as f64).powi(2)).sum::<f64>() / target.len() as f64;
        mse + self.energy(&tapes, energy_weights, rows).0
    }

    /// α_E·Σ_l |S_l| and its gradient on each layer's last-step spikes (rows × units, the same
    /// for every row): layer l's output spikes through O, and the layer below's through H.
    /// Off (α_E = 0): zero and no gradients.
    fn energy(&self, tapes: &[LayerTape], weights: &[&[f32]], rows: usize) -> (f64, Vec<Vec<f32>>) {
        let alpha = self.config.energy_weight;
        let layers = &self.config.layers;
        if alpha == 0.0 {
            return (0.0, Vec::new());
        }
        let mut d_spikes: Vec<Vec<f32>> = layers[1..].iter().map(|&n| vec![0.0f32; n]).collect();
        let column_sums = |x: &[f32], width: usize| {
            x.chunks(width).fold(vec![0.0f32; width], |mut acc, row| {
                acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                acc
            })
        };
        let mut total = 0.0f64;
        let b2 = (rows * rows) as f32;
        for (m, tape) in tapes.iter().enumerate() {
            let (n_in, n, w) = (layers[m], layers[m + 1], weights[m]);
            let last = tape.o.len() - 1;
            let (o, h) = (column_sums(&tape.o[last], n), column_sums(&tape.inputs[last], n_in));
            // W·… over the input index (WH, one per unit) and the unit index (WO, one per input).
            let wh: Vec<f32> = (0..n).map(|j| (0..n_in).map(|i| w[i * n + j] * h[i]).sum()).collect();
            let wo: Vec<f32> = (0..n_in).map(|i| (0..n).map(|j| w[i * n + j] * o[j]).sum()).collect();
            let (cross, own) = (b2 * (n_in * n) as f32, b2 * (n * n) as f32);
            let s: f32 = o.iter().zip(&wh).map(|(o, wh)| o * wh).sum::<f32>() / cross + o.iter().map(|o| o * o).sum::<f32>() / own;
            total += (alpha * s.abs()) as f64;
            let sign = alpha * s.signum();
            d_spikes[m].iter_mut().zip(o.iter().zip(&wh)).for_each(|(d, (o, wh))| *d += sign * (wh / cross + 2.0 * o / own));
            if m > 0 {
                d_spikes[m - 1].iter_mut().zip(&wo).for_each(|(d, wo)| *d += sign * wo / cross);
            }
        }
        (total, d_spikes.iter().map(|d| d.repeat(rows)).collect())
    }

    /// Which steps of this iteration give each hidden layer its BP contribution under the
    /// per-step hook: the backward pass meets the steps last first, each output-layer step
    /// counts one, and the first hidden layer (from the top) to find the count at `bp_every`
    /// takes that step's BP gradient and restarts the count.
    fn plan_steps(&mut self, t_steps: usize) -> StepPlan {
        let hidden = self.config.layers.len() - 2;
        let mut bp_steps = vec![vec![false; t_steps]; hidden];
        for t in (0..t_steps).rev() {
            self.step_counter += 1;
            for layer in bp_steps.iter_mut().rev() {
                if self.config.bp_every != 0 && self.step_counter == self.config.bp_every {
                    layer[t] = true;
                    self.step_counter = 0;
                }
            }
        }
        StepPlan { bp_steps, output_abs: vec![Vec::new(); t_steps] }
    }

    /// The forward pass and the BP gradient of the loss in every parameter's `grad` (no SBP,
    /// no update; with a `plan`, as `backward` says); returns the tapes and the output rates.
    fn bp_gradients(&mut self, input: &[Vec<f32>], target: &[f32], plan: Option<&mut StepPlan>) -> (Vec<LayerTape>, Vec<f32>) {
        let k = *self.config.layers.last().unwrap();
        let rows = target.len() / k;
        let (tapes, rate) = self.forward(input, rows);
        let d_rate: Vec<f32> = rate.iter().zip(target).map(|(r, y)| 2.0 * (r - y) / (rows * k) as f32).collect();
        let energy = (self.config.energy_weight > 0.0).then(|| self.energy(&tapes, &self.weight_matrices(), rows).1);
        self.backward(&tapes, &d_rate, energy.as_deref(), rows, plan);
        (tapes, rate)
    }
}

#[cfg(test)]
mod tests;
