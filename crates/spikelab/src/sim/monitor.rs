//! Recording a network run: spikes of chosen neurons, and any state variable of chosen neurons
//! (membrane potential, HH gates, adaptation, synaptic conductances).

use super::Network;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What to record, by population name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Spikes of the first `neurons` neurons of `population`.
    pub spikes: Option<SpikeRecord>,
    /// Membrane potential of the listed neurons of `population`, every step (the same as a
    /// `state` record of variable `v`).
    pub voltage: Option<VoltageRecord>,
    /// State variables of listed neurons, every step: `v`, the model's own (HH `m`, `n`, `h`;
    /// Izhikevich and AdEx `w`; tv-LIF2HH `u_na` … `u4`, `f_na` …, gates) and the synaptic
    /// `ge`, `gi` (`Network::variable_names`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateRecord>,
}

impl RecordSpec {
    pub fn is_empty(&self) -> bool {
        self.spikes.is_none() && self.voltage.is_none() && self.state.is_empty()
    }
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRecord {
    pub population: String,
    pub variable: String,
    pub neurons: Vec<usize>,
}

/// One recorded quantity of one neuron, sampled after every step.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTrace {
    pub population: String,
    pub variable: String,
    pub neuron: usize,
    pub values: Vec<f64>,
}

/// The recordings of one run.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// (time in ms, neuron) of every recorded spike.
    pub spikes: Vec<(f64, u32)>,
    pub spike_neurons: usize,
    /// Times (ms) of the state samples, shared by every trace.
    pub times: Vec<f64>,
    pub traces: Vec<StateTrace>,
}

/// Records a network step by step.
pub struct Monitor {
    spikes: Option<(usize, usize)>,
    /// (population, variable index, neuron) of each trace, in `recording.traces` order.
    sampled: Vec<(usize, usize, usize)>,
    pub recording: Recording,
}

impl Monitor {
    /// Checks the spec against the network (population names, variables, neuron indices).
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
        let voltage = spec.voltage.iter().map(|v| ("record.voltage".to_string(), StateRecord { population: v.population.clone(), variable: "v".into(), neurons: v.neurons.clone() }));
        let states = spec.state.iter().enumerate().map(|(k, s)| (format!("record.state[{k}]"), s.clone()));
        let (mut sampled, mut traces) = (Vec::new(), Vec::new());
        for (key, record) in voltage.chain(states) {
            let p = find(&record.population, &format!("{key}.population"))?;
            let variables = net.variable_names(p);
            let index = variables
                .iter()
                .position(|v| *v == record.variable)
                .ok_or_else(|| Error::config(format!("{key}.variable"), format!("{:?} has no variable {:?} (it has {})", record.population, record.variable, variables.join(", "))))?;
            if let Some(&bad) = record.neurons.iter().find(|&&i| i >= net.population_size(p)) {
                return Err(Error::config(format!("{key}.neurons"), format!("neuron {bad} is outside {:?} ({} neurons)", record.population, net.population_size(p))));
            }
            for &neuron in &record.neurons {
                sampled.push((p, index, neuron));
                traces.push(StateTrace { population: record.population.clone(), variable: record.variable.clone(), neuron, values: Vec::new() });
            }
        }
        let recording = Recording { spike_neurons: spikes.map_or(0, |s| s.1), traces, ..Default::default() };
        Ok(Monitor { spikes, sampled, recording })
    }

    /// Records the state after a step that ended at time `t` (ms).
    pub fn observe(&mut self, net: &Network, t: f64) {
        if let Some((p, n)) = self.spikes {
            let fired = &net.last_spikes()[p];
            self.recording.spikes.extend(fired.iter().filter(|&&i| (i as usize) < n).map(|&i| (t, i)));
        }
        if !self.sampled.is_empty() {
            self.recording.times.push(t);
            for (trace, &(p, index, neuron)) in self.recording.traces.iter_mut().zip(&self.sampled) {
                trace.values.push(net.variable(p, index, neuron));
            }
        }
    }
}

impl Recording {
    /// The spikes as CSV: `time_ms,neuron`.
    pub fn spikes_csv(&self) -> String {
        let mut out = String::from("time_ms,neuron\n");
        self.spikes.iter().for_each(|(t, i)| out += &format!("{t},{i}\n"));
        out
    }

    /// The traces as CSV: `time_ms` then one column per trace, `population.variable[neuron]`.
    pub fn traces_csv(&self) -> String {
        let mut out = String::from("time_ms");
        self.traces.iter().for_each(|tr| out += &format!(",{}.{}[{}]", tr.population, tr.variable, tr.neuron));
        out.push('\n');
        for (k, t) in self.times.iter().enumerate() {
            out += &t.to_string();
            self.traces.iter().for_each(|tr| out += &format!(",{}", tr.values[k]));
            out.push('\n');
        }
        out
    }
}
