//! The leaky integrate-and-fire family in one kernel: IF (no leak), LIF, PLIF (learned time
//! constant) and ALIF (adaptive threshold) differ only in coefficients, so they share the code.
//!
//! One step, for input current x:
//!   a[t] = ρ·a[t−1] + s[t−1]                       (ALIF only; threshold θ[t] = θ₀ + β·a[t])
//!   h[t] = α·v[t−1] + γ·x[t]                       (charge; α, γ from `Decay`)
//!   s[t] = H(h[t] − θ[t])                          (fire)
//!   v[t] = h[t] + (v_reset − h[t])·s[t]            (hard reset to a value)
//!        | h[t] − θ[t]·s[t]                        (soft reset by subtraction)
//! A detached reset treats the reset term as a constant in the backward pass (no gradient
//! through s[t] or θ[t] there), as SpikingJelly's `detach_reset=True`.

use super::{group_by_sample, read_rows_by_sample, rows_by_sample, time_batch_features, to_bf16, Decay, FireMode, NeuronModel, NeuronTape, StateRow, Surrogate, TapePrecision, TapeState};
use crate::tensor::{Activation, Spikes, Tensor};
use multiversion::multiversion;
use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reset {
    /// Hard reset: the membrane is set to this value after a spike.
    To(f32),
    /// Soft reset: the threshold is subtracted after a spike.
    Subtract,
}

/// Spike-triggered threshold adaptation (Bellec et al. 2018, LSNN): θ = θ₀ + strength·a.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adaptation {
    /// ρ = e^(−dt/τ_a), the per-step decay of the adaptation variable.
    pub decay: f32,
    /// β, threshold increase per unit of adaptation.
    pub strength: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lif {
    pub decay: Decay,
    pub threshold: f32,
    pub reset: Reset,
    pub detach_reset: bool,
    pub surrogate: Surrogate,
    pub adaptation: Option<Adaptation>,
    /// PLIF: the rate dt/τ is learned, as sigmoid(w) with w the layer's parameter.
    pub learn_tau: bool,
    /// How the surrogate's argument is kept for the backward pass.
    pub tape: TapePrecision,
    /// Lateral inhibition (spiking k-winners-take-all): at each step at most this many neurons
    /// of a sample fire — those above threshold with the highest membrane potential (ties: lower
    /// index). An inhibited neuron neither spikes nor resets, and passes no gradient through its
    /// spike (as the k-winners layer passes none through its losers).
    pub winners: Option<usize>,
}

impl Lif {
    /// LIF with SpikingJelly's defaults: Euler, decayed input, hard reset to 0, threshold 1.
    pub fn new(tau: f32) -> Self {
        Lif {
            decay: Decay { rate: 1.0 / tau, discretisation: super::Discretisation::Euler, decay_input: true },
            threshold: 1.0,
            reset: Reset::To(0.0),
            detach_reset: false,
            surrogate: Surrogate::default(),
            adaptation: None,
            learn_tau: false,
            tape: TapePrecision::F32,
            winners: None,
        }
    }

    pub fn integrate_and_fire() -> Self {
        Lif { decay: Decay::NONE, ..Lif::new(2.0) }
    }
}

/// What produces s from u = h − θ.
trait FireRule: Copy + Send + Sync {
    fn fire(&self, u: f32) -> f32;
}

#[derive(Clone, Copy)]
struct Step;
impl FireRule for Step {
    #[inline(always)]
    fn fire(&self, u: f32) -> f32 {
        if u >= 0.0 {
            1.0
        } else {
            0.0
        }
    }
}

#[derive(Clone, Copy)]
struct Smooth(Surrogate);
impl FireRule for Smooth {
    #[inline(always)]
    fn fire(&self, u: f32) -> f32 {
        self.0.primitive(u)
    }
}

trait ResetRule: Copy + Send + Sync {
    fn apply(&self, h: f32, threshold: f32, s: f32) -> f32;
    /// (∂v/∂h, ∂v/∂s, ∂v/∂θ) of `apply`.
    fn partials(&self, h: f32, threshold: f32, s: f32) -> (f32, f32, f32);
}

