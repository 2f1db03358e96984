//! Clock-driven network simulation: populations of LIF neurons with exponential synapses
//! (current- or conductance-based), sparse projections stored as CSR, synaptic delays through
//! ring buffers, seeded connectivity, spike counts and voltage monitors. Units: ms, mV; current
//! synapses carry mV, conductance synapses are relative to the leak conductance.
//!
//! One step, per population: integrate (exactly for current synapses, exponential Euler for
//! conductance synapses; the membrane held during refractoriness), detect v > threshold, reset,
//! start the refractory period; then every spike adds its weights to the targets' synaptic
//! variables `delay` steps later (delay 0: before the next step's integration), as Brian2's
//! default schedule does.

use crate::error::{Error, Result};
use crate::rng::Rng;
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
    pub tau_m: f64,
    pub v_rest: f64,
    pub v_threshold: f64,
    pub v_reset: f64,
    #[serde(default)]
    pub refractory: f64,
    pub synapse: SynapseModel,
    /// Initial membrane potentials uniform in [lo, hi] (default: all at `v_reset`).
    pub v_init: Option<[f64; 2]>,
    /// External drive in mV (R·I), the same for every neuron, held over each step.
    #[serde(default)]
    pub input: Option<super::Stimulus>,
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
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Connectivity {
    /// Each (pre, post) pair independently with probability `p` (self-pairs included).
    FixedProbability { p: f64 },
    /// Each post neuron gets exactly `k` distinct pre neurons, drawn uniformly.
    FixedInDegree { k: usize },
    OneToOne,
    AllToAll,
    /// Explicit (pre, post) pairs, indices within the projection's ranges.
    List { pairs: Vec<[usize; 2]> },
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
    pub weight: f64,
    pub delay_steps: usize,
    pub starts: Vec<u32>,
    pub targets: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Population {
    spec: PopulationSpec,
    v: Vec<f64>,
    ge: Vec<f64>,
    gi: Vec<f64>,
    /// Steps of refractoriness left.
    refractory_left: Vec<u32>,
    /// Arrivals per delay slot: (excitatory, inhibitory) per neuron.
    pending: Vec<Vec<[f64; 2]>>,
    spike_counts: Vec<u64>,
}

pub struct Network {
    populations: Vec<Population>,
    sources: Vec<Source>,
    /// Spikes of the current step, per source.
    source_fired: Vec<Vec<u32>>,
    rng: Rng,
    pub projections: Vec<Projection>,
    dt: f64,
    step: u64,
    slots: usize,
    /// Spikes of the current step, per population.
    fired: Vec<Vec<u32>>,
}

/// Uniform in [0, 1) with 53 random bits.
fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(Error::config(key, format!("must be positive, got {v}"))) }
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
            positive(&format!("{key}.tau_m"), p.tau_m)?;
            if let Some(input) = &p.input {
                input.validate(&format!("{key}.input"))?;
            }
            if !(p.refractory >= 0.0) {
                return Err(Error::config(format!("{key}.refractory"), format!("must be ≥ 0, got {}", p.refractory)));
            }
            let (tau_e, tau_i) = match p.synapse {
                SynapseModel::Current { tau_e, tau_i } | SynapseModel::Conductance { tau_e, tau_i, .. } => (tau_e, tau_i),
            };
            positive(&format!("{key}.synapse.tau_e"), tau_e)?;
            positive(&format!("{key}.synapse.tau_i"), tau_i)?;
            if tau_e == p.tau_m || tau_i == p.tau_m {
                return Err(Error::config(format!("{key}.synapse"), "synaptic time constants equal to tau_m are not supported by the exact update"));
            }
        }
        let mut projections = Vec::new();
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
            projections.push(Projection { from, to, channel: ps.channel, weight: ps.weight, delay_steps, starts, targets });
        }
        let slots = max_delay + 1;
        let populations = spec
            .populations
            .iter()
            .map(|p| {
                let v = match p.v_init {
                    Some([lo, hi]) => (0..p.size).map(|_| lo + (hi - lo) * uniform(&mut rng)).collect(),
                    None => vec![p.v_reset; p.size],
                };
                Population {
                    spec: p.clone(),
                    v,
                    ge: vec![0.0; p.size],
                    gi: vec![0.0; p.size],
                    refractory_left: vec![0; p.size],
                    // Delayed arrivals per slot; none needed when every delay is 0.
                    pending: if slots > 1 { vec![vec![[0.0; 2]; p.size]; slots] } else { Vec::new() },
                    spike_counts: vec![0; p.size],
                }
            })
            .collect();
        let fired = spec.populations.iter().map(|_| Vec::new()).collect();
        let sources: Vec<Source> = spec
            .sources
            .iter()
            .map(|src| {
                let mut schedule: Vec<(u64, u32)> = match &src.spikes {
                    SourceSpikes::Times { times } => times
                        .iter()
                        .enumerate()
                        .flat_map(|(i, ts)| ts.iter().map(move |&t| ((t / dt).round() as u64, i as u32)))
                        .collect(),
                    SourceSpikes::Poisson { .. } => Vec::new(),
                };
                schedule.sort_unstable();
                Source { spikes: src.spikes.clone(), size: src.size, schedule, next: 0, spike_counts: vec![0; src.size] }
            })
            .collect();
        let source_fired = sources.iter().map(|_| Vec::new()).collect();
        let rng = Rng::derive(seed, 0x5015_0E);
        Ok(Network { populations, sources, source_fired, rng, projections, dt, step: 0, slots, fired })
    }

    pub fn neurons(&self) -> usize {
        self.populations.iter().map(|p| p.v.len()).sum()
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
        self.populations[population].v.len()
    }

    pub fn voltage(&self, population: usize, neuron: usize) -> f64 {
        self.populations[population].v[neuron]
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
            integrate_and_fire(p, dt, drive, fired);
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
        for proj in &self.projections {
            let targets_of = |i: u32| &proj.targets[proj.starts[i as usize] as usize..proj.starts[i as usize + 1] as usize];
            let fired = match proj.from {
                Pre::Population(p) => &self.fired[p],
                Pre::Source(k) => &self.source_fired[k],
            };
            let to = &mut self.populations[proj.to];
            if proj.delay_steps == 0 {
                // Arrives now: straight into the synaptic variable.
                let g = if proj.channel == Channel::Excitatory { &mut to.ge } else { &mut to.gi };
                for &i in fired {
                    targets_of(i).iter().for_each(|&j| g[j as usize] += proj.weight);
                }
            } else {
                let (pending, channel) = (&mut to.pending[(slot_now + proj.delay_steps) % self.slots], proj.channel as usize);
                for &i in fired {
                    targets_of(i).iter().for_each(|&j| pending[j as usize][channel] += proj.weight);
                }
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

/// Integrates one population over a step, detects and resets spikes.
fn integrate_and_fire(p: &mut Population, dt: f64, drive: f64, fired: &mut Vec<u32>) {
    let s = &p.spec;
    let leak = (-dt / s.tau_m).exp();
    let (tau_e, tau_i) = match s.synapse {
        SynapseModel::Current { tau_e, tau_i } | SynapseModel::Conductance { tau_e, tau_i, .. } => (tau_e, tau_i),
    };
    let (de, di) = ((-dt / tau_e).exp(), (-dt / tau_i).exp());
    match s.synapse {
        SynapseModel::Current { .. } => {
            // Exact solution of the linear system over dt with ge, gi decaying exponentially.
            let (be, bi) = (tau_e / (tau_e - s.tau_m) * (de - leak), tau_i / (tau_i - s.tau_m) * (di - leak));
            // A drive held over the step shifts the resting point: E_L + drive.
            integrate_current(&mut p.v, &mut p.ge, &mut p.gi, &mut p.refractory_left, [s.v_rest + drive, leak, be, bi, de, di]);
        }
        SynapseModel::Conductance { e_e, e_i, .. } => {
            integrate_conductance(&mut p.v, &mut p.ge, &mut p.gi, &mut p.refractory_left, [s.v_rest + drive, dt / s.tau_m, e_e, e_i, de, di]);
        }
    }
    let refractory_steps = (s.refractory / dt).round() as u32;
    // Spikes are rare: test 8 neurons at a time (vectorised) and look closer only where one
    // crossed.
    const LANES: usize = 8;
    for (c, chunk) in p.v.chunks_mut(LANES).enumerate() {
        if !chunk.iter().fold(false, |any, &v| any | (v > s.v_threshold)) {
            continue;
        }
        for (l, v) in chunk.iter_mut().enumerate() {
            let k = c * LANES + l;
            if *v > s.v_threshold && p.refractory_left[k] == 0 {
                *v = s.v_reset;
                p.refractory_left[k] = refractory_steps;
                p.spike_counts[k] += 1;
                fired.push(k as u32);
            }
        }
    }
}

/// Current synapses, exact: v ← E_L + (v − E_L)·leak + be·ge + bi·gi (held while refractory),
/// ge ← de·ge, gi ← di·gi. `c` = [E_L, leak, be, bi, de, di].
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn integrate_current(v: &mut [f64], ge: &mut [f64], gi: &mut [f64], refractory: &mut [u32], c: [f64; 6]) {
    let [el, leak, be, bi, de, di] = c;
    for (((v, ge), gi), r) in v.iter_mut().zip(ge.iter_mut()).zip(gi.iter_mut()).zip(refractory.iter_mut()) {
        let next = el + (*v - el) * leak + be * *ge + bi * *gi;
        *v = if *r == 0 { next } else { *v };
        *r = r.saturating_sub(1);
        *ge *= de;
        *gi *= di;
    }
}

/// Conductance synapses, exponential Euler with the conductances frozen over the step.
/// `c` = [E_L, dt/τm, E_e, E_i, de, di].
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn integrate_conductance(v: &mut [f64], ge: &mut [f64], gi: &mut [f64], refractory: &mut [u32], c: [f64; 6]) {
    let [el, rate, e_e, e_i, de, di] = c;
    for (((v, ge), gi), r) in v.iter_mut().zip(ge.iter_mut()).zip(gi.iter_mut()).zip(refractory.iter_mut()) {
        let total = 1.0 + *ge + *gi;
        let steady = (el + *ge * e_e + *gi * e_i) / total;
        let next = steady + (*v - steady) * (-rate * total).exp();
        *v = if *r == 0 { next } else { *v };
        *r = r.saturating_sub(1);
        *ge *= de;
        *gi *= di;
    }
}

/// The (pre, post) pairs of a projection, as indices into the whole populations.
fn connect(c: &Connectivity, (pre0, pre1): (usize, usize), (post0, post1): (usize, usize), rng: &mut Rng, key: &str) -> Result<Vec<(usize, usize)>> {
    let (n_pre, n_post) = (pre1 - pre0, post1 - post0);
    let mut pairs = Vec::new();
    match c {
        Connectivity::FixedProbability { p } => {
            if !(*p > 0.0 && *p <= 1.0) {
                return Err(Error::config(format!("{key}.connect.p"), format!("must be in (0, 1], got {p}")));
            }
            // Gaps between successive connections are geometric: one draw per synapse.
            let log_q = (1.0 - p).ln();
            let total = n_pre * n_post;
            let mut at: usize = 0;
            loop {
                let gap = if *p >= 1.0 { 0 } else { ((1.0 - uniform(rng)).ln() / log_q).floor() as usize };
                at = match at.checked_add(gap) {
                    Some(a) if a < total => a,
                    _ => break,
                };
                pairs.push((pre0 + at / n_post, post0 + at % n_post));
                at += 1;
            }
        }
        Connectivity::FixedInDegree { k } => {
            if *k > n_pre {
                return Err(Error::config(format!("{key}.connect.k"), format!("{k} exceeds the {n_pre} pre neurons")));
            }
            let mut chosen = Vec::with_capacity(*k);
            for j in post0..post1 {
                chosen.clear();
                while chosen.len() < *k {
                    let i = pre0 + (rng.next_u64() % n_pre as u64) as usize;
                    if !chosen.contains(&i) {
                        chosen.push(i);
                    }
                }
                pairs.extend(chosen.iter().map(|&i| (i, j)));
            }
        }
        Connectivity::OneToOne => {
            if n_pre != n_post {
                return Err(Error::config(format!("{key}.connect"), format!("one-to-one needs equal ranges, got {n_pre} pre and {n_post} post")));
            }
            pairs.extend((0..n_pre).map(|k| (pre0 + k, post0 + k)));
        }
        Connectivity::AllToAll => pairs.extend((pre0..pre1).flat_map(|i| (post0..post1).map(move |j| (i, j)))),
        Connectivity::List { pairs: list } => {
            for (n, &[i, j]) in list.iter().enumerate() {
                if i >= n_pre || j >= n_post {
                    return Err(Error::config(format!("{key}.connect.pairs[{n}]"), format!("({i}, {j}) is outside {n_pre} × {n_post}")));
                }
                pairs.push((pre0 + i, post0 + j));
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests;
