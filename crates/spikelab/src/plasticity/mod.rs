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
//! rule keeps one weight per synapse (`Topology` order).

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
pub use stdp::{Stdp, StdpParams, TripletTerms, WeightDependence};

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

/// A rule as written in a projection's config: `plasticity = { rule = "stdp", … }` or
/// `{ rule = "hebbian", … }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlasticitySpec {
    Stdp(StdpParams),
    Hebbian(HebbianParams),
}

impl PlasticitySpec {
    pub fn build(&self, pre_size: usize, post_size: usize, key: &str) -> Result<Box<dyn SynapticPlasticity>> {
        match self {
            PlasticitySpec::Stdp(p) => Ok(Box::new(Stdp::new(*p, pre_size, post_size, key)?)),
            PlasticitySpec::Hebbian(p) => Ok(Box::new(Hebbian::new(*p, pre_size, post_size, key)?)),
        }
    }

    /// The weight range the rule keeps weights in.
    pub fn weight_bounds(&self) -> (f64, f64) {
        match self {
            PlasticitySpec::Stdp(p) => (p.w_min, p.w_max),
            PlasticitySpec::Hebbian(p) => (p.w_min, p.w_max),
        }
    }
}
