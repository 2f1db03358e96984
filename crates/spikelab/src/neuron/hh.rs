//! Hodgkin–Huxley neurons for simulation, and their exact decomposition into four time-varying
//! LIF units (tv-LIF2HH, He et al. 2024; `../shared/docs/reference/internal-complexity.md` §2).
//!
//! Units: mV, ms, µA/cm², mS/cm², µF/cm². State in f64, one value per neuron per variable
//! (struct of arrays), advanced by `step` with an explicit `dt`; the input current is held
//! constant over a step.
//!
//!   C dV/dt = I − ḡNa m³h (V − E_Na) − ḡK n⁴ (V − E_K) − g_L (V − E_L)
//!   dx/dt   = α_x(V)(1 − x) − β_x(V) x,  x ∈ {m, n, h}

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

    /// The resting state (V, m, n, h): the voltage where the membrane current vanishes with
    /// every gate at its steady state (about −65 mV at rest −65), found by bisection.
    pub fn resting_state(&self) -> [f64; 4] {
        let steady = |v: f64| {
            let [am, bm, an, bn, ah, bh] = self.rates(v);
            [am / (am + bm), an / (an + bn), ah / (ah + bh)]
        };
        let current = |v: f64| {
            let [m, n, h] = steady(v);
            let g = self.conductances(m, n, h);
            let e = self.reversals();
            (0..3).map(|k| g[k] * (v - e[k])).sum::<f64>()
        };
        let o = self.convention.offset();
        let (mut lo, mut hi) = (-20.0 + o, 20.0 + o); // the ionic current rises through 0 here
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if current(mid) > 0.0 { hi = mid } else { lo = mid }
        }
        let v = 0.5 * (lo + hi);
        let [m, n, h] = steady(v);
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
    pub fn rates(&self, v: f64) -> [f64; 6] {
        let u = v - self.convention.offset(); // rest-at-0 voltage
        [
            0.1 * ratio_over_expm1(u - 25.0, 10.0),
            4.0 * (-u / 18.0).exp(),
            0.01 * ratio_over_expm1(u - 10.0, 10.0),
            0.125 * (-u / 80.0).exp(),
            0.07 * (-u / 20.0).exp(),
            1.0 / (1.0 + (-(u - 30.0) / 10.0).exp()),
        ]
    }

    /// Conductances (g_Na, g_K, g_L) for gates (m, n, h).
    #[inline]
    pub fn conductances(&self, m: f64, n: f64, h: f64) -> [f64; 3] {
        [self.g_na * m * m * m * h, self.g_k * n * n * n * n, self.g_l]
    }

    /// (dV/dt, dm/dt, dn/dt, dh/dt).
    #[inline]
    fn derivatives(&self, [v, m, n, h]: [f64; 4], input: f64) -> [f64; 4] {
        let [am, bm, an, bn, ah, bh] = self.rates(v);
        let g = self.conductances(m, n, h);
        let e = self.reversals();
        let ionic: f64 = (0..3).map(|k| g[k] * (v - e[k])).sum();
        [(input - ionic) / self.c, am * (1.0 - m) - bm * m, an * (1.0 - n) - bn * n, ah * (1.0 - h) - bh * h]
    }
}

/// `x / (1 − e^(−x/k))`, the form of α_m and α_n, with its removable singularity at x = 0
/// (limit k) evaluated by the series k·(1 + y/2 + y²/12), y = x/k, where the quotient loses
/// precision.
#[inline]
pub fn ratio_over_expm1(x: f64, k: f64) -> f64 {
    let y = x / k;
    if y.abs() < 1e-4 {
        k * (1.0 + y / 2.0 + y * y / 12.0)
    } else {
        x / -(-y).exp_m1()
    }
}

/// Gate x relaxed exactly for `dt` towards α/(α+β) with time constant 1/(α+β).
#[inline]
fn gate_exponential(x: f64, alpha: f64, beta: f64, dt: f64) -> f64 {
    let total = alpha + beta;
    let steady = alpha / total;
    steady + (x - steady) * (-dt * total).exp()
}

/// Detects spikes as upward crossings of a threshold between consecutive steps.
fn crossed(before: f64, after: f64, threshold: f64) -> bool {
    before <= threshold && after > threshold
}

/// A population of HH neurons: (V, m, n, h) per neuron.
#[derive(Clone, Debug)]
pub struct HhPopulation {
    pub params: HhParams,
    pub integrator: Integrator,
    pub v: Vec<f64>,
    pub m: Vec<f64>,
    pub n: Vec<f64>,
    pub h: Vec<f64>,
}