#[derive(Clone, Copy)]
struct ToValue(f32);
impl ResetRule for ToValue {
    #[inline(always)]
    fn apply(&self, h: f32, _: f32, s: f32) -> f32 {
        h + (self.0 - h) * s
    }
    #[inline(always)]
    fn partials(&self, h: f32, _: f32, s: f32) -> (f32, f32, f32) {
        (1.0 - s, self.0 - h, 0.0)
    }
}

#[derive(Clone, Copy)]
struct BySubtraction;
impl ResetRule for BySubtraction {
    #[inline(always)]
    fn apply(&self, h: f32, threshold: f32, s: f32) -> f32 {
        h - threshold * s
    }
    #[inline(always)]
    fn partials(&self, _: f32, threshold: f32, s: f32) -> (f32, f32, f32) {
        (1.0, -threshold, -s)
    }
}

/// Coefficients of one run, resolved once outside the loops.
#[derive(Clone, Copy)]
struct Coeffs {
    leak: f32,
    gain: f32,
    threshold: f32,
    rho: f32,
    beta: f32,
    detach: bool,
    surrogate: Surrogate,
    /// Winners per sample and step; 0: no inhibition (`Lif::winners` of `Some(0)`, a silent
    /// layer, is refused when a layer is built).
    winners: usize,
}

impl Lif {
    fn coeffs(&self) -> Coeffs {
        let (rho, beta) = self.adaptation.map_or((0.0, 0.0), |a| (a.decay, a.strength));
        Coeffs { leak: self.decay.leak(), gain: self.decay.gain(), threshold: self.threshold, rho, beta, detach: self.detach_reset, surrogate: self.surrogate, winners: self.winners.unwrap_or(0) }
    }

    /// Calls `run` with the fire and reset rules resolved to concrete types, so the kernels are
    /// compiled once per combination with no branches inside the time loop.
    fn dispatch<Out>(&self, fire: FireMode, run: impl KernelRun<Out>) -> Out {
        let adaptive = self.adaptation.is_some();
        match (fire, self.reset) {
            (FireMode::Heaviside, Reset::To(v)) => run.run(adaptive, Step, ToValue(v)),
            (FireMode::Heaviside, Reset::Subtract) => run.run(adaptive, Step, BySubtraction),
            (FireMode::Smooth, Reset::To(v)) => run.run(adaptive, Smooth(self.surrogate), ToValue(v)),
            (FireMode::Smooth, Reset::Subtract) => run.run(adaptive, Smooth(self.surrogate), BySubtraction),
        }
    }
}

trait KernelRun<Out> {
    fn run<F: FireRule, R: ResetRule>(self, adaptive: bool, fire: F, reset: R) -> Out;
}

/// Where one sample's spikes go, step by step: packed bits (real spikes) or values (the
/// smooth relaxation used by gradient checks).
enum SpikeRows<'a> {
    Bits(Vec<&'a mut [u64]>),
    Values(Vec<&'a mut [f32]>),
}

struct ForwardRun<'a> {
    c: Coeffs,
    /// Per step: the input current on entry, overwritten by the surrogate argument u.
    xu: Vec<Vec<&'a mut [f32]>>,
    s: Vec<SpikeRows<'a>>,
    a: Vec<Vec<&'a mut [f32]>>,
    /// Per step: the neurons lateral inhibition silenced (bits; empty lists without it).
    inhibited: Vec<Vec<&'a mut [u64]>>,
}

impl KernelRun<()> for ForwardRun<'_> {
    fn run<F: FireRule, R: ResetRule>(self, adaptive: bool, fire: F, reset: R) {
        let c = self.c;
        let work = self.xu.into_par_iter().zip(self.s).zip(self.a).zip(self.inhibited);
        if adaptive {
            work.for_each(|(((xu, s), a), inh)| forward_sample::<true, F, R>(&c, fire, reset, xu, s, a, inh));
        } else {
            work.for_each(|(((xu, s), a), inh)| forward_sample::<false, F, R>(&c, fire, reset, xu, s, a, inh));
        }
    }
}

