//! Short-term plasticity, Tsodyks–Markram: a utilisation u (facilitation, time constant τ_f)
//! and a fraction of available resources x (depression, τ_d).
//!
//! - `NeuronStp`: the per-postsynaptic-neuron form of the SBP reference code (§2.2 of
//!   `../shared/docs/reference/sbp.md`), driven by an analog input I once per step with no dt
//!   factor:  u += −u/τ_f + U·I·(1 − u);  x += (1 − x)/τ_d − u·x·I;  Iₛ += −Iₛ/τ_s + A·u·x·I,
//!   and Iₛ replaces I. Constants: U 0.45, τ_f 10, τ_d 2, τ_s 2, A 1; start u 0.1, x 1, Iₛ 0.1.
//!   Departure: u and x are driven by max(I, 0). The SNN's analog inputs I = ρ1(·) reach −1, and
//!   the literal update then diverges (I = −1 gives u ← 1.35·u − 0.45, unstable); resources are
//!   used by activity, which is not negative. Iₛ still integrates the signed A·u·x·I. For I ≥ 0
//!   this is the reference form exactly.
//! - `SynapseStp`: the event form per synapse. Between spikes u decays to 0 with τ_f and x
//!   recovers to 1 with τ_d (exactly); at a spike u ← u + U(1 − u), the efficacy is A·u·x and
//!   x ← x − u·x.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StpParams {
    pub u: f32,
    pub tau_f: f32,
    pub tau_d: f32,
    /// Time constant of the filtered output Iₛ (per-neuron form only).
    pub tau_s: f32,
    pub a: f32,
}

impl Default for StpParams {
    fn default() -> Self {
        StpParams { u: 0.45, tau_f: 10.0, tau_d: 2.0, tau_s: 2.0, a: 1.0 }
    }
}

/// The per-neuron form: one (u, x, Iₛ) per unit.
#[derive(Clone, Debug)]
pub struct NeuronStp {
    pub params: StpParams,
    pub u: Vec<f32>,
    pub x: Vec<f32>,
    pub output: Vec<f32>,
}

impl NeuronStp {
    pub fn new(params: StpParams, units: usize) -> Self {
        NeuronStp { params, u: vec![0.1; units], x: vec![1.0; units], output: vec![0.1; units] }
    }

    /// One step of the first `input.len()` units under `input` (a short batch uses the first
    /// slots); `input` is replaced by the filtered output Iₛ.
    pub fn step(&mut self, input: &mut [f32]) {
        assert!(input.len() <= self.u.len(), "STP: {} inputs for {} units", input.len(), self.u.len());
        let p = self.params;
        for (k, i) in input.iter_mut().enumerate() {
            let (u, x, activity) = (self.u[k], self.x[k], i.max(0.0));
            self.u[k] = u - u / p.tau_f + p.u * activity * (1.0 - u);
            self.x[k] = x + (1.0 - x) / p.tau_d - u * x * activity;
            self.output[k] += -self.output[k] / p.tau_s + p.a * u * x * *i;
            *i = self.output[k];
        }
    }

    /// The fixed point under a constant input I: u* = U·I·τ_f / (1 + U·I·τ_f),
    /// x* = 1 / (1 + τ_d·u*·I), Iₛ* = τ_s·A·u*·x*·I.
    pub fn steady_state(params: StpParams, input: f32) -> [f32; 3] {
        let p = params;
        let u = p.u * input * p.tau_f / (1.0 + p.u * input * p.tau_f);
        let x = 1.0 / (1.0 + p.tau_d * u * input);
        [u, x, p.tau_s * p.a * u * x * input]
    }
}

/// The event form: one (u, x) per synapse.
#[derive(Clone, Debug)]
pub struct SynapseStp {
    pub params: StpParams,
    pub u: Vec<f32>,
    pub x: Vec<f32>,
}

impl SynapseStp {
    pub fn new(params: StpParams, synapses: usize) -> Self {
        SynapseStp { params, u: vec![0.0; synapses], x: vec![1.0; synapses] }
    }

