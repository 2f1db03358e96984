//! Clock-driven network simulation: populations of any point-neuron model (LIF with its own
//! exact kernels; tv-LIF, HH, tv-LIF2HH, Izhikevich, AdEx through `point`) with exponential
//! synapses (current- or conductance-based), sparse projections stored as CSR, synaptic delays
//! through ring buffers, seeded connectivity, plastic weights driven by a rule of `plasticity`,
//! spike counts and voltage monitors. Units for LIF: ms, mV; current synapses carry mV,
//! conductance synapses are relative to the leak conductance (other models: see `point`).
//!
//! One step, per population: integrate (LIF: exactly for current synapses, exponential Euler
//! for conductance synapses, the membrane held during refractoriness; other models: their own
//! integrator, `substeps` times), detect spikes, reset; then every spike adds its weight to the
//! targets' synaptic variables `delay` steps later (delay 0: before the next step's
//! integration), as Brian2's default schedule does; then plastic projections update their
//! weights from the step's spikes. A plastic projection's pre spikes act on arrival: after
//! `delay` they deliver the weight their synapse has then and reach its rule. A projection
//! with short-term plasticity scales each pre spike's weights by its Tsodyks–Markram efficacy
//! (state per pre neuron, updated at its spikes only).

use super::connect::{connect, uniform};
use super::point::{NeuronSpec, PointNeurons};
use crate::error::{Error, Result};
use crate::plasticity::stp::SynapseStp;
use crate::plasticity::{SynapticPlasticity, Topology};
use crate::rng::Rng;
use lif::integrate_and_fire;
pub use spec::{Channel, NetworkSpec, PopulationSpec, ProjectionSpec, SourceSpec, SourceSpikes, SynapseModel, WeightInit};

/// Where a projection's spikes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pre {
    Population(usize),
    Source(usize),
}

struct Source {
    spikes: SourceSpikes,
    size: usize,
    /// Times sources: (step, neuron) sorted by step, and the next one due.
    schedule: Vec<(u64, u32)>,
    next: usize,
    spike_counts: Vec<u64>,
}

/// Synapses from one population to another in compressed rows: the targets of pre neuron i are
/// `targets[starts[i]..starts[i + 1]]`.
#[derive(Clone, Debug)]
pub struct Projection {
    pub from: Pre,
    pub to: usize,
    pub channel: Channel,
    /// The weight every synapse shares, when they share one (NaN when drawn per synapse).
    pub weight: f64,
    /// One weight per synapse (CSR order), for a plastic projection or weights drawn per
    /// synapse; empty when the synapses share `weight`.
    pub weights: Vec<f64>,
    pub delay_steps: usize,
    pub starts: Vec<u32>,
    pub targets: Vec<u32>,
    /// The synapses arriving at each post neuron, with their pre neurons (plastic only).
    incoming_starts: Vec<u32>,
    incoming: Vec<u32>,
    incoming_pre: Vec<u32>,
    /// A plastic projection with a delay: the pre spikes on their way (slot = arrival step
    /// modulo delay + 1) and those that reach the synapses this step. Its rule and its
    /// transmission both act on arrival, so that the rule sees the spike timing at the synapse
    /// (an axonal delay, as Brian2's `on_pre` pathway), and each spike delivers the weight it
    /// finds on arrival. Empty otherwise.
    in_flight: Vec<Vec<u32>>,
    arriving: Vec<u32>,
    /// Short-term plasticity, one state per pre neuron, and the efficacies of the spikes
    /// delivered this step (in their order); empty without it.
    stp: Option<SynapseStp>,
    efficacy: Vec<f64>,
}

