//! Hodgkin–Huxley neurons for simulation, and their exact decomposition into four time-varying
//! LIF units (tv-LIF2HH, He et al. 2024; `../shared/docs/reference/internal-complexity.md` §2).
//!
//! Units: mV, ms, µA/cm², mS/cm², µF/cm². State in f64, one value per neuron per variable
//! (struct of arrays), advanced by `step` with an explicit `dt`; the input current is held
//! constant over a step.
//!
//!   C dV/dt = I − ḡNa m³h (V − E_Na) − ḡK n⁴ (V − E_K) − g_L (V − E_L)
//!   dx/dt   = α_x(V)(1 − x) − β_x(V) x,  x ∈ {m, n, h}

use super::dual::Scalar;
use super::ode_model::OdeNeuron;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The two voltage conventions of the reference code: the original paper's, with rest at 0 mV,
/// and the modern one, with rest at −65 mV. Same dynamics, shifted by 65 mV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VoltageConvention {
    /// Rest at 0 mV: E_Na 115, E_K −12, E_L 10.613 (Hodgkin & Huxley 1952).
    RestAtZero,
    /// Rest at −65 mV: E_Na 50, E_K −77, E_L −54.387.
    #[default]
    RestAtMinus65,
}

impl VoltageConvention {
    /// Added to a rest-at-0 voltage to get this convention's.
    fn offset(self) -> f64 {
        match self {
            VoltageConvention::RestAtZero => 0.0,
            VoltageConvention::RestAtMinus65 => -65.0,
        }
    }
}

/// How a step integrates the equations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Integrator {
    /// Forward Euler (the reference code's).
    Euler,
    /// Exponential Euler: each variable decays exactly towards its steady state with the
    /// others held at their start-of-step values (exact for the linear parts). First order with
    /// a large constant for HH: spike times within 0.1 ms of the fine reference only for
    /// dt ≤ 2.5 µs (forward Euler: dt ≤ 10 µs); see `integrator_accuracy` in the tests.
    ExponentialEuler,
    /// Classic fourth-order Runge–Kutta; HH spike times within 0.0001 ms at dt = 10 µs.
    #[default]
    Rk4,
}

/// Squid-axon parameters (standard values by default).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HhParams {
    pub convention: VoltageConvention,
    /// Membrane capacitance, µF/cm².
    pub c: f64,
    pub g_na: f64,
    pub g_k: f64,
    pub g_l: f64,
    /// A spike is an upward crossing of this voltage, mV (`standard`: the reference code's
    /// detectors, 70 at rest 0 and −40 at rest −65).
    pub spike_threshold: f64,
}

impl HhParams {
    /// Standard parameters in a convention, with the reference code's spike detector
    /// (V > 70 mV at rest 0; V > −40 mV at rest −65).
    pub fn standard(convention: VoltageConvention) -> Self {
        let spike_threshold = match convention {
            VoltageConvention::RestAtZero => 70.0,
            VoltageConvention::RestAtMinus65 => -40.0,
        };
        HhParams { convention, c: 1.0, g_na: 120.0, g_k: 36.0, g_l: 0.3, spike_threshold }
    }

    /// Reversal potentials (E_Na, E_K, E_L) in this convention.
    pub fn reversals(&self) -> [f64; 3] {
        let o = self.convention.offset();
        [115.0 + o, -12.0 + o, 10.613 + o]
    }

    /// Gates (m, n, h) at their steady state for voltage `v`.
    pub fn steady_gates(&self, v: f64) -> [f64; 3] {
        let [am, bm, an, bn, ah, bh] = self.rates(v);
        [am / (am + bm), an / (an + bn), ah / (ah + bh)]
    }