/// Marks in `inhibited` (bits) the neurons with `u ≥ 0` beyond the `k` with the largest `u`
/// (ties: lower index first); `order` is scratch.
fn inhibit_beyond(u: &[f32], k: usize, inhibited: &mut [u64], order: &mut Vec<(f32, u32)>) {
    inhibited.fill(0);
    order.clear();
    order.extend(u.iter().enumerate().filter(|(_, &v)| v >= 0.0).map(|(i, &v)| (v, i as u32)));
    if order.len() <= k {
        return;
    }
    let by_potential = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if k > 0 {
        order.select_nth_unstable_by(k - 1, by_potential);
    }
    let losers = if k > 0 { &order[k..] } else { &order[..] };
    for &(_, i) in losers {
        inhibited[i as usize / 64] |= 1 << (i % 64);
    }
}

#[inline(always)]
fn bit(words: &[u64], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn forward_sample<const ADAPT: bool, F: FireRule, R: ResetRule>(c: &Coeffs, fire: F, reset: R, mut xu: Vec<&mut [f32]>, mut s: SpikeRows, mut a: Vec<&mut [f32]>, mut inhibited: Vec<&mut [u64]>) {
    let n = xu.first().map_or(0, |r| r.len());
    let mut order = Vec::new();
    let mut h_row = vec![0.0f32; if c.winners > 0 { n } else { 0 }];
    let mut v = vec![0.0f32; n];
    let mut adapt = vec![0.0f32; if ADAPT { n } else { 0 }];
    // This step's spikes; after the step, the previous step's (which ALIF's a[t] reads).
    let mut st = vec![0.0f32; n];
    for t in 0..xu.len() {
        let xut = &mut *xu[t];
        if ADAPT {
            // a[t] = ρ a[t−1] + s[t−1]; `st` still holds s[t−1] (zeros at t = 0).
            for i in 0..n {
                adapt[i] = c.rho * adapt[i] + st[i];
            }
            a[t].copy_from_slice(&adapt);
        }
        if c.winners > 0 {
            // Two passes: every potential first, then who may fire.
            for i in 0..n {
                let threshold = if ADAPT { c.threshold + c.beta * adapt[i] } else { c.threshold };
                h_row[i] = c.leak * v[i] + c.gain * xut[i];
                xut[i] = h_row[i] - threshold;
            }
            inhibit_beyond(xut, c.winners, inhibited[t], &mut order);
            for i in 0..n {
                let threshold = if ADAPT { c.threshold + c.beta * adapt[i] } else { c.threshold };
                let si = if bit(inhibited[t], i) { 0.0 } else { fire.fire(xut[i]) };
                v[i] = reset.apply(h_row[i], threshold, si);
                st[i] = si;
            }
        } else {
            for i in 0..n {
                let threshold = if ADAPT { c.threshold + c.beta * adapt[i] } else { c.threshold };
                let h = c.leak * v[i] + c.gain * xut[i];
                let ui = h - threshold;
                let si = fire.fire(ui);
                v[i] = reset.apply(h, threshold, si);
                xut[i] = ui;
                st[i] = si;
            }
        }
        match &mut s {
            SpikeRows::Bits(rows) => crate::tensor::pack_row_into(rows[t], &st),
            SpikeRows::Values(rows) => rows[t].copy_from_slice(&st),
        }
    }
}

struct BackwardRun<'a, U> {
    c: Coeffs,
    decay: Decay,
    learn_tau: bool,
    u: Vec<Vec<U>>,
    a: Vec<Vec<&'a [f32]>>,
    x: Vec<Vec<&'a [f32]>>,
    inhibited: Vec<Vec<&'a [u64]>>,
    /// Per step: dL/d(output) on entry, overwritten by dL/d(input).
    g_dx: Vec<Vec<&'a mut [f32]>>,
}

impl<U: StateRow> KernelRun<f64> for BackwardRun<'_, U> {
    fn run<F: FireRule, R: ResetRule>(self, adaptive: bool, fire: F, reset: R) -> f64 {
        let (c, decay, learn) = (self.c, self.decay, self.learn_tau);
        let work = self.u.into_par_iter().zip(self.a).zip(self.x).zip(self.inhibited).zip(self.g_dx);
        // Per-sample partial sums reduced in sample order: identical for any thread count.
        let partials: Vec<f64> = if adaptive {
            work.map(|((((u, a), x), inh), g_dx)| backward_sample::<true, F, R, U>(&c, &decay, learn, fire, reset, &u, &a, &x, &inh, g_dx)).collect()
        } else {
            work.map(|((((u, a), x), inh), g_dx)| backward_sample::<false, F, R, U>(&c, &decay, learn, fire, reset, &u, &a, &x, &inh, g_dx)).collect()
        };
        partials.iter().sum()
    }
}