impl Projection {
    pub fn topology(&self) -> Topology<'_> {
        Topology { starts: &self.starts, targets: &self.targets, incoming_starts: &self.incoming_starts, incoming: &self.incoming, incoming_pre: &self.incoming_pre }
    }

    /// The weight of synapse `s` (CSR order), its own or the shared one.
    pub fn weight_of(&self, s: usize) -> f64 {
        self.weights.get(s).copied().unwrap_or(self.weight)
    }

    /// With short-term plasticity: the number of pre neurons it keeps a state for.
    pub fn stp_units(&self) -> Option<usize> {
        self.stp.as_ref().map(|_| self.starts.len() - 1)
    }

    /// With short-term plasticity: (u, x) of pre neuron `neuron` at time `t` (ms; spikes are
    /// dated at the start of their step).
    pub fn stp_state(&self, neuron: usize, t: f64) -> Option<(f64, f64)> {
        self.stp.as_ref().map(|stp| stp.state(neuron, t))
    }

    /// Every synapse as (pre neuron, post neuron, weight), in CSR order; the neurons are
    /// indices into the whole pre and post populations.
    pub fn synapses(&self) -> impl Iterator<Item = (u32, u32, f64)> + '_ {
        (0..self.starts.len().saturating_sub(1)).flat_map(move |i| {
            let row = self.starts[i] as usize..self.starts[i + 1] as usize;
            row.map(move |s| (i as u32, self.targets[s], self.weight_of(s)))
        })
    }
}

struct Population {
    spec: PopulationSpec,
    dynamics: Dynamics,
    ge: Vec<f64>,
    gi: Vec<f64>,
    /// Arrivals per delay slot: (excitatory, inhibitory) per neuron.
    pending: Vec<Vec<[f64; 2]>>,
    spike_counts: Vec<u64>,
}

enum Dynamics {
    Lif {
        v: Vec<f64>,
        /// Steps of refractoriness left.
        refractory_left: Vec<u32>,
    },
    Point {
        neurons: Box<dyn PointNeurons>,
        /// The input current of the step being computed, and the spike flags of a substep.
        current: Vec<f64>,
        spiked: Vec<bool>,
    },
}

/// The spikes a projection's pre side emitted this step.
fn emitted_by<'a>(from: Pre, fired: &'a [Vec<u32>], source_fired: &'a [Vec<u32>]) -> &'a [u32] {
    match from {
        Pre::Population(p) => &fired[p],
        Pre::Source(k) => &source_fired[k],
    }
}

/// A LIF population's parameters: (τm, v_rest, v_threshold, v_reset, refractory).
fn lif_parameters(spec: &PopulationSpec) -> Option<[f64; 5]> {
    match spec.neuron {
        NeuronSpec::Lif { tau_m, v_rest, v_threshold, v_reset, refractory } => Some([tau_m, v_rest, v_threshold, v_reset, refractory]),
        _ => None,
    }
}

pub struct Network {
    populations: Vec<Population>,
    sources: Vec<Source>,
    /// Spikes of the current step, per source.
    source_fired: Vec<Vec<u32>>,
    rng: Rng,
    pub projections: Vec<Projection>,
    /// The plasticity rule of each projection, if it has one.
    rules: Vec<Option<Box<dyn SynapticPlasticity>>>,
    dt: f64,
    step: u64,
    slots: usize,
    /// Spikes of the current step, per population.
    fired: Vec<Vec<u32>>,
}

fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::config(key, format!("must be positive, got {v}")))
    }
}

