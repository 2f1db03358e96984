//! The declarative form of a network, as written under `[network]` in a simulation config:
//! populations, spike sources and the projections between them. `Network::build` checks the
//! values and turns it into the runtime form.

use crate::plasticity::PlasticitySpec;
use crate::sim::connect::Connectivity;
use crate::sim::point::NeuronSpec;
use crate::sim::Stimulus;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SynapseModel {
    /// τm dv/dt = ge + gi − (v − E_L); ge, gi (mV) decay with τe, τi.
    Current { tau_e: f64, tau_i: f64 },
    /// τm dv/dt = ge (E_e − v) + gi (E_i − v) − (v − E_L); ge, gi relative to the leak.
    Conductance { tau_e: f64, tau_i: f64, e_e: f64, e_i: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    pub name: String,
    pub size: usize,
    pub neuron: NeuronSpec,
    pub synapse: SynapseModel,
    /// Initial membrane potentials uniform in [lo, hi] (default: LIF at `v_reset`, the other
    /// models in their own initial state).
    pub v_init: Option<[f64; 2]>,
    /// External drive in the model's input unit (LIF: mV, as R·I), the same for every neuron,
    /// held over each step.
    #[serde(default)]
    pub input: Option<Stimulus>,
    /// A constant drive per neuron (one value each), added to `input`.
    #[serde(default)]
    pub bias: Option<Vec<f64>>,
    /// Model steps per network step, for the models integrated numerically (HH wants steps of
    /// 0.01 ms or less); LIF populations are exact and take 1.
    #[serde(default = "one")]
    pub substeps: usize,
}

fn one() -> usize {
    1
}

/// Neurons that only emit spikes: Poisson processes or given spike times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub name: String,
    pub size: usize,
    pub spikes: SourceSpikes,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SourceSpikes {
    /// Each neuron fires independently with this rate (Hz): probability rate·dt per step.
    Poisson { rate: f64 },
    /// Spike times (ms) of each neuron, one list per neuron.
    Times { times: Vec<Vec<f64>> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Excitatory,
    Inhibitory,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    pub from: String,
    pub to: String,
    /// Pre neurons `[start, end)` of the source population (default: all).
    pub pre: Option<[usize; 2]>,
    /// Post neurons `[start, end)` of the target population (default: all).
    pub post: Option<[usize; 2]>,
    pub channel: Channel,
    /// Added to the target's synaptic variable per spike (mV, or relative conductance);
    /// the channel decides which variable, the sign is the weight's own.
    pub weight: f64,
    /// ms; rounded to whole steps.
    #[serde(default)]
    pub delay: f64,
    pub connect: Connectivity,
    /// A rule that changes the weights (each synapse starting at `weight`); static if absent.
    #[serde(default)]
    pub plasticity: Option<PlasticitySpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub populations: Vec<PopulationSpec>,
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub projections: Vec<ProjectionSpec>,
}
