//! tv-LIF: the LIF neuron with a time-varying time constant and input gain
//! (`../shared/docs/reference/internal-complexity.md` §2.2; the reference's `lif_model.m` with
//! R = 1, where C acts as the time constant):
//!
//!   τ(t) du/dt = −(u − u_rest) + g(t)·I(t)
//!
//! Stepped exactly with τ, g and I held over the step; u > threshold spikes, resets and holds
//! for the refractory period. The caller supplies τ and g per step (the simulator evaluates them
//! from waveforms), so the model itself stays a pure step over explicit state.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TvLif {
    pub v_rest: f64,
    pub v_threshold: f64,
    pub v_reset: f64,
    /// ms; the membrane is held at reset this long after a spike.
    #[serde(default)]
    pub refractory: f64,
}

impl TvLif {
    pub fn validate(&self) -> Result<()> {
        if !(self.refractory >= 0.0 && self.refractory.is_finite()) {
            return Err(Error::config("refractory", format!("must be ≥ 0 ms, got {}", self.refractory)));
        }
        if !(self.v_reset < self.v_threshold) {
            return Err(Error::config("v_reset", format!("must be below v_threshold ({}), got {}", self.v_threshold, self.v_reset)));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct TvLifPopulation {
    pub model: TvLif,
    pub u: Vec<f64>,
    /// Refractory steps left per neuron (the period rounded to whole steps).
    pub refractory_left: Vec<u32>,
}

impl TvLifPopulation {
    /// `size` neurons at rest.
    pub fn new(model: TvLif, size: usize) -> Result<Self> {
        model.validate()?;
        Ok(TvLifPopulation { model, u: vec![model.v_rest; size], refractory_left: vec![0; size] })
    }

    pub fn len(&self) -> usize {
        self.u.len()
    }

    pub fn is_empty(&self) -> bool {
        self.u.is_empty()
    }

    /// Advances every neuron by `dt` ms with time constant `tau` (ms, > 0) and input gain
    /// `gain` held over the step.
    pub fn step(&mut self, tau: f64, gain: f64, input: &[f64], dt: f64, spiked: &mut [bool]) {
        assert!(tau > 0.0, "tv-LIF step: the time constant must be positive, got {tau}");
        assert_eq!(input.len(), self.len(), "tv-LIF step: one input per neuron");
        assert_eq!(spiked.len(), self.len(), "tv-LIF step: one spike flag per neuron");
        let m = self.model;
        let decay = (-dt / tau).exp();
        for k in 0..self.len() {
            spiked[k] = false;
            if self.refractory_left[k] > 0 {
                self.refractory_left[k] -= 1;
                continue;
            }
            let steady = m.v_rest + gain * input[k];
            self.u[k] = steady + (self.u[k] - steady) * decay;
            if self.u[k] > m.v_threshold {
                self.u[k] = m.v_reset;
                self.refractory_left[k] = (m.refractory / dt).round() as u32;
                spiked[k] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuron::hh::rk4;

    fn model() -> TvLif {
        TvLif { v_rest: 0.0, v_threshold: 1e9, v_reset: 0.0, refractory: 0.0 }
    }

    /// With τ and g varying in time (piecewise constant over each step of the caller) the exact
    /// step equals a fine RK4 integration of the same piecewise-constant ODE, and with constant
    /// τ and g it is the LIF closed form u(t) = g·I·(1 − e^(−t/τ)).
    #[test]
    fn exact_step_matches_fine_integration_and_closed_form() {
        let mut pop = TvLifPopulation::new(model(), 1).unwrap();
        let mut flag = [false];
        for k in 0..100 {
            pop.step(10.0, 2.0, &[3.0], 0.1, &mut flag);
            let t = (k + 1) as f64 * 0.1;
            assert!((pop.u[0] - 6.0 * (1.0 - (-t / 10.0).exp())).abs() < 1e-12);
        }
        let tau = |t: f64| 5.0 + 3.0 * (0.3 * t).sin();
        let gain = |t: f64| 1.0 + 0.5 * (0.1 * t).cos();
        let input = |t: f64| 4.0 + (0.7 * t).sin();
        let (dt, fine) = (0.5, 500);
        let mut pop = TvLifPopulation::new(model(), 1).unwrap();
        let mut reference = 0.0;
        for k in 0..200 {
            let t = k as f64 * dt;
            let (tk, gk, ik) = (tau(t), gain(t), input(t));
            pop.step(tk, gk, &[ik], dt, &mut flag);
            for _ in 0..fine {
                reference = rk4(|[u]| [(-u + gk * ik) / tk], [reference], dt / fine as f64)[0];
            }
            assert!((pop.u[0] - reference).abs() < 1e-9, "step {k}: {} vs {reference}", pop.u[0]);
        }
    }

    /// A crossing resets, the neuron is held for the refractory steps, then integrates again.
    #[test]
    fn spikes_reset_and_hold_for_the_refractory_period() {
        let m = TvLif { v_rest: 0.0, v_threshold: 1.0, v_reset: -0.5, refractory: 0.3 };
        let mut pop = TvLifPopulation::new(m, 1).unwrap();
        let mut flag = [false];
        let mut fired = Vec::new();
        for k in 0..40 {
            pop.step(1.0, 1.0, &[5.0], 0.1, &mut flag);
            if flag[0] {
                fired.push(k);
            }
            if let Some(&last) = fired.last() {
                if k > last && k <= last + 3 {
                    assert_eq!(pop.u[0], -0.5, "held at step {k}");
                }
            }
        }
        assert!(fired.len() >= 3, "{fired:?}");
        assert!(fired.windows(2).all(|w| w[1] - w[0] > 3), "{fired:?}");
        let bad = TvLif { refractory: -1.0, ..m };
        assert!(TvLifPopulation::new(bad, 1).unwrap_err().to_string().contains("refractory"));
    }
}