impl Network {
    /// Builds the populations and draws the connectivity from `seed`.
    pub fn build(spec: &NetworkSpec, dt: f64, seed: u64) -> Result<Network> {
        positive("dt", dt)?;
        if spec.populations.is_empty() {
            return Err(Error::config("populations", "the network has no population"));
        }
        let mut rng = Rng::derive(seed, 0x5114);
        let index_of = |name: &str, key: &str| {
            spec.populations.iter().position(|p| p.name == name).ok_or_else(|| {
                let what = if spec.sources.iter().any(|s| s.name == name) { " (a source: sources cannot receive projections)" } else { "" };
                Error::config(key, format!("no population named {name:?}{what}"))
            })
        };
        let pre_of = |name: &str, key: &str| match spec.sources.iter().position(|s| s.name == name) {
            Some(k) => Ok(Pre::Source(k)),
            None => index_of(name, key).map(Pre::Population),
        };
        for (k, src) in spec.sources.iter().enumerate() {
            let key = format!("sources[{k}]");
            if spec.populations.iter().any(|p| p.name == src.name) || spec.sources[..k].iter().any(|q| q.name == src.name) {
                return Err(Error::config(format!("{key}.name"), format!("{:?} is used twice", src.name)));
            }
            match &src.spikes {
                SourceSpikes::Poisson { rate } if !(rate.is_finite() && *rate >= 0.0 && rate * dt * 1e-3 <= 1.0) => {
                    return Err(Error::config(format!("{key}.spikes.rate"), format!("must be in [0, 1/dt], got {rate} Hz")));
                }
                SourceSpikes::Times { times } if times.len() != src.size => {
                    return Err(Error::config(format!("{key}.spikes.times"), format!("{} lists for {} neurons", times.len(), src.size)));
                }
                SourceSpikes::Times { times } if times.iter().flatten().any(|t| !(t.is_finite() && *t >= 0.0)) => {
                    return Err(Error::config(format!("{key}.spikes.times"), "times must be finite and ≥ 0 ms"));
                }
                _ => {}
            }
        }
        for (k, p) in spec.populations.iter().enumerate() {
            let key = format!("populations[{k}]");
            if spec.populations[..k].iter().any(|q| q.name == p.name) {
                return Err(Error::config(format!("{key}.name"), format!("{:?} is used twice", p.name)));
            }
            if let Some(input) = &p.input {
                input.validate(&format!("{key}.input"))?;
            }
            if let Some(bias) = &p.bias {
                if bias.len() != p.size {
                    return Err(Error::config(format!("{key}.bias"), format!("{} values for {} neurons", bias.len(), p.size)));
                }
                if bias.iter().any(|b| !b.is_finite()) {
                    return Err(Error::config(format!("{key}.bias"), "values must be finite"));
                }
            }
            if p.substeps == 0 {
                return Err(Error::config(format!("{key}.substeps"), "must be at least 1"));
            }
            let (tau_e, tau_i) = match p.synapse {
                SynapseModel::Current { tau_e, tau_i } | SynapseModel::Conductance { tau_e, tau_i, .. } => (tau_e, tau_i),
            };
            positive(&format!("{key}.synapse.tau_e"), tau_e)?;
            positive(&format!("{key}.synapse.tau_i"), tau_i)?;
            if let Some([tau_m, _, v_threshold, v_reset, refractory]) = lif_parameters(p) {
                positive(&format!("{key}.neuron.tau_m"), tau_m)?;
                if !(refractory >= 0.0) {
                    return Err(Error::config(format!("{key}.neuron.refractory"), format!("must be ≥ 0, got {refractory}")));
                }
                if !(v_reset < v_threshold) {
                    return Err(Error::config(format!("{key}.neuron.v_reset"), format!("must be below v_threshold ({v_threshold}), got {v_reset}")));
                }
                if tau_e == tau_m || tau_i == tau_m {
                    return Err(Error::config(format!("{key}.synapse"), "synaptic time constants equal to tau_m are not supported by the exact update"));
                }
                if p.substeps != 1 {
                    return Err(Error::config(format!("{key}.substeps"), "LIF populations are stepped exactly: substeps must be 1"));
                }
            }
        }
        let mut projections = Vec::new();
        let mut rules = Vec::new();
        let mut max_delay = 0;
        for (k, ps) in spec.projections.iter().enumerate() {
            let key = format!("projections[{k}]");
            let (from, to) = (pre_of(&ps.from, &format!("{key}.from"))?, index_of(&ps.to, &format!("{key}.to"))?);
            let from_size = match from {
                Pre::Population(p) => spec.populations[p].size,
                Pre::Source(k) => spec.sources[k].size,
            };
            let range = |r: Option<[usize; 2]>, size: usize, name: &str| -> Result<(usize, usize)> {
                let [a, b] = r.unwrap_or([0, size]);
                if a >= b || b > size {
                    return Err(Error::config(format!("{key}.{name}"), format!("[{a}, {b}) is not a non-empty range within 0..{size}")));
                }
                Ok((a, b))
            };
            let pre = range(ps.pre, from_size, "pre")?;
            let post = range(ps.post, spec.populations[to].size, "post")?;
            if !(ps.delay >= 0.0 && ps.delay.is_finite()) {
                return Err(Error::config(format!("{key}.delay"), format!("must be ≥ 0, got {}", ps.delay)));
            }
            let delay_steps = (ps.delay / dt).round() as usize;
            max_delay = max_delay.max(delay_steps);
            let pairs = connect(&ps.connect, pre, post, &mut rng, &key)?;
            let mut starts = vec![0u32; from_size + 1];
            for &(i, _) in &pairs {
                starts[i + 1] += 1;
            }
            for i in 0..from_size {
                starts[i + 1] += starts[i];
            }
            let mut fill = starts.clone();
            let mut targets = vec![0u32; pairs.len()];
            for &(i, j) in &pairs {
                targets[fill[i] as usize] = j as u32;
                fill[i] += 1;
            }
            let post_size = spec.populations[to].size;
            let (low, high) = ps.weight.range();
            if !(low.is_finite() && high.is_finite() && low <= high) {
                return Err(Error::config(format!("{key}.weight"), format!("needs finite weights, low ≤ high, got [{low}, {high}]")));
            }
            let mut projection = Projection {
                from,
                to,
                channel: ps.channel,
                weight: if let WeightInit::Constant(w) = ps.weight { w } else { f64::NAN },
                weights: match ps.weight {
                    WeightInit::Constant(_) => Vec::new(),
                    WeightInit::Uniform { low, high } => (0..targets.len()).map(|_| low + (high - low) * uniform(&mut rng)).collect(),
                },
                delay_steps,
                starts,
                targets,
                incoming_starts: Vec::new(),
                incoming: Vec::new(),
                incoming_pre: Vec::new(),
                in_flight: Vec::new(),
                arriving: Vec::new(),
                stp: match ps.stp {
                    Some(params) => {
                        params.validate(&format!("{key}.stp"))?;
                        Some(SynapseStp::new(params, from_size))
                    }
                    None => None,
                },
                efficacy: Vec::new(),
            };
            let rule = match &ps.plasticity {
                None => None,
                Some(rule_spec) => {
                    let (lo, hi) = rule_spec.weight_bounds();
                    if !(low >= lo && high <= hi) {
                        let weights = if low == high { low.to_string() } else { format!("[{low}, {high}]") };
                        return Err(Error::config(format!("{key}.weight"), format!("{weights} is outside the rule's bounds [{lo}, {hi}]")));
                    }
                    projection.make_plastic(from_size, post_size);
                    Some(rule_spec.build(from_size, post_size, &format!("{key}.plasticity"))?)
                }
            };
            projections.push(projection);
            rules.push(rule);
        }
        let slots = max_delay + 1;
        let mut populations = Vec::with_capacity(spec.populations.len());
        for (k, p) in spec.populations.iter().enumerate() {
            let v_init: Option<Vec<f64>> = p.v_init.map(|[lo, hi]| (0..p.size).map(|_| lo + (hi - lo) * uniform(&mut rng)).collect());
            let dynamics = match lif_parameters(p) {
                Some([_, _, _, v_reset, _]) => Dynamics::Lif { v: v_init.unwrap_or_else(|| vec![v_reset; p.size]), refractory_left: vec![0; p.size] },
                None => {
                    let mut neurons = p.neuron.build(p.size, &format!("populations[{k}].neuron"))?;
                    for (i, &v) in v_init.iter().flatten().enumerate() {
                        neurons.set_voltage(i, v);
                    }
                    Dynamics::Point { neurons, current: vec![0.0; p.size], spiked: vec![false; p.size] }
                }
            };
            populations.push(Population {
                spec: p.clone(),
                dynamics,
                ge: vec![0.0; p.size],
                gi: vec![0.0; p.size],
                // Delayed arrivals per slot; none needed when every delay is 0.
                pending: if slots > 1 { vec![vec![[0.0; 2]; p.size]; slots] } else { Vec::new() },
                spike_counts: vec![0; p.size],
            });
        }
        let fired = spec.populations.iter().map(|_| Vec::new()).collect();
        let sources: Vec<Source> = spec
            .sources
            .iter()
            .map(|src| {
                let mut schedule: Vec<(u64, u32)> = match &src.spikes {
                    SourceSpikes::Times { times } => times.iter().enumerate().flat_map(|(i, ts)| ts.iter().map(move |&t| ((t / dt).round() as u64, i as u32))).collect(),
                    SourceSpikes::Poisson { .. } => Vec::new(),
                };
                schedule.sort_unstable();
                Source { spikes: src.spikes.clone(), size: src.size, schedule, next: 0, spike_counts: vec![0; src.size] }
            })
            .collect();
        let source_fired = sources.iter().map(|_| Vec::new()).collect();
        let rng = Rng::derive(seed, 0x50_150E);
        Ok(Network { populations, sources, source_fired, rng, projections, rules, dt, step: 0, slots, fired })
    }