    /// The resting state (V, m, n, h): the voltage where the membrane current vanishes with
    /// every gate at its steady state (about −65 mV at rest −65), found by bisection.
    pub fn resting_state(&self) -> [f64; 4] {
        let current = |v: f64| {
            let [m, n, h] = self.steady_gates(v);
            let g = self.conductances(m, n, h);
            let e = self.reversals();
            (0..3).map(|k| g[k] * (v - e[k])).sum::<f64>()
        };
        let o = self.convention.offset();
        let (mut lo, mut hi) = (-20.0 + o, 20.0 + o); // the ionic current rises through 0 here
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if current(mid) > 0.0 {
                hi = mid
            } else {
                lo = mid
            }
        }
        let v = 0.5 * (lo + hi);
        let [m, n, h] = self.steady_gates(v);
        [v, m, n, h]
    }

    /// The reference code's initial state (V, m, n, h) in this convention. The rest-at-0 values
    /// are the code's own (non-standard n and h), kept as written.
    pub fn initial_state(&self) -> [f64; 4] {
        match self.convention {
            VoltageConvention::RestAtZero => [0.0, 0.0489, 0.6446, 0.1341],
            VoltageConvention::RestAtMinus65 => [-70.0, 0.0289, 0.2446, 0.7541],
        }
    }

    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("c", self.c), ("g_na", self.g_na), ("g_k", self.g_k), ("g_l", self.g_l)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::config(key, format!("must be positive and finite, got {v}")));
            }
        }
        Ok(())
    }

    /// (α_m, β_m, α_n, β_n, α_h, β_h) at voltage `v`, per ms.
    #[inline]
    pub fn rates<S: Scalar>(&self, v: S) -> [S; 6] {
        let u = v - self.convention.offset(); // rest-at-0 voltage
        [
            ratio_over_expm1(u - 25.0, 10.0) * 0.1,
            (u / -18.0).exp() * 4.0,
            ratio_over_expm1(u - 10.0, 10.0) * 0.01,
            (u / -80.0).exp() * 0.125,
            (u / -20.0).exp() * 0.07,
            S::constant(1.0) / (((u - 30.0) / -10.0).exp() + 1.0),
        ]
    }

    /// Conductances (g_Na, g_K, g_L) for gates (m, n, h).
    #[inline]
    pub fn conductances<S: Scalar>(&self, m: S, n: S, h: S) -> [S; 3] {
        [m * self.g_na * m * m * h, n * self.g_k * n * n * n, S::constant(self.g_l)]
    }

    /// (dV/dt, dm/dt, dn/dt, dh/dt).
    #[inline]
    fn derivatives<S: Scalar>(&self, [v, m, n, h]: [S; 4], input: S) -> [S; 4] {
        let [am, bm, an, bn, ah, bh] = self.rates(v);
        let g = self.conductances(m, n, h);
        let e = self.reversals();
        let ionic = g[0] * (v - e[0]) + g[1] * (v - e[1]) + g[2] * (v - e[2]);
        let one = S::constant(1.0);
        [(input - ionic) / self.c, am * (one - m) - bm * m, an * (one - n) - bn * n, ah * (one - h) - bh * h]
    }
}

/// `x / (1 − e^(−x/k))`, the form of α_m and α_n, with its removable singularity at x = 0
/// (limit k) evaluated by the series k·(1 + y/2 + y²/12), y = x/k, where the quotient loses
/// precision.
#[inline]
pub fn ratio_over_expm1<S: Scalar>(x: S, k: f64) -> S {
    let y = x / k;
    if y.value().abs() < 1e-4 {
        (S::constant(1.0) + y / 2.0 + y * y / 12.0) * k
    } else {
        x / -(-y).exp_m1()
    }
}

/// Gate x relaxed exactly for `dt` towards α/(α+β) with time constant 1/(α+β).
#[inline]
fn gate_exponential<S: Scalar>(x: S, alpha: S, beta: S, dt: f64) -> S {
    let total = alpha + beta;
    let steady = alpha / total;
    steady + (x - steady) * (total * -dt).exp()
}

/// Detects spikes as upward crossings of a threshold between consecutive steps.
fn crossed(before: f64, after: f64, threshold: f64) -> bool {
    before <= threshold && after > threshold
}

/// The Hodgkin–Huxley neuron: parameters and integrator. One implementation serves the
/// simulator (`HhPopulation`, in f64) and the trainable layer (`OdeModel`, which differentiates
/// the same `advance` for BPTT).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hh {
    pub params: HhParams,
    pub integrator: Integrator,
}

impl Hh {
    pub fn new(params: HhParams, integrator: Integrator) -> Result<Self> {
        params.validate()?;
        Ok(Hh { params, integrator })
    }
}

