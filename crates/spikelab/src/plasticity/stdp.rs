//! Spike-timing-dependent plasticity with exponential traces, all-to-all or nearest-spike
//! pairing: the pair rule (Song, Miller & Abbott 2000; Morrison, Diesmann & Gerstner 2008,
//! additive and weight-dependent forms) and, with `triplet` terms, the triplet rule (Pfister &
//! Gerstner 2006):
//!
//!   pre traces  x_i (τ₊), r_i (τ_x); post traces y_j (τ₋), o_j (τ_y); each decays to 0 and
//!   grows by 1 at its neuron's spike, after the change that spike causes
//!   pre spike of i:  w_ij ← w_ij − f₋(w)·y_j·(A₋ + A₃₋·r_i)     (post before pre: depression)
//!   post spike of j: w_ij ← w_ij + f₊(w)·x_i·(A₊ + A₃₊·o_j)     (pre before post: potentiation)
//!
//! with f = 1 (additive, weights clipped to [w_min, w_max]) or f₊ = w_max − w, f₋ = w − w_min
//! (multiplicative, soft bounds). Without triplet terms (A₃ = 0) it is the pair rule. With
//! `pairing = "nearest"` each trace is set to 1 at a spike instead of growing by 1, so a spike
//! pairs only with the latest one of the other side. A single pair at Δt = t_post − t_pre > 0
//! changes w by A₊e^(−Δt/τ₊); at Δt < 0 by −A₋e^(Δt/τ₋). Traces decay once per step; within a
//! step, pre spikes are handled before post spikes, so a pre and a post spike in the same step
//! count as Δt = 0⁺ (potentiation by A₊), as in Brian2's default schedule.

use super::{decay_traces, validate_time_constants, validate_weight_range, SynapticPlasticity, Topology};
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

/// Which spike pairs a spike takes part in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// Every earlier spike of the other side: each trace grows by 1 at its neuron's spike.
    #[default]
    AllToAll,
    /// Only the latest spike of the other side (symmetric nearest-spike; Morrison, Diesmann &
    /// Gerstner 2008): each trace is set to 1 at its neuron's spike.
    Nearest,
}

/// The triplet terms: slow pre trace r (τ_x) and post trace o (τ_y) and their amplitudes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripletTerms {
    pub tau_x: f64,
    pub tau_y: f64,
    pub a3_plus: f64,
    pub a3_minus: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdpParams {
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
    /// Triplet terms (absent: the pair rule).
    #[serde(default)]
    pub triplet: Option<TripletTerms>,
    /// All-to-all (default) or nearest-spike pairing; for the triplet rule it applies to the
    /// slow traces too (Pfister & Gerstner's minimal nearest-spike model).
    #[serde(default)]
    pub pairing: Pairing,
}

pub struct Stdp {
    params: StdpParams,
    pre_trace: Vec<f64>,
    post_trace: Vec<f64>,
    /// The triplet rule's slow traces r (pre) and o (post); empty for the pair rule.
    slow_pre: Vec<f64>,
    slow_post: Vec<f64>,
}

/// Absent triplet terms: the slow traces contribute nothing (their time constants are unused).
const PAIR_ONLY: TripletTerms = TripletTerms { tau_x: 1.0, tau_y: 1.0, a3_plus: 0.0, a3_minus: 0.0 };

impl Stdp {
    pub fn new(params: StdpParams, pre_size: usize, post_size: usize, key: &str) -> Result<Self> {
        let p = params;
        let t = p.triplet.unwrap_or(PAIR_ONLY);
        validate_time_constants(key, &[("tau_plus", p.tau_plus), ("tau_minus", p.tau_minus), ("triplet.tau_x", t.tau_x), ("triplet.tau_y", t.tau_y)])?;
        for (name, v) in [("a_plus", p.a_plus), ("a_minus", p.a_minus), ("triplet.a3_plus", t.a3_plus), ("triplet.a3_minus", t.a3_minus)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(format!("{key}.{name}"), format!("must be ≥ 0 (the sign is the rule's), got {v}")));
            }
        }
        validate_weight_range(key, p.w_min, p.w_max)?;
        let slow = |n: usize| if p.triplet.is_some() { vec![0.0; n] } else { Vec::new() };
        Ok(Stdp { params, pre_trace: vec![0.0; pre_size], post_trace: vec![0.0; post_size], slow_pre: slow(pre_size), slow_post: slow(post_size) })
    }
}

impl SynapticPlasticity for Stdp {
    fn step(&mut self, topology: Topology<'_>, weights: &mut [f64], pre_fired: &[u32], post_fired: &[u32], dt: f64) {
        let p = self.params;
        decay_traces(&mut self.pre_trace, p.tau_plus, dt);
        decay_traces(&mut self.post_trace, p.tau_minus, dt);
        let t = p.triplet.unwrap_or(PAIR_ONLY);
        decay_traces(&mut self.slow_pre, t.tau_x, dt);
        decay_traces(&mut self.slow_post, t.tau_y, dt);
        for &i in pre_fired {
            let i = i as usize;
            // The slow trace as it was just before this spike.
            let a_minus = p.a_minus + t.a3_minus * self.slow_pre.get(i).copied().unwrap_or(0.0);
            for s in topology.outgoing(i as u32) {
                let y = self.post_trace[topology.targets[s] as usize];
                let w = &mut weights[s];
                *w = match p.dependence {
                    WeightDependence::Additive => (*w - a_minus * y).max(p.w_min),
                    WeightDependence::Multiplicative => *w - a_minus * (*w - p.w_min) * y,
                };
            }
            p.pairing.record_spike(&mut self.pre_trace[i]);
            if let Some(r) = self.slow_pre.get_mut(i) {
                p.pairing.record_spike(r);
            }
        }
        for &j in post_fired {
            let j = j as usize;
            let a_plus = p.a_plus + t.a3_plus * self.slow_post.get(j).copied().unwrap_or(0.0);
            for (s, i) in topology.incoming(j as u32) {
                let x = self.pre_trace[i];
                let w = &mut weights[s];
                *w = match p.dependence {
                    WeightDependence::Additive => (*w + a_plus * x).min(p.w_max),
                    WeightDependence::Multiplicative => *w + a_plus * (p.w_max - *w) * x,
                };
            }
            p.pairing.record_spike(&mut self.post_trace[j]);
            if let Some(o) = self.slow_post.get_mut(j) {
                p.pairing.record_spike(o);
            }
        }
    }
}

