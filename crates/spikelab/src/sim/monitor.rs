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
    /// Weights of listed synapses of a projection (indices in its CSR order: for a projection
    /// onto one neuron, the pre neuron), sampled with the state variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<WeightRecord>,
    /// Short-term plasticity of a projection with `stp`: u and x of listed pre neurons (the
    /// state their synapses share), relaxed to the sample's time, sampled with the state
    /// variables as traces `projection<k>.u` and `projection<k>.x`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stp: Vec<StpRecord>,
    /// Sampling interval of the state variables and weights, ms (default: every step); rounded
    /// to whole steps. Spikes are always recorded at every step.
    #[serde(default)]
    pub every: Option<f64>,
}

impl RecordSpec {
    pub fn is_empty(&self) -> bool {
        self.spikes.is_none() && self.voltage.is_none() && self.state.is_empty() && self.weights.is_empty() && self.stp.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightRecord {
    /// Index of the projection in the config's list.
    pub projection: usize,
    pub synapses: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StpRecord {
    /// Index of the projection in the config's list.
    pub projection: usize,
    /// Pre neurons, indices into the whole source population.
    pub neurons: Vec<usize>,
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

/// One recorded quantity of one neuron (or, for a weight, one synapse of `projection<k>`),
/// sampled after every step or every `RecordSpec::every`.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTrace {
    pub population: String,
    pub variable: String,
    pub neuron: usize,
    /// Whether `neuron` numbers a synapse: a weight trace.
    pub of_synapse: bool,
    pub values: Vec<f64>,
}

/// What a trace samples.
#[derive(Clone, Copy, Debug)]
enum Sampled {
    /// (population, variable index, neuron).
    State(usize, usize, usize),
    /// (projection, synapse).
    Weight(usize, usize),
    /// (projection, pre neuron, u rather than x).
    Stp(usize, usize, bool),
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
    /// What each trace samples, in `recording.traces` order.
    sampled: Vec<Sampled>,
    /// Steps between samples, and steps observed so far.
    every_steps: u64,
    observed: u64,
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
                sampled.push(Sampled::State(p, index, neuron));
                traces.push(StateTrace { population: record.population.clone(), variable: record.variable.clone(), neuron, of_synapse: false, values: Vec::new() });
            }
        }
        for (k, record) in spec.weights.iter().enumerate() {
            let key = format!("record.weights[{k}]");
            let projection = projection_at(net, record.projection, &key)?;
            let count = projection.targets.len();
            if let Some(&bad) = record.synapses.iter().find(|&&s| s >= count) {
                return Err(Error::config(format!("{key}.synapses"), format!("synapse {bad} is outside projection {} ({count} synapses)", record.projection)));
            }
            for &synapse in &record.synapses {
                sampled.push(Sampled::Weight(record.projection, synapse));
                traces.push(StateTrace { population: format!("projection{}", record.projection), variable: "w".into(), neuron: synapse, of_synapse: true, values: Vec::new() });
            }
        }
        for (k, record) in spec.stp.iter().enumerate() {
            let key = format!("record.stp[{k}]");
            let projection = projection_at(net, record.projection, &key)?;
            let Some(pre_size) = projection.stp_units() else {
                return Err(Error::config(format!("{key}.projection"), format!("projection {} has no short-term plasticity (`stp`)", record.projection)));
            };
            if let Some(&bad) = record.neurons.iter().find(|&&i| i >= pre_size) {
                return Err(Error::config(format!("{key}.neurons"), format!("pre neuron {bad} is outside projection {}'s source ({pre_size} neurons)", record.projection)));
            }
            for is_u in [true, false] {
                for &neuron in &record.neurons {
                    sampled.push(Sampled::Stp(record.projection, neuron, is_u));
                    let variable = if is_u { "u" } else { "x" };
                    traces.push(StateTrace { population: format!("projection{}", record.projection), variable: variable.into(), neuron, of_synapse: false, values: Vec::new() });
                }
            }
        }
        let every_steps = match spec.every {
            None => 1,
            Some(every) if every.is_finite() && every >= net.dt() => (every / net.dt()).round() as u64,
            Some(every) => return Err(Error::config("record.every", format!("must be at least the step, {} ms; got {every}", net.dt()))),
        };
        let recording = Recording { spike_neurons: spikes.map_or(0, |s| s.1), traces, ..Default::default() };
        Ok(Monitor { spikes, sampled, every_steps, observed: 0, recording })
    }