/// Reverse-time pass for one sample; returns dL/d(rate) when the time constant is learned.
#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn backward_sample<const ADAPT: bool, F: FireRule, R: ResetRule, U: StateRow>(
    c: &Coeffs,
    decay: &Decay,
    learn_tau: bool,
    fire: F,
    reset: R,
    u: &[U],
    a: &[&[f32]],
    x: &[&[f32]],
    inhibited: &[&[u64]],
    mut g_dx: Vec<&mut [f32]>,
) -> f64 {
    // An inhibited neuron did not spike and passes no gradient through its spike.
    let silenced = |t: usize, i: usize| c.winners > 0 && bit(inhibited[t], i);
    let n = g_dx.first().map_or(0, |r| r.len());
    let threshold_at = |t: usize, i: usize| if ADAPT { c.threshold + c.beta * a[t][i] } else { c.threshold };
    let (d_leak, d_gain) = decay.derivatives();
    let mut dv = vec![0.0f32; n]; // dL/dv[t]
    let mut da = vec![0.0f32; if ADAPT { n } else { 0 }]; // dL/da[t+1]
    let mut d_rate = 0.0f64;
    let mut surrogate_grad = vec![0.0f32; n];
    // This step's and the previous step's state, read back from the tape.
    let (mut ut, mut up) = (vec![0.0f32; n], vec![0.0f32; if learn_tau { n } else { 0 }]);
    for t in (0..u.len()).rev() {
        let g_dxt = &mut *g_dx[t];
        u[t].load_into(&mut ut);
        if learn_tau && t > 0 {
            u[t - 1].load_into(&mut up);
        }
        c.surrogate.grad_into(&ut, &mut surrogate_grad);
        if c.winners > 0 {
            (0..n).filter(|&i| silenced(t, i)).for_each(|i| surrogate_grad[i] = 0.0);
        }
        for i in 0..n {
            let ui = ut[i];
            let threshold = threshold_at(t, i);
            let h = ui + threshold;
            let si = if silenced(t, i) { 0.0 } else { fire.fire(ui) };
            let (dv_dh, dv_ds, dv_dth) = reset.partials(h, threshold, si);
            let mut ds = g_dxt[i];
            if ADAPT {
                ds += da[i]; // s[t] drives a[t+1]
            }
            if !c.detach {
                ds += dv[i] * dv_ds;
            }
            let du = surrogate_grad[i] * ds;
            let dh = du + dv[i] * dv_dh;
            if ADAPT {
                let dth = -du + if c.detach { 0.0 } else { dv[i] * dv_dth };
                da[i] = c.beta * dth + c.rho * da[i];
            }
            g_dxt[i] = c.gain * dh;
            if learn_tau {
                let v_prev = if t == 0 {
                    0.0
                } else {
                    let (upi, thp) = (up[i], threshold_at(t - 1, i));
                    reset.apply(upi + thp, thp, if silenced(t - 1, i) { 0.0 } else { fire.fire(upi) })
                };
                d_rate += (dh * (d_leak * v_prev + d_gain * x[t][i])) as f64;
            }
            dv[i] = c.leak * dh;
        }
    }
    d_rate
}