    /// The step, ms.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    pub fn neurons(&self) -> usize {
        self.populations.iter().map(|p| p.spec.size).sum()
    }

    pub fn synapses(&self) -> usize {
        self.projections.iter().map(|p| p.targets.len()).sum()
    }

    /// Spikes so far, per population (sources excluded).
    pub fn spike_counts(&self) -> Vec<u64> {
        self.populations.iter().map(|p| p.spike_counts.iter().sum()).collect()
    }

    /// Spikes so far, per source.
    pub fn source_spike_counts(&self) -> Vec<u64> {
        self.sources.iter().map(|s| s.spike_counts.iter().sum()).collect()
    }

    pub fn population_names(&self) -> Vec<String> {
        self.populations.iter().map(|p| p.spec.name.clone()).collect()
    }

    pub fn population_size(&self, population: usize) -> usize {
        self.populations[population].spec.size
    }

    /// Names of a population's recordable state variables: `v`, the model's own, then the
    /// synaptic conductances (or currents, for current synapses) `ge` and `gi`.
    pub fn variable_names(&self, population: usize) -> Vec<&'static str> {
        let own: &[&'static str] = match &self.populations[population].dynamics {
            Dynamics::Lif { .. } => &["v"],
            Dynamics::Point { neurons, .. } => neurons.variables(),
        };
        own.iter().copied().chain(["ge", "gi"]).collect()
    }

    /// State variable `index` (of `variable_names`) of a neuron.
    pub fn variable(&self, population: usize, index: usize, neuron: usize) -> f64 {
        let p = &self.populations[population];
        let own = match &p.dynamics {
            Dynamics::Lif { .. } => 1,
            Dynamics::Point { neurons, .. } => neurons.variables().len(),
        };
        match (index.checked_sub(own), &p.dynamics) {
            (Some(0), _) => p.ge[neuron],
            (Some(_), _) => p.gi[neuron],
            (None, Dynamics::Lif { v, .. }) => v[neuron],
            (None, Dynamics::Point { neurons, .. }) => neurons.variable(index, neuron),
        }
    }

    pub fn voltage(&self, population: usize, neuron: usize) -> f64 {
        match &self.populations[population].dynamics {
            Dynamics::Lif { v, .. } => v[neuron],
            Dynamics::Point { neurons, .. } => neurons.voltage(neuron),
        }
    }

    /// Spikes of the last step, per population (neuron indices).
    pub fn last_spikes(&self) -> &[Vec<u32>] {
        &self.fired
    }

    /// Advances the network by one step.
    pub fn advance(&mut self) {
        let dt = self.dt;
        let t = self.step as f64 * dt;
        for (p, fired) in self.populations.iter_mut().zip(&mut self.fired) {
            fired.clear();
            let drive = p.spec.input.as_ref().map_or(0.0, |s| s.at(t));
            match lif_parameters(&p.spec) {
                Some(lif) => integrate_and_fire(p, lif, dt, drive, fired),
                None => step_point_neurons(p, t, dt, drive, fired),
            }
        }
        for (src, fired) in self.sources.iter_mut().zip(&mut self.source_fired) {
            fired.clear();
            match src.spikes {
                SourceSpikes::Poisson { rate } => {
                    let p = rate * dt * 1e-3;
                    fired.extend((0..src.size as u32).filter(|_| uniform(&mut self.rng) < p));
                }
                SourceSpikes::Times { .. } => {
                    while src.next < src.schedule.len() && src.schedule[src.next].0 <= self.step {
                        fired.push(src.schedule[src.next].1);
                        src.next += 1;
                    }
                }
            }
            fired.iter().for_each(|&i| src.spike_counts[i as usize] += 1);
        }
        let slot_now = (self.step as usize) % self.slots;
        for proj in &mut self.projections {
            let emitted = emitted_by(proj.from, &self.fired, &self.source_fired);
            if !proj.in_flight.is_empty() {
                let (step, slots) = (self.step as usize, proj.in_flight.len());
                std::mem::swap(&mut proj.arriving, &mut proj.in_flight[step % slots]);
                proj.in_flight[step % slots].clear();
                let on_the_way = &mut proj.in_flight[(step + proj.delay_steps) % slots];
                on_the_way.clear();
                on_the_way.extend_from_slice(emitted);
            }
            let (fired, arrives_now) = if proj.in_flight.is_empty() { (emitted, proj.delay_steps == 0) } else { (&proj.arriving[..], true) };
            if let Some(stp) = &mut proj.stp {
                proj.efficacy.clear();
                proj.efficacy.extend(fired.iter().map(|&i| stp.spike(i as usize, t)));
            }
            let to = &mut self.populations[proj.to];
            if arrives_now {
                // Arrives now: straight into the synaptic variable.
                let g = if proj.channel == Channel::Excitatory { &mut to.ge } else { &mut to.gi };
                proj.deliver(fired, |j, w| g[j] += w);
            } else {
                let (pending, channel) = (&mut to.pending[(slot_now + proj.delay_steps) % self.slots], proj.channel as usize);
                proj.deliver(fired, |j, w| pending[j][channel] += w);
            }
        }
        for (proj, rule) in self.projections.iter_mut().zip(&mut self.rules) {
            if let Some(rule) = rule {
                let mut weights = std::mem::take(&mut proj.weights);
                let pre_fired = if proj.in_flight.is_empty() { emitted_by(proj.from, &self.fired, &self.source_fired) } else { &proj.arriving };
                rule.step(proj.topology(), &mut weights, pre_fired, &self.fired[proj.to], dt);
                proj.weights = weights;
            }
        }
        if self.slots > 1 {
            for p in &mut self.populations {
                for (k, arrival) in p.pending[slot_now].iter_mut().enumerate() {
                    p.ge[k] += arrival[0];
                    p.gi[k] += arrival[1];
                    *arrival = [0.0; 2];
                }
            }
        }
        self.step += 1;
    }
}

