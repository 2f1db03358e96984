//! Pair-based spike-timing-dependent plasticity with exponential traces (all-to-all pairing;
//! Song, Miller & Abbott 2000; Morrison, Diesmann & Gerstner 2008, additive and
//! weight-dependent forms):
//!
//!   pre trace  x_i: τ₊ dx/dt = −x, x ← x + 1 at each pre spike
//!   post trace y_j: τ₋ dy/dt = −y, y ← y + 1 at each post spike
//!   pre spike of i:  w_ij ← w_ij − A₋·f₋(w)·y_j     (post before pre: depression)
//!   post spike of j: w_ij ← w_ij + A₊·f₊(w)·x_i     (pre before post: potentiation)
//!
//! with f = 1 (additive, weights clipped to [w_min, w_max]) or f₊ = w_max − w, f₋ = w − w_min
//! (multiplicative, soft bounds). A single pair at Δt = t_post − t_pre > 0 changes w by
//! A₊e^(−Δt/τ₊); at Δt < 0 by −A₋e^(Δt/τ₋). Traces decay once per step; within a step, pre
//! spikes are handled before post spikes, so a pre and a post spike in the same step count as
//! Δt = 0⁺ (potentiation by A₊), as in Brian2's default schedule.

use super::{SynapticPlasticity, Topology};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightDependence {
    /// Changes independent of w; hard bounds.
    #[default]
    Additive,
    /// Potentiation ∝ (w_max − w), depression ∝ (w − w_min).
    Multiplicative,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairStdpParams {
    /// Pre-trace time constant τ₊, ms.
    pub tau_plus: f64,
    /// Post-trace time constant τ₋, ms.
    pub tau_minus: f64,
    pub a_plus: f64,
    pub a_minus: f64,
    pub w_min: f64,
    pub w_max: f64,
    #[serde(default)]
    pub dependence: WeightDependence,
}

pub struct PairStdp {
    params: PairStdpParams,
    pre_trace: Vec<f64>,
    post_trace: Vec<f64>,
}

impl PairStdp {
    pub fn new(params: PairStdpParams, pre_size: usize, post_size: usize, key: &str) -> Result<Self> {
        let p = params;
        for (name, v) in [("tau_plus", p.tau_plus), ("tau_minus", p.tau_minus)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::config(format!("{key}.{name}"), format!("must be a positive time in ms, got {v}")));
            }
        }
        for (name, v) in [("a_plus", p.a_plus), ("a_minus", p.a_minus)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(format!("{key}.{name}"), format!("must be ≥ 0 (the sign is the rule's), got {v}")));
            }
        }
        if !(p.w_min.is_finite() && p.w_max.is_finite() && p.w_min < p.w_max) {
            return Err(Error::config(format!("{key}.w_max"), format!("needs w_min < w_max, got [{}, {}]", p.w_min, p.w_max)));
        }
        Ok(PairStdp { params, pre_trace: vec![0.0; pre_size], post_trace: vec![0.0; post_size] })
    }
}

impl SynapticPlasticity for PairStdp {
    fn step(&mut self, topology: Topology<'_>, weights: &mut [f64], pre_fired: &[u32], post_fired: &[u32], dt: f64) {
        let p = self.params;
        let (decay_pre, decay_post) = ((-dt / p.tau_plus).exp(), (-dt / p.tau_minus).exp());
        self.pre_trace.iter_mut().for_each(|x| *x *= decay_pre);
        self.post_trace.iter_mut().for_each(|y| *y *= decay_post);
        for &i in pre_fired {
            self.pre_trace[i as usize] += 1.0;
            for s in topology.outgoing(i) {
                let y = self.post_trace[topology.targets[s] as usize];
                let w = &mut weights[s];
                *w = match p.dependence {
                    WeightDependence::Additive => (*w - p.a_minus * y).max(p.w_min),
                    WeightDependence::Multiplicative => *w - p.a_minus * (*w - p.w_min) * y,
                };
            }
        }
        for &j in post_fired {
            self.post_trace[j as usize] += 1.0;
            for (s, i) in topology.incoming(j) {
                let x = self.pre_trace[i];
                let w = &mut weights[s];
                *w = match p.dependence {
                    WeightDependence::Additive => (*w + p.a_plus * x).min(p.w_max),
                    WeightDependence::Multiplicative => *w + p.a_plus * (p.w_max - *w) * x,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One synapse 0 → 0; runs the given (step, pre fired, post fired) events and returns w.
    fn run(params: PairStdpParams, w0: f64, events: &[(usize, bool, bool)], steps: usize) -> f64 {
        let mut rule = PairStdp::new(params, 1, 1, "stdp").unwrap();
        let topology = Topology { starts: &[0, 1], targets: &[0], incoming_starts: &[0, 1], incoming: &[0], incoming_pre: &[0] };
        let mut weights = [w0];
        for k in 0..steps {
            let (pre, post) = events.iter().find(|e| e.0 == k).map_or((false, false), |e| (e.1, e.2));
            rule.step(topology, &mut weights, if pre { &[0] } else { &[] }, if post { &[0] } else { &[] }, 0.1);
        }
        weights[0]
    }

    fn params(dependence: WeightDependence) -> PairStdpParams {
        PairStdpParams { tau_plus: 20.0, tau_minus: 10.0, a_plus: 0.01, a_minus: 0.012, w_min: 0.0, w_max: 1.0, dependence }
    }

    /// The hand-computed window: pre at 1 ms then post at 6 ms gives +A₊e^(−5/20); post at
    /// 1 ms then pre at 6 ms gives −A₋e^(−5/10); same-step pairs potentiate by A₊.
    #[test]
    fn pair_window_matches_the_hand_computed_values() {
        let p = params(WeightDependence::Additive);
        let ltp = run(p, 0.5, &[(10, true, false), (60, false, true)], 100);
        assert!((ltp - (0.5 + 0.01 * (-5.0f64 / 20.0).exp())).abs() < 1e-12, "{ltp}");
        let ltd = run(p, 0.5, &[(10, false, true), (60, true, false)], 100);
        assert!((ltd - (0.5 - 0.012 * (-5.0f64 / 10.0).exp())).abs() < 1e-12, "{ltd}");
        let same = run(p, 0.5, &[(10, true, true)], 20);
        assert!((same - 0.51).abs() < 1e-12, "{same}");
        // Hard bounds hold; soft bounds scale with the distance to them.
        assert_eq!(run(p, 0.999, &[(10, true, true)], 20), 1.0);
        assert_eq!(run(p, 0.005, &[(10, false, true), (11, true, false)], 20), 0.0);
        let m = params(WeightDependence::Multiplicative);
        let soft = run(m, 0.8, &[(10, true, false), (60, false, true)], 100);
        assert!((soft - (0.8 + 0.01 * 0.2 * (-5.0f64 / 20.0).exp())).abs() < 1e-12, "{soft}");
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let mut p = params(WeightDependence::Additive);
        p.tau_plus = 0.0;
        assert!(PairStdp::new(p, 1, 1, "projections[2].plasticity").err().unwrap().to_string().contains("projections[2].plasticity.tau_plus"));
        let mut p = params(WeightDependence::Additive);
        p.w_max = -1.0;
        assert!(PairStdp::new(p, 1, 1, "x").err().unwrap().to_string().contains("w_max"));
    }
}