impl OdeNeuron<4> for Hh {
    fn kind(&self) -> &'static str {
        "hh"
    }

    fn rest(&self) -> [f64; 4] {
        self.params.resting_state()
    }

    fn voltage<S: Scalar>(&self, x: &[S; 4]) -> S {
        x[0]
    }

    fn spike_threshold(&self) -> f64 {
        self.params.spike_threshold
    }

    /// One evaluation of the derivatives is 109 operations (the six rates 79, conductances 8,
    /// ionic current 8, dV 2, gates 12); Euler adds 8, RK4 evaluates four times and adds 48;
    /// exponential Euler is the rates, conductances and four exact relaxations: 159.
    fn operations_per_advance(&self) -> u64 {
        match self.integrator {
            Integrator::Euler => 117,
            Integrator::Rk4 => 4 * 109 + 48,
            Integrator::ExponentialEuler => 159,
        }
    }

    #[inline]
    fn advance<S: Scalar>(&self, x: [S; 4], input: S, dt: f64) -> [S; 4] {
        let p = &self.params;
        match self.integrator {
            Integrator::Euler => {
                let d = p.derivatives(x, input);
                std::array::from_fn(|k| x[k] + d[k] * dt)
            }
            Integrator::Rk4 => rk4(|s| p.derivatives(s, input), x, dt),
            Integrator::ExponentialEuler => {
                let [am, bm, an, bn, ah, bh] = p.rates(x[0]);
                let g = p.conductances(x[1], x[2], x[3]);
                let e = p.reversals();
                let total = g[0] + g[1] + g[2];
                let steady = (input + (g[0] * e[0] + g[1] * e[1] + g[2] * e[2])) / total;
                [steady + (x[0] - steady) * (total * -dt / p.c).exp(), gate_exponential(x[1], am, bm, dt), gate_exponential(x[2], an, bn, dt), gate_exponential(x[3], ah, bh, dt)]
            }
        }
    }
}

/// A population of HH neurons: (V, m, n, h) per neuron.
#[derive(Clone, Debug)]
pub struct HhPopulation {
    pub model: Hh,
    pub v: Vec<f64>,
    pub m: Vec<f64>,
    pub n: Vec<f64>,
    pub h: Vec<f64>,
}

impl HhPopulation {
    /// `size` neurons in the reference initial state.
    pub fn new(params: HhParams, integrator: Integrator, size: usize) -> Result<Self> {
        let model = Hh::new(params, integrator)?;
        let [v, m, n, h] = params.initial_state();
        Ok(HhPopulation { model, v: vec![v; size], m: vec![m; size], n: vec![n; size], h: vec![h; size] })
    }

    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Advances every neuron by `dt` ms under `input` (µA/cm², one per neuron, constant over
    /// the step); `spiked[i]` is set to whether neuron i crossed the spike threshold upwards.
    pub fn step(&mut self, input: &[f64], dt: f64, spiked: &mut [bool]) {
        assert_eq!(input.len(), self.len(), "HH step: one input per neuron");
        assert_eq!(spiked.len(), self.len(), "HH step: one spike flag per neuron");
        for i in 0..self.len() {
            let before = self.v[i];
            let x = [self.v[i], self.m[i], self.n[i], self.h[i]];
            [self.v[i], self.m[i], self.n[i], self.h[i]] = self.model.advance(x, input[i], dt);
            spiked[i] = crossed(before, self.v[i], self.model.params.spike_threshold);
        }
    }
}

/// One classic Runge–Kutta step of `f` from `x`.
pub fn rk4<S: Scalar, const N: usize>(f: impl Fn([S; N]) -> [S; N], x: [S; N], dt: f64) -> [S; N] {
    let add = |a: [S; N], b: [S; N], s: f64| std::array::from_fn(|i| a[i] + b[i] * s);
    let k1 = f(x);
    let k2 = f(add(x, k1, dt / 2.0));
    let k3 = f(add(x, k2, dt / 2.0));
    let k4 = f(add(x, k3, dt));
    std::array::from_fn(|i| x[i] + (k1[i] + k2[i] * 2.0 + k3[i] * 2.0 + k4[i]) * (dt / 6.0))
}

/// tv-LIF2HH: one HH neuron as four LIF units with time-varying parameters plus three
/// accumulators, integrating its own gates from its own voltage V = F + u₄.
///
///   LIF k ∈ {Na, K, L}: du_k/dt = −(u_k − E_k) + I/g_s          (time constant 1 ms)
///   accumulators:       df_k/dt = g_k(t)·du_k/dt,  F = Σ f_k
///   LIF 4:              du₄/dt = g_s(t)·(−u₄ + I₄),  I₄ = −F + Σ g_k u_k / g_s
/// with g_Na = ḡNa m³h, g_K = ḡK n⁴, g_s = g_Na + g_K + g_L and the gates following the HH
/// equations in V. Summing, dV/dt = I − Σ g_k (V − E_k): the HH membrane equation (C = 1), so
/// V is HH's voltage. Stepped as one ODE in (u_Na, u_K, u_L, f_Na, f_K, f_L, u₄, m, n, h):
/// with forward Euler the update of V equals HH's Euler update term by term; with RK4 it is
/// HH's to the method's order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TvLif2Hh {
    pub params: HhParams,
    /// `Euler` or `Rk4`. (Exponential updates of the single LIFs break the identity at second
    /// order: each unit relaxes exactly, but their sum does not follow HH. Tried while building
    /// this: 3.9 mV from fine-step HH at dt = 1 µs under a constant 10 µA/cm², so refused.)
    pub integrator: Integrator,
}

