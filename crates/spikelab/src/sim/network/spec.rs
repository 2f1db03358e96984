//! The declarative form of a network, as written under `[network]` in a simulation config:
//! populations, spike sources and the projections between them. `Network::build` checks the
//! values and turns it into the runtime form.

use crate::plasticity::stp::TsodyksMarkram;
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
    /// the channel decides which variable, the sign is the weight's own. One value for every
    /// synapse, or `{ uniform = [low, high] }`, drawn per synapse from the network's seed.
    pub weight: WeightInit,
    /// ms; rounded to whole steps.
    #[serde(default)]
    pub delay: f64,
    pub connect: Connectivity,
    /// A rule that changes the weights (each synapse starting at its `weight`); static if absent.
    #[serde(default)]
    pub plasticity: Option<PlasticitySpec>,
    /// Tsodyks–Markram short-term plasticity, `{ u, tau_f, tau_d, order }`: each pre spike delivers
    /// its synapses' weights scaled by its efficacy u·x; none if absent.
    #[serde(default)]
    pub stp: Option<TsodyksMarkram>,
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

/// A projection's weights at the start: one shared value, or one per synapse drawn uniformly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightInit {
    Constant(f64),
    Uniform { low: f64, high: f64 },
}

impl From<f64> for WeightInit {
    fn from(w: f64) -> Self {
        WeightInit::Constant(w)
    }
}

impl WeightInit {
    /// The smallest and largest weight it can give.
    pub fn range(&self) -> (f64, f64) {
        match *self {
            WeightInit::Constant(w) => (w, w),
            WeightInit::Uniform { low, high } => (low, high),
        }
    }
}

impl Serialize for WeightInit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match *self {
            WeightInit::Constant(w) => serializer.serialize_f64(w),
            WeightInit::Uniform { low, high } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("uniform", &[low, high])?;
                map.end()
            }
        }
    }
}

// Written by hand rather than `untagged`, so that a wrong value gets an error that says what is
// accepted instead of "did not match any variant".
impl<'de> Deserialize<'de> for WeightInit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = WeightInit;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or { uniform = [low, high] }")
            }

            fn visit_f64<E: serde::de::Error>(self, w: f64) -> Result<WeightInit, E> {
                Ok(WeightInit::Constant(w))
            }

            fn visit_i64<E: serde::de::Error>(self, w: i64) -> Result<WeightInit, E> {
                Ok(WeightInit::Constant(w as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, w: u64) -> Result<WeightInit, E> {
                Ok(WeightInit::Constant(w as f64))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<WeightInit, M::Error> {
                use serde::de::Error;
                let mut uniform: Option<[f64; 2]> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "uniform" if uniform.is_none() => uniform = Some(map.next_value()?),
                        "uniform" => return Err(M::Error::duplicate_field("uniform")),
                        other => return Err(M::Error::unknown_field(other, &["uniform"])),
                    }
                }
                let [low, high] = uniform.ok_or_else(|| M::Error::missing_field("uniform"))?;
                Ok(WeightInit::Uniform { low, high })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