impl Pairing {
    /// A trace at its neuron's spike, after the change that spike causes.
    fn record_spike(self, trace: &mut f64) {
        match self {
            Pairing::AllToAll => *trace += 1.0,
            Pairing::Nearest => *trace = 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One synapse 0 → 0; runs the given (step, pre fired, post fired) events and returns w.
    fn run(params: StdpParams, w0: f64, events: &[(usize, bool, bool)], steps: usize) -> f64 {
        let mut rule = Stdp::new(params, 1, 1, "stdp").unwrap();
        let topology = Topology { starts: &[0, 1], targets: &[0], incoming_starts: &[0, 1], incoming: &[0], incoming_pre: &[0] };
        let mut weights = [w0];
        for k in 0..steps {
            let (pre, post) = events.iter().find(|e| e.0 == k).map_or((false, false), |e| (e.1, e.2));
            rule.step(topology, &mut weights, if pre { &[0] } else { &[] }, if post { &[0] } else { &[] }, 0.1);
        }
        weights[0]
    }

    fn params(dependence: WeightDependence) -> StdpParams {
        StdpParams { tau_plus: 20.0, tau_minus: 10.0, a_plus: 0.01, a_minus: 0.012, w_min: 0.0, w_max: 1.0, dependence, triplet: None, pairing: Pairing::AllToAll }
    }

    /// Triplet terms by hand: post at 1 ms, pre at 3 ms, post at 8 ms. The pre spike depresses
    /// by A₋·e^(−2/10) (its slow trace r is 0 before it); the second post potentiates by
    /// e^(−5/20)·(A₊ + A₃₊·e^(−7/τ_y)), its slow trace o holding the first post spike.
    #[test]
    fn triplet_terms_by_hand() {
        let mut p = params(WeightDependence::Additive);
        p.triplet = Some(TripletTerms { tau_x: 100.0, tau_y: 120.0, a3_plus: 0.02, a3_minus: 0.003 });
        let w = run(p, 0.5, &[(10, false, true), (30, true, false), (80, false, true)], 100);
        let expected = 0.5 - 0.012 * (-2.0f64 / 10.0).exp() + (-5.0f64 / 20.0).exp() * (0.01 + 0.02 * (-7.0f64 / 120.0).exp());
        assert!((w - expected).abs() < 1e-12, "{w} vs {expected}");
        // A pre spike's depression grows with the earlier pre spikes (A₃₋ through r).
        let two_pre = run(p, 0.5, &[(10, false, true), (20, true, false), (30, true, false)], 40);
        let y = |ms: f64| (-ms / 10.0).exp();
        let expected = 0.5 - 0.012 * y(1.0) - (0.012 + 0.003 * (-1.0f64 / 100.0).exp()) * y(2.0);
        assert!((two_pre - expected).abs() < 1e-12, "{two_pre} vs {expected}");
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

    /// Nearest-spike pairing by hand: pre at 1 and 3 ms, post at 8 ms potentiates by
    /// A₊e^(−5/20) alone (all-to-all adds A₊e^(−7/20)); post at 1 and 2 ms, pre at 6 ms
    /// depresses by A₋e^(−4/10) alone (all-to-all adds A₋e^(−5/10)).
    #[test]
    fn nearest_pairing_pairs_only_the_latest_spikes() {
        let all = params(WeightDependence::Additive);
        let nearest = StdpParams { pairing: Pairing::Nearest, ..all };
        let e = |ms: f64, tau: f64| (-ms / tau).exp();
        let ltp = [(10, true, false), (30, true, false), (80, false, true)];
        assert!((run(nearest, 0.5, &ltp, 100) - (0.5 + 0.01 * e(5.0, 20.0))).abs() < 1e-12);
        assert!((run(all, 0.5, &ltp, 100) - (0.5 + 0.01 * (e(5.0, 20.0) + e(7.0, 20.0)))).abs() < 1e-12);
        let ltd = [(10, false, true), (20, false, true), (60, true, false)];
        assert!((run(nearest, 0.5, &ltd, 100) - (0.5 - 0.012 * e(4.0, 10.0))).abs() < 1e-12);
        assert!((run(all, 0.5, &ltd, 100) - (0.5 - 0.012 * (e(4.0, 10.0) + e(5.0, 10.0)))).abs() < 1e-12);
        let parsed: StdpParams = toml::from_str("tau_plus = 20.0\ntau_minus = 10.0\na_plus = 0.01\na_minus = 0.012\nw_min = 0.0\nw_max = 1.0\npairing = \"nearest\"").unwrap();
        assert_eq!(parsed, nearest);
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let mut p = params(WeightDependence::Additive);
        p.tau_plus = 0.0;
        assert!(Stdp::new(p, 1, 1, "projections[2].plasticity").err().unwrap().to_string().contains("projections[2].plasticity.tau_plus"));
        let mut p = params(WeightDependence::Additive);
        p.w_max = -1.0;
        assert!(Stdp::new(p, 1, 1, "x").err().unwrap().to_string().contains("w_max"));
    }
}
