//! Local learning: rules that change synaptic weights from the activity around each synapse.
//! `rules`: weight changes from two relaxation phases (equilibrium propagation and its
//! variants); `sbp`: the self-backpropagation modulation of any stack of such changes; `stp`:
//! short-term plasticity; `stdp`: spike-timing rules (pair and triplet) and `hebbian`: trace
//! correlation rules (plain Hebb, covariance, Oja), both for the simulator; `homeostasis`:
//! adaptive firing thresholds.
//!
//! A simulator rule sees, once per simulation step, the spikes of its projection's pre and post neurons and
//! the projection's wiring (`Topology`) and weights, and updates the weights in place; the simulator calls
//! it after the step's spikes have been transmitted with the old weights. A projection with a
//! rule keeps one weight per synapse (`Topology` order); with a delay, its rule sees each pre
//! spike when it reaches the synapses, `delay` after it was emitted.

mod hebbian;
pub mod homeostasis;
pub mod hopfield;
pub mod rules;
pub mod sbp;
pub mod smlp;
pub mod snn;
mod stdp;
pub mod stp;

pub use hebbian::{Hebbian, HebbianParams};
pub use stdp::{Pairing, Stdp, StdpParams, TripletTerms, WeightDependence};

use crate::error::Result;
use serde::{Deserialize, Serialize};

/// A projection's wiring as the rules see it: outgoing rows in CSR order (the synapses of pre
/// neuron i are `starts[i]..starts[i + 1]`, synapse s ends at `targets[s]`) and, for updates
/// driven by the post neuron, the synapses arriving at post neuron j with their pre neurons:
/// `incoming[r]` and `incoming_pre[r]` for r in `incoming_starts[j]..incoming_starts[j + 1]`.
#[derive(Clone, Copy)]
pub struct Topology<'a> {
    pub starts: &'a [u32],
    pub targets: &'a [u32],
    pub incoming_starts: &'a [u32],
    pub incoming: &'a [u32],
    pub incoming_pre: &'a [u32],
}

impl Topology<'_> {
    pub fn outgoing(&self, pre: u32) -> std::ops::Range<usize> {
        self.starts[pre as usize] as usize..self.starts[pre as usize + 1] as usize
    }

    /// (synapse, pre neuron) of every synapse arriving at `post`.
    pub fn incoming(&self, post: u32) -> impl Iterator<Item = (usize, usize)> + '_ {
        let r = self.incoming_starts[post as usize] as usize..self.incoming_starts[post as usize + 1] as usize;
        self.incoming[r.clone()].iter().zip(&self.incoming_pre[r]).map(|(&s, &i)| (s as usize, i as usize))
    }
}

/// A plasticity rule of a projection, run once per step.
pub trait SynapticPlasticity: Send {
    /// `pre_fired` and `post_fired` are this step's spiking neurons (indices into the whole
    /// pre and post populations); `dt` in ms.
    fn step(&mut self, topology: Topology<'_>, weights: &mut [f64], pre_fired: &[u32], post_fired: &[u32], dt: f64);
}

/// The checks shared by the layered networks' configs: at least two non-empty layers, one
/// learning rate per weight matrix, the named values positive, a batch of at least one.
fn validate_layered(layers: &[usize], learning_rates: &[f32], positive: &[(&str, f32)], batch_size: usize) -> Result<()> {
    use crate::error::Error;
    if layers.len() < 2 || layers.contains(&0) {
        return Err(Error::config("layers", format!("needs at least two non-empty layers, got {layers:?}")));
    }
    if learning_rates.len() != layers.len() - 1 {
        return Err(Error::config("learning_rates", format!("{} rates for {} weight matrices", learning_rates.len(), layers.len() - 1)));
    }
    if let Some((key, v)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
        return Err(Error::config(*key, format!("must be positive, got {v}")));
    }
    if batch_size == 0 {
        return Err(Error::config("batch_size", "must be at least 1"));
    }
    Ok(())
}

/// A simulator rule's time constants (ms) must be positive; the error names the rule's key.
fn validate_time_constants(key: &str, time_constants: &[(&str, f64)]) -> Result<()> {
    match time_constants.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
        Some((name, v)) => Err(crate::error::Error::config(format!("{key}.{name}"), format!("must be a positive time in ms, got {v}"))),
        None => Ok(()),
    }
}

/// A simulator rule's weight range must have room in it.
fn validate_weight_range(key: &str, w_min: f64, w_max: f64) -> Result<()> {
    if w_min.is_finite() && w_max.is_finite() && w_min < w_max {
        Ok(())
    } else {
        Err(crate::error::Error::config(format!("{key}.w_max"), format!("needs w_min < w_max, got [{w_min}, {w_max}]")))
    }
}

/// One step's exponential decay of spike traces with time constant `tau`.
fn decay_traces(traces: &mut [f64], tau: f64, dt: f64) {
    let d = (-dt / tau).exp();
    traces.iter_mut().for_each(|x| *x *= d);
}

/// A rule as written in a projection's config: `plasticity = { rule = "stdp", … }`,
/// `{ rule = "hebbian", … }`, or several applied in turn each step,
/// `{ rule = "sequence", rules = [{ rule = "stdp", … }, { rule = "hebbian", … }] }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlasticitySpec {
    Stdp(StdpParams),
    Hebbian(HebbianParams),
    Sequence { rules: Vec<PlasticitySpec> },
}

