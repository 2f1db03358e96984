//! Recording a network run: spikes of chosen neurons, membrane potentials of chosen neurons.

use super::Network;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What to record, by population name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Spikes of the first `neurons` neurons of `population`.
    pub spikes: Option<SpikeRecord>,
    /// Membrane potential of the listed neurons of `population`, every step.
    pub voltage: Option<VoltageRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeRecord {
    pub population: String,
    pub neurons: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoltageRecord {
    pub population: String,
    pub neurons: Vec<usize>,
}

/// The recordings of one run.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// (time in ms, neuron) of every recorded spike.
    pub spikes: Vec<(f64, u32)>,
    pub spike_neurons: usize,
    /// Times (ms) of the voltage samples, and one series per recorded neuron.
    pub times: Vec<f64>,
    pub voltages: Vec<(usize, Vec<f64>)>,
}

/// Records a network step by step.
pub struct Monitor {
    spikes: Option<(usize, usize)>,
    voltage: Option<(usize, Vec<usize>)>,
    pub recording: Recording,
}

impl Monitor {
    /// Checks the spec against the network (population names, neuron indices).
    pub fn new(spec: &RecordSpec, net: &Network) -> Result<Monitor> {
        let names = net.population_names();
        let find = |name: &str, key: &str| names.iter().position(|n| n == name).ok_or_else(|| Error::config(key, format!("no population named {name:?}")));
        let spikes = match &spec.spikes {
            Some(s) => {
                let p = find(&s.population, "record.spikes.population")?;
                if s.neurons > net.population_size(p) {
                    return Err(Error::config("record.spikes.neurons", format!("{} exceeds the {} neurons of {:?}", s.neurons, net.population_size(p), s.population)));
                }
                Some((p, s.neurons))
            }
            None => None,
        };
        let voltage = match &spec.voltage {
            Some(v) => {
                let p = find(&v.population, "record.voltage.population")?;
                if let Some(&bad) = v.neurons.iter().find(|&&i| i >= net.population_size(p)) {
                    return Err(Error::config("record.voltage.neurons", format!("neuron {bad} is outside {:?} ({} neurons)", v.population, net.population_size(p))));
                }
                Some((p, v.neurons.clone()))
            }
            None => None,
        };
        let mut recording = Recording { spike_neurons: spikes.map_or(0, |s| s.1), ..Default::default() };
        if let Some((_, neurons)) = &voltage {
            recording.voltages = neurons.iter().map(|&i| (i, Vec::new())).collect();
        }
        Ok(Monitor { spikes, voltage, recording })
    }

    /// Records the state after a step that ended at time `t` (ms).
    pub fn observe(&mut self, net: &Network, t: f64) {
        if let Some((p, n)) = self.spikes {
            let fired = &net.last_spikes()[p];
            self.recording.spikes.extend(fired.iter().filter(|&&i| (i as usize) < n).map(|&i| (t, i)));
        }
        if let Some((p, neurons)) = &self.voltage {
            self.recording.times.push(t);
            for ((_, series), &i) in self.recording.voltages.iter_mut().zip(neurons) {
                series.push(net.voltage(*p, i));
            }
        }
    }
}