impl Lif {
    fn run_backward<U: StateRow>(&self, u: Vec<Vec<U>>, tape: &NeuronTape, grad: &mut Tensor, fire: FireMode) -> f64 {
        let (_, batch, n) = time_batch_features(&tape.shape);
        let run = BackwardRun {
            c: self.coeffs(),
            decay: self.decay,
            learn_tau: self.learn_tau,
            u,
            a: read_rows_by_sample(tape.adaptation.as_deref().unwrap_or_default(), batch, n),
            x: read_rows_by_sample(tape.input.as_deref().unwrap_or_default(), batch, n),
            inhibited: match &tape.inhibited {
                Some(bits) => group_by_sample((0..bits.rows()).map(|r| bits.row_words(r)), batch),
                None => (0..batch).map(|_| Vec::new()).collect(),
            },
            g_dx: rows_by_sample(grad.data_mut(), batch, n),
        };
        self.dispatch(fire, run)
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl NeuronModel for Lif {
    fn kind(&self) -> &'static str {
        match (self.learn_tau, self.adaptation.is_some(), self.decay.rate == 0.0) {
            (true, _, _) => "plif",
            (_, true, _) => "alif",
            (_, _, true) => "if",
            _ => "lif",
        }
    }

    fn is_spiking(&self) -> bool {
        true
    }

    fn parameters(&self) -> Vec<f32> {
        if self.learn_tau {
            let r = self.decay.rate;
            vec![(r / (1.0 - r)).ln()]
        } else {
            Vec::new()
        }
    }

    fn set_parameters(&mut self, values: &[f32]) {
        if self.learn_tau {
            self.decay.rate = sigmoid(values[0]);
        }
    }

    fn forward(&self, input: Tensor, fire: FireMode, keep_tape: bool) -> (Activation, Option<NeuronTape>) {
        let (_, batch, n) = time_batch_features(input.shape());
        let len = input.len();
        let shape = input.shape().to_vec();
        let kept_input = (keep_tape && self.learn_tau).then(|| input.data().to_vec());
        // The kernel reads each input once, where it writes the state backward keeps.
        let mut state = input.into_vec();
        let mut bits = Spikes::zeros(&shape, shape.len() - 2);
        let mut values = Tensor::zeros(if fire == FireMode::Smooth { &shape[..] } else { &[0] });
        let spike_rows: Vec<SpikeRows> = match fire {
            FireMode::Heaviside => group_by_sample(bits.rows_mut(), batch).into_iter().map(SpikeRows::Bits).collect(),
            FireMode::Smooth => rows_by_sample(values.data_mut(), batch, n).into_iter().map(SpikeRows::Values).collect(),
        };
        let mut adaptation = vec![0.0f32; if self.adaptation.is_some() { len } else { 0 }];
        let a_rows = rows_by_sample(&mut adaptation, batch, n); // empty lists unless adaptive
        let mut inhibited = Spikes::zeros(if self.winners.is_some() { &shape[..] } else { &[0, 0, 0] }, shape.len() - 2);
        let inhibited_rows = match self.winners {
            Some(_) => group_by_sample(inhibited.rows_mut(), batch),
            None => (0..batch).map(|_| Vec::new()).collect(),
        };
        let run = ForwardRun { c: self.coeffs(), xu: rows_by_sample(&mut state, batch, n), s: spike_rows, a: a_rows, inhibited: inhibited_rows };
        self.dispatch(fire, run);
        let output = match fire {
            FireMode::Heaviside => Activation::Spikes(bits),
            FireMode::Smooth => Activation::Dense(values),
        };
        // Compacted only when kept: an evaluation pass drops the state unread.
        let tape = keep_tape.then(|| NeuronTape {
            shape,
            state: match self.tape {
                TapePrecision::F32 => TapeState::F32(state),
                TapePrecision::Bf16 => TapeState::Bf16(state.par_iter().with_min_len(4096).map(|&x| to_bf16(x)).collect()),
            },
            adaptation: self.adaptation.is_some().then_some(adaptation),
            input: kept_input,
            inhibited: self.winners.is_some().then_some(inhibited),
            states: None,
        });
        (output, tape)
    }

    fn backward(&self, tape: &NeuronTape, grad_output: Tensor, fire: FireMode) -> (Tensor, Vec<f32>) {
        let (_, batch, n) = time_batch_features(&tape.shape);
        let mut grad_input = grad_output; // overwritten in place, step by step
        let d_rate = match &tape.state {
            TapeState::F32(u) => self.run_backward(read_rows_by_sample(u, batch, n), tape, &mut grad_input, fire),
            TapeState::Bf16(u) => self.run_backward(read_rows_by_sample(u, batch, n), tape, &mut grad_input, fire),
        };
        let param_grads = if self.learn_tau {
            let r = self.decay.rate;
            vec![(d_rate * (r * (1.0 - r)) as f64) as f32]
        } else {
            Vec::new()
        };
        (grad_input, param_grads)
    }
}
