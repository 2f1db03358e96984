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
//! - `SynapseStp`: the event form per synapse (or per pre neuron), parameters
//!   `TsodyksMarkram`. Between spikes u relaxes to its rest with τ_f and x recovers to 1 with
//!   τ_d (exactly); at a spike u ← u + U(1 − u) and the efficacy u·x is released, x ← x − u·x,
//!   in one of two orders (`StpOrder`). The simulator's projections take it
//!   (`stp = { u, tau_f, tau_d, order }`), scaling each spike's weight.

use crate::error::{Error, Result};
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

/// The event form's parameters: U (the utilisation a spike adds, 0 < U ≤ 1), τ_f (ms;
/// facilitation, 0 for none: u ≡ U at every spike), τ_d (ms; recovery of resources) and the
/// order of a spike's updates.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsodyksMarkram {
    pub u: f64,
    pub tau_f: f64,
    pub tau_d: f64,
    #[serde(default)]
    pub order: StpOrder,
}

/// The two conventions in use; they give different efficacies for the same U, τ_f, τ_d.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StpOrder {
    /// u rests at 0; a spike first facilitates, u ← u + U(1 − u), then releases u·x
    /// (x ← x − u·x). NEST's `tsodyks2_synapse`, Maass & Markram 2002: u₁ = U, x₁ = 1.
    #[default]
    FacilitateFirst,
    /// u rests at U; a spike releases u·x with the u it finds (x ← x(1 − u)), then
    /// facilitates, u ← u + U(1 − u). Markram, Wang & Tsodyks 1998, as in Brian's
    /// short-term plasticity example.
    ReleaseFirst,
}

impl TsodyksMarkram {
    /// Checks the ranges above; `key` names the table in the error.
    pub fn validate(&self, key: &str) -> Result<()> {
        if !(self.u > 0.0 && self.u <= 1.0) {
            return Err(Error::config(format!("{key}.u"), format!("must be in (0, 1], got {}", self.u)));
        }
        if !(self.tau_f >= 0.0 && self.tau_f.is_finite()) {
            return Err(Error::config(format!("{key}.tau_f"), format!("must be ≥ 0 ms (0: no facilitation), got {}", self.tau_f)));
        }
        if !(self.tau_d > 0.0 && self.tau_d.is_finite()) {
            return Err(Error::config(format!("{key}.tau_d"), format!("must be > 0 ms, got {}", self.tau_d)));
        }
        Ok(())
    }

    /// The part of u's distance from rest left after an interval Δ: e^(−Δ/τ_f), and 0 without
    /// facilitation (also for Δ = 0, where Δ/τ_f would be 0/0).
    fn facilitation_left(&self, interval: f64) -> f64 {
        if self.tau_f == 0.0 {
            0.0
        } else {
            (-interval / self.tau_f).exp()
        }
    }

    /// u an interval Δ after it was `u`: decayed towards its rest (0 or U).
    fn relax_u(&self, u: f64, interval: f64) -> f64 {
        let rest = if self.order == StpOrder::ReleaseFirst { self.u } else { 0.0 };
        rest + (u - rest) * self.facilitation_left(interval)
    }

    /// x an interval Δ after it was `x`: recovered towards 1 by e^(−Δ/τ_d).
    fn relax_x(&self, x: f64, interval: f64) -> f64 {
        1.0 - (1.0 - x) * (-interval / self.tau_d).exp()
    }

    /// One spike on the relaxed (u, x): the efficacy and the state it leaves.
    fn spike(&self, u: f64, x: f64) -> (f64, f64, f64) {
        let facilitate = |u: f64| u + self.u * (1.0 - u);
        match self.order {
            StpOrder::FacilitateFirst => {
                let u = facilitate(u);
                (u * x, u, x - u * x)
            }
            StpOrder::ReleaseFirst => (u * x, facilitate(u), x - u * x),
        }
    }

    /// The efficacy at every spike of a regular train with interval Δ, once settled, with
    /// e_f = e^(−Δ/τ_f) and e_d = e^(−Δ/τ_d). Facilitate first: u⁻ = e_f·U / (1 − e_f(1 − U)),
    /// u⁺ = u⁻ + U(1 − u⁻), x⁻ = (1 − e_d) / (1 − e_d(1 − u⁺)), efficacy u⁺·x⁻. Release
    /// first: u⁻ = U / (1 − e_f(1 − U)), x⁻ = (1 − e_d) / (1 − e_d(1 − u⁻)), efficacy u⁻·x⁻.
    pub fn steady_efficacy(&self, interval: f64) -> f64 {
        let (ef, ed) = (self.facilitation_left(interval), (-interval / self.tau_d).exp());
        let used = match self.order {
            StpOrder::FacilitateFirst => {
                let u_before = ef * self.u / (1.0 - ef * (1.0 - self.u));
                u_before + self.u * (1.0 - u_before)
            }
            StpOrder::ReleaseFirst => self.u / (1.0 - ef * (1.0 - self.u)),
        };
        used * (1.0 - ed) / (1.0 - ed * (1.0 - used))
    }
}