impl Projection {
    /// Hands `add` each (post neuron, weight) that the spikes of `fired` carry, row by row,
    /// each spike's weights scaled by its short-term efficacy if the projection has one; the
    /// one walk behind immediate and delayed delivery.
    #[inline]
    fn deliver(&self, fired: &[u32], mut add: impl FnMut(usize, f64)) {
        for (n, &i) in fired.iter().enumerate() {
            let scale = self.efficacy.get(n).copied().unwrap_or(1.0);
            let row = self.starts[i as usize] as usize..self.starts[i as usize + 1] as usize;
            let targets = &self.targets[row.clone()];
            if self.weights.is_empty() {
                let w = self.weight * scale;
                targets.iter().for_each(|&j| add(j as usize, w));
            } else {
                targets.iter().zip(&self.weights[row]).for_each(|(&j, &w)| add(j as usize, w * scale));
            }
        }
    }

    /// Gives every synapse its own weight (starting at the shared `weight` unless drawn per
    /// synapse already) and builds the index of the synapses arriving at each post neuron.
    fn make_plastic(&mut self, pre_size: usize, post_size: usize) {
        if self.weights.is_empty() {
            self.weights = vec![self.weight; self.targets.len()];
        }
        if self.delay_steps > 0 {
            self.in_flight = vec![Vec::new(); self.delay_steps + 1];
        }
        let mut starts = vec![0u32; post_size + 1];
        self.targets.iter().for_each(|&j| starts[j as usize + 1] += 1);
        for j in 0..post_size {
            starts[j + 1] += starts[j];
        }
        let mut fill = starts.clone();
        self.incoming = vec![0; self.targets.len()];
        self.incoming_pre = vec![0; self.targets.len()];
        for i in 0..pre_size {
            for s in self.starts[i]..self.starts[i + 1] {
                let j = self.targets[s as usize] as usize;
                self.incoming[fill[j] as usize] = s;
                self.incoming_pre[fill[j] as usize] = i as u32;
                fill[j] += 1;
            }
        }
        self.incoming_starts = starts;
    }
}