    /// Records the state after a step that ended at time `t` (ms).
    pub fn observe(&mut self, net: &Network, t: f64) {
        if let Some((p, n)) = self.spikes {
            let fired = &net.last_spikes()[p];
            self.recording.spikes.extend(fired.iter().filter(|&&i| (i as usize) < n).map(|&i| (t, i)));
        }
        self.observed += 1;
        if !self.sampled.is_empty() && self.observed % self.every_steps == 0 {
            self.recording.times.push(t);
            for (trace, &what) in self.recording.traces.iter_mut().zip(&self.sampled) {
                trace.values.push(match what {
                    Sampled::State(p, index, neuron) => net.variable(p, index, neuron),
                    Sampled::Weight(k, synapse) => net.projections[k].weight_of(synapse),
                    Sampled::Stp(k, neuron, is_u) => {
                        let (u, x) = net.projections[k].stp_state(neuron, t).expect("checked at construction");
                        if is_u {
                            u
                        } else {
                            x
                        }
                    }
                });
            }
        }
    }
}

/// Projection `index` of the network, or an error under `{key}.projection`.
fn projection_at<'a>(net: &'a Network, index: usize, key: &str) -> Result<&'a super::Projection> {
    net.projections.get(index).ok_or_else(|| Error::config(format!("{key}.projection"), format!("there are {} projections, numbered from 0; got {index}", net.projections.len())))
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

/// The distribution of a projection's weights, as a run leaves them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightSummary {
    pub synapses: usize,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// The range the histogram covers: a plasticity rule's bounds, or the starting weights'.
    pub range: [f64; 2],
    /// Fractions of the synapses within 1 % of the range from its lower and its upper end:
    /// how many a bounded rule has driven to a bound.
    pub near_low: f64,
    pub near_high: f64,
    /// Synapses in each of equal bins over `range` (a weight outside it counts in the end bin).
    pub histogram: Vec<u64>,
}

/// Summarises `weights` over `range` with `bins` histogram bins.
pub fn summarize_weights(weights: &[f64], range: (f64, f64), bins: usize) -> Result<WeightSummary> {
    let (lo, hi) = range;
    if weights.is_empty() || bins == 0 || !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::Other(format!("a weight summary needs weights, bins and a range lo < hi; got {} weights, {bins} bins, [{lo}, {hi}]", weights.len())));
    }
    let n = weights.len() as f64;
    let mean = weights.iter().sum::<f64>() / n;
    let std = (weights.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / n).sqrt();
    let near = 0.01 * (hi - lo);
    let fraction = |test: &dyn Fn(f64) -> bool| weights.iter().filter(|&&w| test(w)).count() as f64 / n;
    let mut histogram = vec![0u64; bins];
    for &w in weights {
        let bin = ((w - lo) / (hi - lo) * bins as f64).floor().clamp(0.0, (bins - 1) as f64);
        histogram[bin as usize] += 1;
    }
    Ok(WeightSummary {
        synapses: weights.len(),
        mean,
        std,
        min: weights.iter().copied().fold(f64::INFINITY, f64::min),
        max: weights.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        range: [lo, hi],
        near_low: fraction(&|w| w <= lo + near),
        near_high: fraction(&|w| w >= hi - near),
        histogram,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_summary_counts_by_hand() {
        let w = [0.0, 0.005, 0.25, 0.5, 0.999, 1.0, 1.2];
        let s = summarize_weights(&w, (0.0, 1.0), 4).unwrap();
        let mean = w.iter().sum::<f64>() / 7.0;
        assert!((s.mean - mean).abs() < 1e-15);
        assert!((s.std - (w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 7.0).sqrt()).abs() < 1e-15);
        assert_eq!((s.min, s.max, s.synapses), (0.0, 1.2, 7));
        // Bins [0, .25) [.25, .5) [.5, .75) [.75, 1]; 1.0 and 1.2 fall in the last.
        assert_eq!(s.histogram, vec![2, 1, 1, 3]);
        assert_eq!((s.near_low, s.near_high), (2.0 / 7.0, 3.0 / 7.0));
        assert!(summarize_weights(&[], (0.0, 1.0), 4).is_err());
        assert!(summarize_weights(&w, (1.0, 1.0), 4).is_err());
        assert!(summarize_weights(&w, (0.0, 1.0), 0).is_err());
    }
}