impl TvLif2Hh {
    pub fn new(params: HhParams, integrator: Integrator) -> Result<Self> {
        params.validate()?;
        if params.c != 1.0 {
            return Err(Error::config("c", "tv-LIF2HH is the decomposition for C = 1 µF/cm²"));
        }
        if integrator == Integrator::ExponentialEuler {
            return Err(Error::config("integrator", "tv-LIF2HH steps with euler or rk4 (exponential updates of its units break the HH identity)"));
        }
        Ok(TvLif2Hh { params, integrator })
    }

    /// The unit with its LIFs and accumulators at 0 and V, gates at `[v, m, n, h]`.
    fn state_at([v, m, n, h]: [f64; 4]) -> [f64; 10] {
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, v, m, n, h]
    }
}

impl OdeNeuron<10> for TvLif2Hh {
    fn kind(&self) -> &'static str {
        "tv-lif2hh"
    }

    fn rest(&self) -> [f64; 10] {
        TvLif2Hh::state_at(self.params.resting_state())
    }

    /// V = F + u₄.
    fn voltage<S: Scalar>(&self, x: &[S; 10]) -> S {
        x[3] + x[4] + x[5] + x[6]
    }

    fn spike_threshold(&self) -> f64 {
        self.params.spike_threshold
    }

    /// One evaluation of the derivatives is 124 operations (HH's rates at F + u₄ 80,
    /// conductances and g_s 10, the three LIFs 7, F and I₄ 10, the outputs 17); Euler adds 20,
    /// RK4 evaluates four times and adds 120.
    fn operations_per_advance(&self) -> u64 {
        match self.integrator {
            Integrator::Rk4 => 4 * 124 + 120,
            _ => 124 + 20,
        }
    }

    #[inline]
    fn advance<S: Scalar>(&self, x: [S; 10], input: S, dt: f64) -> [S; 10] {
        let p = &self.params;
        match self.integrator {
            Integrator::Rk4 => rk4(|s| tv_derivatives(p, s, input), x, dt),
            _ => {
                let d = tv_derivatives(p, x, input);
                std::array::from_fn(|k| x[k] + d[k] * dt)
            }
        }
    }
}

/// A population of tv-LIF2HH units.
#[derive(Clone, Debug)]
pub struct TvLif2HhPopulation {
    pub model: TvLif2Hh,
    /// Per neuron: u_Na, u_K, u_L, f_Na, f_K, f_L, u₄, m, n, h.
    pub state: Vec<[f64; 10]>,
}

impl TvLif2HhPopulation {
    /// `size` units, V and gates in the reference initial state.
    pub fn new(params: HhParams, integrator: Integrator, size: usize) -> Result<Self> {
        let model = TvLif2Hh::new(params, integrator)?;
        Ok(TvLif2HhPopulation { model, state: vec![TvLif2Hh::state_at(params.initial_state()); size] })
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The unit's membrane voltage V = F + u₄.
    pub fn voltage(&self, i: usize) -> f64 {
        self.model.voltage(&self.state[i])
    }

    /// As `HhPopulation::step`.
    pub fn step(&mut self, input: &[f64], dt: f64, spiked: &mut [bool]) {
        assert_eq!(input.len(), self.len(), "tv-LIF2HH step: one input per neuron");
        assert_eq!(spiked.len(), self.len(), "tv-LIF2HH step: one spike flag per neuron");
        let model = self.model;
        for (i, x) in self.state.iter_mut().enumerate() {
            let before = model.voltage(x);
            *x = model.advance(*x, input[i], dt);
            spiked[i] = crossed(before, model.voltage(x), model.params.spike_threshold);
        }
    }
}

fn tv_derivatives<S: Scalar>(p: &HhParams, x: [S; 10], input: S) -> [S; 10] {
    let [m, n, h] = [x[7], x[8], x[9]];
    let g = p.conductances(m, n, h);
    let e = p.reversals();
    let gs = g[0] + g[1] + g[2];
    let du: [S; 3] = std::array::from_fn(|k| -(x[k] - e[k]) + input / gs);
    let big_f = x[3] + x[4] + x[5];
    let i4 = -big_f + (g[0] * x[0] + g[1] * x[1] + g[2] * x[2]) / gs;
    let [am, bm, an, bn, ah, bh] = p.rates(big_f + x[6]);
    let one = S::constant(1.0);
    [du[0], du[1], du[2], g[0] * du[0], g[1] * du[1], g[2] * du[2], gs * (i4 - x[6]), am * (one - m) - bm * m, an * (one - n) - bn * n, ah * (one - h) - bh * h]
}

#[cfg(test)]
mod tests;