fn synaptic_time_constants(synapse: SynapseModel) -> (f64, f64) {
    match synapse {
        SynapseModel::Current { tau_e, tau_i } | SynapseModel::Conductance { tau_e, tau_i, .. } => (tau_e, tau_i),
    }
}

/// Steps a population of a numerically integrated model: the synaptic input of each substep
/// is computed from the variables at its start, held over it, and the synaptic variables then
/// decay exactly. A neuron that fires in several substeps of one step counts every spike but
/// is transmitted once.
fn step_point_neurons(p: &mut Population, t: f64, dt: f64, drive: f64, fired: &mut Vec<u32>) {
    let Dynamics::Point { neurons, current, spiked } = &mut p.dynamics else { unreachable!("a point-model population") };
    let substeps = p.spec.substeps;
    let h = dt / substeps as f64;
    let (tau_e, tau_i) = synaptic_time_constants(p.spec.synapse);
    let (de, di) = ((-h / tau_e).exp(), (-h / tau_i).exp());
    let bias = p.spec.bias.as_deref();
    let mut any = vec![false; if substeps > 1 { current.len() } else { 0 }];
    for sub in 0..substeps {
        for (k, c) in current.iter_mut().enumerate() {
            let synaptic = match p.spec.synapse {
                SynapseModel::Current { .. } => p.ge[k] + p.gi[k],
                SynapseModel::Conductance { e_e, e_i, .. } => {
                    let v = neurons.voltage(k);
                    p.ge[k] * (e_e - v) + p.gi[k] * (e_i - v)
                }
            };
            *c = drive + bias.map_or(0.0, |b| b[k]) + synaptic;
        }
        neurons.step(t + sub as f64 * h, current, h, spiked);
        p.ge.iter_mut().for_each(|g| *g *= de);
        p.gi.iter_mut().for_each(|g| *g *= di);
        for (k, &s) in spiked.iter().enumerate() {
            if s {
                p.spike_counts[k] += 1;
                if substeps == 1 {
                    fired.push(k as u32);
                } else {
                    any[k] = true;
                }
            }
        }
    }
    fired.extend(any.iter().enumerate().filter(|(_, &a)| a).map(|(k, _)| k as u32));
}

mod lif;
mod spec;

#[cfg(test)]
mod tests;