/// The event form, exact between spikes: one (u, x) per unit — a synapse, or a pre neuron
/// whose synapses share the parameters, since u and x follow the pre spikes alone. A unit's
/// state is brought up to date only at its own spikes (between them u relaxes to its rest
/// with τ_f and x recovers to 1 with τ_d), so the cost is one update per spike, none per step.
#[derive(Clone, Debug)]
pub struct SynapseStp {
    pub params: TsodyksMarkram,
    /// u after each unit's last spike, x after its last release, and that spike's time (ms).
    u: Vec<f64>,
    x: Vec<f64>,
    last: Vec<f64>,
}

impl SynapseStp {
    pub fn new(params: TsodyksMarkram, units: usize) -> Self {
        // A last spike at −∞ leaves u at rest and x fully recovered at the first one.
        SynapseStp { params, u: vec![0.0; units], x: vec![1.0; units], last: vec![f64::NEG_INFINITY; units] }
    }

    /// A spike of `unit` at time `t` (ms, not before its last one): returns its efficacy.
    pub fn spike(&mut self, unit: usize, t: f64) -> f64 {
        let p = self.params;
        let interval = t - self.last[unit];
        let (efficacy, u, x) = p.spike(p.relax_u(self.u[unit], interval), p.relax_x(self.x[unit], interval));
        (self.u[unit], self.x[unit], self.last[unit]) = (u, x, t);
        efficacy
    }

    /// The current (u, x) of `unit` at time `t`, relaxed since its last spike.
    pub fn state(&self, unit: usize, t: f64) -> (f64, f64) {
        let interval = t - self.last[unit];
        (self.params.relax_u(self.u[unit], interval), self.params.relax_x(self.x[unit], interval))
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

    /// A regular spike train reaches the closed-form steady efficacy, in both orders, with and
    /// without facilitation; depression dominates at short intervals (efficacy below the first
    /// spike's U) and fades at long ones.
    #[test]
    fn synapse_form_reaches_the_steady_efficacy() {
        for order in [StpOrder::FacilitateFirst, StpOrder::ReleaseFirst] {
            for tau_f in [50.0, 0.0] {
                let p = TsodyksMarkram { u: 0.2, tau_f, tau_d: 200.0, order };
                for interval in [5.0, 20.0, 100.0] {
                    let mut stp = SynapseStp::new(p, 2);
                    let mut efficacy = 0.0;
                    for n in 0..400 {
                        efficacy = stp.spike(1, n as f64 * interval);
                    }
                    let expected = p.steady_efficacy(interval);
                    assert!((efficacy - expected).abs() < 1e-12, "{order:?}, τ_f {tau_f}, interval {interval}: {efficacy} vs {expected}");
                    assert_eq!(stp.spike(0, 1e9), 0.2, "the other unit is untouched: its first spike gives U");
                }
                assert!(p.steady_efficacy(5.0) < 0.2);
            }
        }
    }

    /// Two spikes worked by hand: U = 0.5, τ_f = 100, τ_d = 50, Δ = 50 ms; the first spike
    /// gives U·1 = 0.5 in both orders and leaves x = 0.5.
    /// Facilitate first: u⁺ = 0.5 → before the second u = 0.5·e^(−0.5), then u ← u + 0.5(1 − u);
    /// x = 1 − 0.5·e^(−1); efficacy u·x, then x ← x − u·x.
    /// Release first: u⁺ = 0.75 → before the second u = 0.5 + 0.25·e^(−0.5), efficacy u·x,
    /// then x ← x(1 − u) and u ← u + 0.5(1 − u).
    #[test]
    fn two_spikes_by_hand() {
        let x = 1.0 - 0.5 * (-1.0f64).exp();
        let facilitated = 0.5 * (-0.5f64).exp();
        let facilitated = facilitated + 0.5 * (1.0 - facilitated);
        let released = 0.5 + 0.25 * (-0.5f64).exp();
        for (order, u, u_after) in [(StpOrder::FacilitateFirst, facilitated, facilitated), (StpOrder::ReleaseFirst, released, released + 0.5 * (1.0 - released))] {
            let mut stp = SynapseStp::new(TsodyksMarkram { u: 0.5, tau_f: 100.0, tau_d: 50.0, order }, 1);
            assert_eq!(stp.spike(0, 10.0), 0.5, "{order:?}");
            assert!((stp.state(0, 60.0).1 - x).abs() < 1e-15, "{order:?}");
            assert!((stp.spike(0, 60.0) - u * x).abs() < 1e-15, "{order:?}");
            let (u_now, x_now) = stp.state(0, 60.0);
            assert!((x_now - (x - u * x)).abs() < 1e-15 && (u_now - u_after).abs() < 1e-15, "{order:?}: released resources are gone");
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let ok = TsodyksMarkram { u: 0.5, tau_f: 0.0, tau_d: 800.0, order: StpOrder::FacilitateFirst };
        assert!(ok.validate("stp").is_ok());
        for (bad, field) in [
            (TsodyksMarkram { u: 0.0, ..ok }, "stp.u"),
            (TsodyksMarkram { u: 1.5, ..ok }, "stp.u"),
            (TsodyksMarkram { tau_f: -1.0, ..ok }, "stp.tau_f"),
            (TsodyksMarkram { tau_d: 0.0, ..ok }, "stp.tau_d"),
            (TsodyksMarkram { tau_d: f64::NAN, ..ok }, "stp.tau_d"),
        ] {
            let message = bad.validate("stp").unwrap_err().to_string();
            assert!(message.contains(field), "{message}");
        }
    }
}