    /// Relaxes every synapse over `dt` (same units as the time constants).
    pub fn relax(&mut self, dt: f32) {
        let (df, dd) = ((-dt / self.params.tau_f).exp(), (-dt / self.params.tau_d).exp());
        self.u.iter_mut().for_each(|u| *u *= df);
        self.x.iter_mut().for_each(|x| *x = 1.0 - (1.0 - *x) * dd);
    }

    /// A presynaptic spike at synapse `s`: returns its efficacy A·u·x (after facilitation).
    pub fn spike(&mut self, s: usize) -> f32 {
        let p = self.params;
        self.u[s] += p.u * (1.0 - self.u[s]);
        let efficacy = p.a * self.u[s] * self.x[s];
        self.x[s] -= self.u[s] * self.x[s];
        efficacy
    }

    /// The efficacy at every spike of a regular train with interval `interval`, once settled:
    /// u⁻ = eU / (1 − e(1 − U)) with e = e^(−interval/τ_f), u⁺ = u⁻ + U(1 − u⁻),
    /// x⁻ = (1 − e_d) / (1 − e_d(1 − u⁺)) with e_d = e^(−interval/τ_d); efficacy A·u⁺·x⁻.
    pub fn steady_efficacy(params: StpParams, interval: f32) -> f32 {
        let p = params;
        let (e, ed) = ((-interval / p.tau_f).exp(), (-interval / p.tau_d).exp());
        let u_before = e * p.u / (1.0 - e * (1.0 - p.u));
        let u_after = u_before + p.u * (1.0 - u_before);
        let x_before = (1.0 - ed) / (1.0 - ed * (1.0 - u_after));
        p.a * u_after * x_before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under a constant input the per-neuron form settles at its closed-form fixed point.
    #[test]
    fn neuron_form_settles_at_its_closed_form() {
        let p = StpParams::default();
        for input in [0.05f32, 0.3, 0.8] {
            let mut stp = NeuronStp::new(p, 1);
            let mut last = 0.0;
            for _ in 0..2000 {
                let mut i = [input];
                stp.step(&mut i);
                last = i[0];
            }
            let [u, x, out] = NeuronStp::steady_state(p, input);
            assert!((stp.u[0] - u).abs() < 1e-5 && (stp.x[0] - x).abs() < 1e-5, "I = {input}: ({}, {}) vs ({u}, {x})", stp.u[0], stp.x[0]);
            assert!((last - out).abs() < 1e-5, "I = {input}: {last} vs {out}");
        }
        // A negative input leaves u and x at rest and is passed on, filtered: bounded.
        let mut stp = NeuronStp::new(p, 1);
        for _ in 0..2000 {
            stp.step(&mut [-1.0]);
        }
        assert!(stp.u[0].abs() < 1e-6 && (stp.x[0] - 1.0).abs() < 1e-6 && stp.output[0].is_finite() && stp.output[0] <= 0.0, "{stp:?}");
    }

    /// A regular spike train reaches the closed-form steady efficacy; depression dominates at
    /// short intervals (efficacy below the first spike's U) and fades at long ones.
    #[test]
    fn synapse_form_reaches_the_steady_efficacy() {
        let p = StpParams { u: 0.2, tau_f: 50.0, tau_d: 200.0, tau_s: 1.0, a: 1.0 };
        for interval in [5.0f32, 20.0, 100.0] {
            let mut stp = SynapseStp::new(p, 1);
            let mut efficacy = 0.0;
            for _ in 0..400 {
                efficacy = stp.spike(0);
                stp.relax(interval);
            }
            let expected = SynapseStp::steady_efficacy(p, interval);
            assert!((efficacy - expected).abs() < 1e-5, "interval {interval}: {efficacy} vs {expected}");
        }
        assert!(SynapseStp::steady_efficacy(p, 5.0) < 0.2);
        let mut fresh = SynapseStp::new(p, 1);
        assert!((fresh.spike(0) - 0.2).abs() < 1e-7, "first spike: A·U");
    }
}
