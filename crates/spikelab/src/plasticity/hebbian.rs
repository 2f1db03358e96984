//! Hebbian correlation rules on spike traces, for the simulator's projections: plain Hebb, the
//! covariance rule (Sejnowski 1977) with thresholds, and Oja's normalising term (Oja 1982):
//!
//!   traces x_i (τ_pre), y_j (τ_post): each decays to 0 and grows by 1 at its neuron's spike,
//!   as STDP's do (at a steady rate r, in spikes per ms, a trace averages r·τ)
//!   every step, after that step's spikes have entered the traces:
//!   w_ij ← clip(w_ij + η·dt·[(x_i − θ_pre)(y_j − θ_post) − [oja]·y_j²·w_ij], w_min, w_max)
//!
//! With both thresholds 0 it is plain Hebb, which only potentiates (η > 0) or only depresses
//! (η < 0, anti-Hebbian). Thresholds at the traces' mean activity make it a covariance rule:
//! depression when one side is above its threshold and the other below. Oja's term keeps a
//! neuron's input weights bounded without clipping: one synapse with thresholds 0 settles at
//! w = x / y. Unlike STDP the rule changes every synapse every step, since the rate estimates
//! do.

use super::{decay_traces, validate_time_constants, validate_weight_range, SynapticPlasticity, Topology};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HebbianParams {
    /// Learning rate η per ms; negative for an anti-Hebbian rule.
    pub eta: f64,
    /// Pre-trace time constant, ms.
    pub tau_pre: f64,
    /// Post-trace time constant, ms.
    pub tau_post: f64,
    /// Subtracted from the pre trace (0: plain Hebb).
    #[serde(default)]
    pub theta_pre: f64,
    /// Subtracted from the post trace (0: plain Hebb).
    #[serde(default)]
    pub theta_post: f64,
    /// Oja's decay −y²·w.
    #[serde(default)]
    pub oja: bool,
    pub w_min: f64,
    pub w_max: f64,
}

pub struct Hebbian {
    params: HebbianParams,
    pre_trace: Vec<f64>,
    post_trace: Vec<f64>,
    /// Per post neuron, this step's y − θ_post and Oja's y² (0 without it): computed once a
    /// step instead of once a synapse.
    post_terms: Vec<(f64, f64)>,
}

impl Hebbian {
    pub fn new(params: HebbianParams, pre_size: usize, post_size: usize, key: &str) -> Result<Self> {
        let p = params;
        validate_time_constants(key, &[("tau_pre", p.tau_pre), ("tau_post", p.tau_post)])?;
        for (name, v) in [("eta", p.eta), ("theta_pre", p.theta_pre), ("theta_post", p.theta_post)] {
            if !v.is_finite() {
                return Err(Error::config(format!("{key}.{name}"), format!("must be a finite number, got {v}")));
            }
        }
        validate_weight_range(key, p.w_min, p.w_max)?;
        Ok(Hebbian { params, pre_trace: vec![0.0; pre_size], post_trace: vec![0.0; post_size], post_terms: vec![(0.0, 0.0); post_size] })
    }
}