impl HhPopulation {
    /// `size` neurons in the reference initial state.
    pub fn new(params: HhParams, integrator: Integrator, size: usize) -> Result<Self> {
        params.validate()?;
        let [v, m, n, h] = params.initial_state();
        Ok(HhPopulation { params, integrator, v: vec![v; size], m: vec![m; size], n: vec![n; size], h: vec![h; size] })
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
        let p = self.params;
        for i in 0..self.len() {
            let before = self.v[i];
            let x = [self.v[i], self.m[i], self.n[i], self.h[i]];
            let [v, m, n, h] = match self.integrator {
                Integrator::Euler => {
                    let d = p.derivatives(x, input[i]);
                    [x[0] + dt * d[0], x[1] + dt * d[1], x[2] + dt * d[2], x[3] + dt * d[3]]
                }
                Integrator::Rk4 => rk4(|s| p.derivatives(s, input[i]), x, dt),
                Integrator::ExponentialEuler => {
                    let [am, bm, an, bn, ah, bh] = p.rates(x[0]);
                    let g = p.conductances(x[1], x[2], x[3]);
                    let e = p.reversals();
                    let total: f64 = g.iter().sum();
                    let steady = (input[i] + (0..3).map(|k| g[k] * e[k]).sum::<f64>()) / total;
                    [
                        steady + (x[0] - steady) * (-dt * total / p.c).exp(),
                        gate_exponential(x[1], am, bm, dt),
                        gate_exponential(x[2], an, bn, dt),
                        gate_exponential(x[3], ah, bh, dt),
                    ]
                }
            };
            (self.v[i], self.m[i], self.n[i], self.h[i]) = (v, m, n, h);
            spiked[i] = crossed(before, v, p.spike_threshold);
        }
    }
}

/// One classic Runge–Kutta step of `f` from `x`.
pub fn rk4<const N: usize>(f: impl Fn([f64; N]) -> [f64; N], x: [f64; N], dt: f64) -> [f64; N] {
    let add = |a: [f64; N], b: [f64; N], s: f64| std::array::from_fn(|i| a[i] + s * b[i]);
    let k1 = f(x);
    let k2 = f(add(x, k1, dt / 2.0));
    let k3 = f(add(x, k2, dt / 2.0));
    let k4 = f(add(x, k3, dt));
    std::array::from_fn(|i| x[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
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
#[derive(Clone, Debug)]
pub struct TvLif2HhPopulation {
    pub params: HhParams,
    /// `Euler` or `Rk4`. (Exponential updates of the single LIFs break the identity at second
    /// order: each unit relaxes exactly, but their sum does not follow HH. Tried while building
    /// this: 3.9 mV from fine-step HH at dt = 1 µs under a constant 10 µA/cm², so refused.)
    pub integrator: Integrator,
    /// Per neuron: u_Na, u_K, u_L, f_Na, f_K, f_L, u₄, m, n, h.
    pub state: Vec<[f64; 10]>,
}

impl TvLif2HhPopulation {
    pub fn new(params: HhParams, integrator: Integrator, size: usize) -> Result<Self> {
        params.validate()?;
        if params.c != 1.0 {
            return Err(Error::config("c", "tv-LIF2HH is the decomposition for C = 1 µF/cm²"));
        }
        if integrator == Integrator::ExponentialEuler {
            return Err(Error::config("integrator", "tv-LIF2HH steps with euler or rk4 (exponential updates of its units break the HH identity)"));
        }
        let [v, m, n, h] = params.initial_state();
        Ok(TvLif2HhPopulation { params, integrator, state: vec![[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, v, m, n, h]; size] })
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The unit's membrane voltage V = F + u₄.
    pub fn voltage(&self, i: usize) -> f64 {
        voltage_of(&self.state[i])
    }

    /// As `HhPopulation::step`.
    pub fn step(&mut self, input: &[f64], dt: f64, spiked: &mut [bool]) {
        assert_eq!(input.len(), self.len(), "tv-LIF2HH step: one input per neuron");
        assert_eq!(spiked.len(), self.len(), "tv-LIF2HH step: one spike flag per neuron");
        let p = self.params;
        for (i, x) in self.state.iter_mut().enumerate() {
            let before = voltage_of(x);
            *x = match self.integrator {
                Integrator::Rk4 => rk4(|s| tv_derivatives(&p, s, input[i]), *x, dt),
                _ => {
                    let d = tv_derivatives(&p, *x, input[i]);
                    std::array::from_fn(|k| x[k] + dt * d[k])
                }
            };
            spiked[i] = crossed(before, voltage_of(x), p.spike_threshold);
        }
    }
}

fn voltage_of(x: &[f64; 10]) -> f64 {
    x[3] + x[4] + x[5] + x[6]
}

fn tv_derivatives(p: &HhParams, x: [f64; 10], input: f64) -> [f64; 10] {
    let [m, n, h] = [x[7], x[8], x[9]];
    let g = p.conductances(m, n, h);
    let e = p.reversals();
    let gs: f64 = g.iter().sum();
    let du: [f64; 3] = std::array::from_fn(|k| -(x[k] - e[k]) + input / gs);
    let big_f = x[3] + x[4] + x[5];
    let i4 = -big_f + (0..3).map(|k| g[k] * x[k]).sum::<f64>() / gs;
    let [am, bm, an, bn, ah, bh] = p.rates(big_f + x[6]);
    [
        du[0],
        du[1],
        du[2],
        g[0] * du[0],
        g[1] * du[1],
        g[2] * du[2],
        gs * (i4 - x[6]),
        am * (1.0 - m) - bm * m,
        an * (1.0 - n) - bn * n,
        ah * (1.0 - h) - bh * h,
    ]
}

#[cfg(test)]
mod tests;