impl PlasticitySpec {
    pub fn build(&self, pre_size: usize, post_size: usize, key: &str) -> Result<Box<dyn SynapticPlasticity>> {
        match self {
            PlasticitySpec::Stdp(p) => Ok(Box::new(Stdp::new(*p, pre_size, post_size, key)?)),
            PlasticitySpec::Hebbian(p) => Ok(Box::new(Hebbian::new(*p, pre_size, post_size, key)?)),
            PlasticitySpec::Sequence { rules } => {
                let (lo, hi) = self.weight_bounds();
                if rules.is_empty() || !(lo < hi) {
                    let why = if rules.is_empty() { "needs at least one rule".to_string() } else { format!("the rules' weight bounds leave no room in common ([{lo}, {hi}])") };
                    return Err(crate::error::Error::config(format!("{key}.rules"), why));
                }
                let built = rules.iter().enumerate().map(|(k, r)| r.build(pre_size, post_size, &format!("{key}.rules[{k}]"))).collect::<Result<_>>()?;
                Ok(Box::new(Sequence(built)))
            }
        }
    }

    /// The weight range the rule keeps weights in (for a sequence, the range all its rules keep).
    pub fn weight_bounds(&self) -> (f64, f64) {
        match self {
            PlasticitySpec::Stdp(p) => (p.w_min, p.w_max),
            PlasticitySpec::Hebbian(p) => (p.w_min, p.w_max),
            PlasticitySpec::Sequence { rules } => rules.iter().map(PlasticitySpec::weight_bounds).fold((f64::NEG_INFINITY, f64::INFINITY), |(lo, hi), (l, h)| (lo.max(l), hi.min(h))),
        }
    }
}

/// Rules applied one after the other to the same weights, each seeing the same spikes.
struct Sequence(Vec<Box<dyn SynapticPlasticity>>);

impl SynapticPlasticity for Sequence {
    fn step(&mut self, topology: Topology<'_>, weights: &mut [f64], pre_fired: &[u32], post_fired: &[u32], dt: f64) {
        for rule in &mut self.0 {
            rule.step(topology, weights, pre_fired, post_fired, dt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdp() -> StdpParams {
        StdpParams { tau_plus: 20.0, tau_minus: 10.0, a_plus: 0.01, a_minus: 0.012, w_min: 0.0, w_max: 2.0, dependence: WeightDependence::Additive, triplet: None, pairing: Default::default() }
    }

    fn hebbian() -> HebbianParams {
        HebbianParams { eta: 0.003, tau_pre: 15.0, tau_post: 30.0, theta_pre: 0.2, theta_post: 0.4, oja: true, w_min: -1.0, w_max: 1.5 }
    }

    /// A sequence of STDP and the Hebbian rule on two synapses moves the weights exactly as the
    /// two rules applied by hand one after the other, step by step.
    #[test]
    fn a_sequence_applies_its_rules_in_turn() {
        let topology = Topology { starts: &[0, 1, 2], targets: &[0, 0], incoming_starts: &[0, 2], incoming: &[0, 1], incoming_pre: &[0, 1] };
        let spec = PlasticitySpec::Sequence { rules: vec![PlasticitySpec::Stdp(stdp()), PlasticitySpec::Hebbian(hebbian())] };
        assert_eq!(spec.weight_bounds(), (0.0, 1.5));
        let mut sequence = spec.build(2, 1, "p").unwrap();
        let mut first = Stdp::new(stdp(), 2, 1, "p").unwrap();
        let mut second = Hebbian::new(hebbian(), 2, 1, "p").unwrap();
        let (mut together, mut by_hand) = ([0.5, 1.2], [0.5, 1.2]);
        for k in 0..400u32 {
            let pre: Vec<u32> = (0..2).filter(|i| k % (7 + 4 * i) == 0).collect();
            let post: &[u32] = if k % 9 == 3 { &[0] } else { &[] };
            sequence.step(topology, &mut together, &pre, post, 0.5);
            first.step(topology, &mut by_hand, &pre, post, 0.5);
            second.step(topology, &mut by_hand, &pre, post, 0.5);
        }
        assert_eq!(together, by_hand);
        assert!(together != [0.5, 1.2], "{together:?}");
    }

    #[test]
    fn bad_sequences_name_their_key() {
        let err = |spec: PlasticitySpec| spec.build(1, 1, "projections[0].plasticity").err().unwrap().to_string();
        assert!(err(PlasticitySpec::Sequence { rules: vec![] }).contains("projections[0].plasticity.rules"));
        let apart = HebbianParams { w_min: 3.0, w_max: 4.0, ..hebbian() };
        let e = err(PlasticitySpec::Sequence { rules: vec![PlasticitySpec::Stdp(stdp()), PlasticitySpec::Hebbian(apart)] });
        assert!(e.contains("plasticity.rules") && e.contains("no room in common"), "{e}");
        let bad = HebbianParams { tau_post: -1.0, ..hebbian() };
        let e = err(PlasticitySpec::Sequence { rules: vec![PlasticitySpec::Stdp(stdp()), PlasticitySpec::Hebbian(bad)] });
        assert!(e.contains("projections[0].plasticity.rules[1].tau_post"), "{e}");
    }
}