impl SynapticPlasticity for Hebbian {
    fn step(&mut self, topology: Topology<'_>, weights: &mut [f64], pre_fired: &[u32], post_fired: &[u32], dt: f64) {
        let p = self.params;
        for (traces, tau, fired) in [(&mut self.pre_trace, p.tau_pre, pre_fired), (&mut self.post_trace, p.tau_post, post_fired)] {
            decay_traces(traces, tau, dt);
            fired.iter().for_each(|&i| traces[i as usize] += 1.0);
        }
        let oja = if p.oja { 1.0 } else { 0.0 };
        for (term, &y) in self.post_terms.iter_mut().zip(&self.post_trace) {
            *term = (y - p.theta_post, oja * y * y);
        }
        let rate = p.eta * dt;
        for (i, &x) in self.pre_trace.iter().enumerate() {
            let pre = x - p.theta_pre;
            for s in topology.outgoing(i as u32) {
                let (post, decay) = self.post_terms[topology.targets[s] as usize];
                let w = &mut weights[s];
                *w = (*w + rate * (pre * post - decay * *w)).clamp(p.w_min, p.w_max);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> HebbianParams {
        HebbianParams { eta: 0.002, tau_pre: 20.0, tau_post: 10.0, theta_pre: 0.0, theta_post: 0.0, oja: false, w_min: -10.0, w_max: 10.0 }
    }

    /// One synapse 0 → 0 over `steps` steps of `dt`; `fires(step)` gives (pre, post) spikes.
    fn run(params: HebbianParams, w0: f64, steps: usize, dt: f64, fires: impl Fn(usize) -> (bool, bool)) -> f64 {
        let mut rule = Hebbian::new(params, 1, 1, "hebbian").unwrap();
        let topology = Topology { starts: &[0, 1], targets: &[0], incoming_starts: &[0, 1], incoming: &[0], incoming_pre: &[0] };
        let mut weights = [w0];
        for k in 0..steps {
            let (pre, post) = fires(k);
            rule.step(topology, &mut weights, if pre { &[0] } else { &[] }, if post { &[0] } else { &[] }, dt);
        }
        weights[0]
    }

    /// Both neurons fire once at step 0: step k sees x = e^(−k·dt/τ_pre), y = e^(−k·dt/τ_post),
    /// so N steps add η·dt·Σ q^k = η·dt·(1 − q^N)/(1 − q), q = e^(−dt(1/τ_pre + 1/τ_post)).
    #[test]
    fn plain_hebb_sums_the_trace_product() {
        let (p, dt, n) = (params(), 0.5, 300);
        let w = run(p, 0.1, n, dt, |k| (k == 0, k == 0));
        let q = (-dt * (1.0 / p.tau_pre + 1.0 / p.tau_post)).exp();
        let expected = 0.1 + p.eta * dt * (1.0 - q.powi(n as i32)) / (1.0 - q);
        assert!((w - expected).abs() < 1e-12, "{w} vs {expected}");
        // Anti-Hebbian: the same change with the opposite sign.
        let anti = run(HebbianParams { eta: -p.eta, ..p }, 0.1, n, dt, |k| (k == 0, k == 0));
        assert!((anti - (0.2 - expected)).abs() < 1e-12, "{anti}");
    }

    /// The covariance rule's signs: a pre spike with a silent post side below θ_post depresses by
    /// η·dt·θ_post·Σ x_k; both sides silent, below both thresholds, potentiate by
    /// η·dt·θ_pre·θ_post a step.
    #[test]
    fn thresholds_make_a_covariance_rule() {
        let (p, dt, n) = (HebbianParams { theta_post: 0.5, ..params() }, 1.0, 50);
        let w = run(p, 0.0, n, dt, |k| (k == 0, false));
        let q = (-dt / p.tau_pre).exp();
        let expected = -p.eta * dt * 0.5 * (1.0 - q.powi(n as i32)) / (1.0 - q);
        assert!((w - expected).abs() < 1e-12, "{w} vs {expected}");
        let both = HebbianParams { theta_pre: 0.2, ..p };
        let quiet = run(both, 0.0, n, dt, |_| (false, false));
        assert!((quiet - p.eta * dt * 0.2 * 0.5 * n as f64).abs() < 1e-12, "{quiet}");
    }

    /// Both neurons fire every step: the traces settle at 1 / (1 − e^(−dt/τ)), and Oja's rule
    /// brings the weight to its fixed point x / y from either side.
    #[test]
    fn oja_settles_at_the_trace_ratio() {
        let (p, dt) = (HebbianParams { oja: true, eta: 0.001, ..params() }, 1.0);
        let steady = |tau: f64| 1.0 / (1.0 - (-dt / tau).exp());
        let fixed = steady(p.tau_pre) / steady(p.tau_post);
        for w0 in [0.0, 5.0] {
            let w = run(p, w0, 2000, dt, |_| (true, true));
            assert!((w - fixed).abs() < 1e-9, "from {w0}: {w} vs {fixed}");
        }
        // Without Oja's term the same activity runs into the bound.
        assert_eq!(run(HebbianParams { oja: false, ..p }, 0.0, 2000, dt, |_| (true, true)), p.w_max);
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let err = |p: HebbianParams| Hebbian::new(p, 1, 1, "projections[0].plasticity").err().unwrap().to_string();
        assert!(err(HebbianParams { tau_post: 0.0, ..params() }).contains("projections[0].plasticity.tau_post"));
        assert!(err(HebbianParams { eta: f64::NAN, ..params() }).contains("plasticity.eta"));
        assert!(err(HebbianParams { w_min: 1.0, w_max: 1.0, ..params() }).contains("plasticity.w_max"));
    }
}
