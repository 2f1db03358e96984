//! Simulation tasks, run by `spikelab run FILE`: `task = "network"` (a network of LIF
//! populations, e.g. the CUBA benchmark), and the single-neuron experiments of the
//! internal-complexity issue, `task = "tvlif2hh-vs-hh"` (the four-LIF decomposition against HH
//! on the same inputs) and `task = "hh-accuracy"` (HH integrators and steps against a fine RK4
//! reference).

use crate::host::Host;
use serde::{Deserialize, Serialize};
use serde_json::json;
use spikelab::neuron::hh::{Integrator, VoltageConvention};
use spikelab::plasticity::stp::StpOrder;
use spikelab::plasticity::PlasticitySpec;
use spikelab::sim::{agreement, check_time, simulate, summarize_weights, Monitor, Network, NetworkSpec, NeuronSpec, Stimulus, WeightInit, WeightSummary};
use spikelab::{Error, Result};
use std::path::Path;
use std::time::Instant;

fn default_window() -> f64 {
    0.1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tvlif2hhVsHh {
    #[allow(dead_code)]
    task: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    convention: VoltageConvention,
    /// Integrator of both models (euler or rk4).
    #[serde(default)]
    integrator: Integrator,
    /// Steps to compare at, ms.
    dt: Vec<f64>,
    /// Simulated time per input, ms.
    duration: f64,
    /// Spikes of the two models closer than this (ms) count as matched.
    #[serde(default = "default_window")]
    match_window: f64,
    inputs: Vec<Stimulus>,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Case {
    integrator: Integrator,
    dt: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HhAccuracy {
    #[allow(dead_code)]
    task: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    convention: VoltageConvention,
    /// The high-accuracy integration every case is measured against.
    reference: Case,
    cases: Vec<Case>,
    /// The case whose spike-time error must stay within `tolerance` (ms).
    default: Case,
    tolerance: f64,
    duration: f64,
    inputs: Vec<Stimulus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkRun {
    #[allow(dead_code)]
    task: String,
    #[serde(default)]
    description: String,
    /// Step, ms.
    dt: f64,
    /// Simulated time, ms.
    duration: f64,
    #[serde(default)]
    seed: u64,
    populations: Vec<spikelab::sim::PopulationSpec>,
    #[serde(default)]
    sources: Vec<spikelab::sim::SourceSpec>,
    #[serde(default)]
    projections: Vec<spikelab::sim::ProjectionSpec>,
    /// Spikes and state variables to record (plotted and written as CSV with `--out`).
    #[serde(default)]
    record: spikelab::sim::RecordSpec,
    /// Also report each population's rate over the run's last `late_window` ms
    /// (`late_rates_hz`): the rate once plasticity has had its time.
    #[serde(default)]
    late_window: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Slif2hhWaveforms {
    #[allow(dead_code)]
    task: String,
    #[serde(default)]
    description: String,
    duration: f64,
    /// The HH side's integration (the reference: Euler at 1 µs).
    hh: Case,
    /// Spikes closer than this (ms) are matched when the counts differ.
    match_window: f64,
    inputs: Vec<Stimulus>,
    /// Offset shifts (µA/cm²) and amplitude scales tried around each input.
    offset_shifts: Vec<f64>,
    amplitude_scales: Vec<f64>,
}

/// Whether `task` names one of these tasks.
pub fn handles(task: &str) -> bool {
    matches!(task, "network" | "tvlif2hh-vs-hh" | "hh-accuracy" | "slif2hh-waveforms")
}

/// Runs a simulation task; `out`, for networks, receives plots and report.json.
pub fn run(path: &Path, text: &str, task: &str, json_out: bool, out: Option<&Path>) -> Result<()> {
    if out.is_some() && task != "network" {
        return Err(Error::config("--out", format!("task \"{task}\" writes no files; only networks do")));
    }
    let start = Instant::now();
    let (report, human) = match task {
        "network" => network(parse(path, text)?, out)?,
        "tvlif2hh-vs-hh" => tvlif2hh_vs_hh(parse(path, text)?)?,
        "slif2hh-waveforms" => slif2hh_waveforms(parse(path, text)?)?,
        _ => hh_accuracy(parse(path, text)?)?,
    };
    let mut report = report;
    if report["wall_seconds"].is_null() {
        report["wall_seconds"] = json!(start.elapsed().as_secs_f64());
    }
    if report["host"].is_null() {
        report["host"] = json!(Host::current());
    }
    crate::report::emit(&report, &human, json_out);
    Ok(())
}

/// Checks a simulation config without simulating (`spikelab check`): its keys and values, and
/// for a network, that it builds. Returns a one-line summary.
pub fn check(path: &Path, text: &str, task: &str) -> Result<String> {
    match task {
        "network" => {
            let c: NetworkRun = parse(path, text)?;
            let net = build_network(&c)?;
            late_window_steps(&c)?;
            if !c.record.is_empty() {
                Monitor::new(&c.record, &net)?;
            }
            let plastic: Vec<String> = c.projections.iter().enumerate().filter_map(|(k, p)| p.plasticity.as_ref().map(|r| format!("projections[{k}] {}", rule_name(r)))).collect();
            let plastic = if plastic.is_empty() { String::new() } else { format!("; plastic: {}", plastic.join(", ")) };
            let short_term: Vec<String> = c
                .projections
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    p.stp.map(|s| {
                        let order = match s.order {
                            StpOrder::FacilitateFirst => "facilitate first",
                            StpOrder::ReleaseFirst => "release first",
                        };
                        format!("projections[{k}] (U {}, tau_f {} ms, tau_d {} ms, {order})", s.u, s.tau_f, s.tau_d)
                    })
                })
                .collect();
            let short_term = if short_term.is_empty() { String::new() } else { format!("; short-term plasticity: {}", short_term.join(", ")) };
            Ok(format!("{} neurons, {} synapses, {} ms at dt = {} ms{plastic}{short_term}", net.neurons(), net.synapses(), c.duration, c.dt))
        }
        "tvlif2hh-vs-hh" => {
            let c: Tvlif2hhVsHh = parse(path, text)?;
            c.validate()?;
            Ok(format!("{} inputs × {} steps, {} ms each", c.inputs.len(), c.dt.len(), c.duration))
        }
        "slif2hh-waveforms" => {
            let c: Slif2hhWaveforms = parse(path, text)?;
            c.validate()?;
            Ok(format!("{} inputs × {} (shift, scale) settings, {} ms each", c.inputs.len(), c.offset_shifts.len() * c.amplitude_scales.len(), c.duration))
        }
        _ => {
            let c: HhAccuracy = parse(path, text)?;
            c.validate()?;
            Ok(format!("{} inputs × {} cases, {} ms each", c.inputs.len(), c.cases.len(), c.duration))
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    crate::config::parse_toml(text, &path.display().to_string())
}

/// The steps of `late_window` (0 without one).
fn late_window_steps(c: &NetworkRun) -> Result<u64> {
    match c.late_window {
        None => Ok(0),
        Some(w) if w.is_finite() && w >= c.dt && w <= c.duration => Ok((w / c.dt).round() as u64),
        Some(w) => Err(Error::config("late_window", format!("must be between dt and the duration ({} … {} ms), got {w}", c.dt, c.duration))),
    }
}

fn build_network(c: &NetworkRun) -> Result<Network> {
    check_time(c.dt, c.duration)?;
    let spec = NetworkSpec { populations: c.populations.clone(), sources: c.sources.clone(), projections: c.projections.clone() };
    Network::build(&spec, c.dt, c.seed)
}

/// Builds the network (set-up, not timed), runs it for the duration and reports
/// `wall_seconds` for the simulation loop alone.
fn network(c: NetworkRun, out: Option<&Path>) -> Result<(serde_json::Value, String)> {
    let setup = Instant::now();
    let mut net = build_network(&c)?;
    let recording = !c.record.is_empty();
    let mut monitor = recording.then(|| Monitor::new(&c.record, &net)).transpose()?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let steps = (c.duration / c.dt).round() as u64;
    let late_steps = late_window_steps(&c)?;
    let mut counts_before_late = Vec::new();
    let start = Instant::now();
    for k in 0..steps {
        if k + late_steps == steps {
            counts_before_late = net.spike_counts();
        }
        net.advance();
        if let Some(m) = &mut monitor {
            m.observe(&net, (k + 1) as f64 * c.dt);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let simulated = steps as f64 * c.dt * 1e-3;
    let counts = net.spike_counts();
    let sizes: Vec<usize> = c.populations.iter().map(|p| p.size).collect();
    let rates_over = |counts: &[u64], seconds: f64| -> serde_json::Map<String, serde_json::Value> {
        net.population_names().into_iter().zip(counts.iter().zip(&sizes)).map(|(name, (&n, &size))| (name, json!(n as f64 / size as f64 / seconds))).collect()
    };
    let rates = rates_over(&counts, simulated);
    let late_rates = (late_steps > 0).then(|| {
        let late: Vec<u64> = counts.iter().zip(&counts_before_late).map(|(all, before)| all - before).collect();
        rates_over(&late, late_steps as f64 * c.dt * 1e-3)
    });
    let mean_rate = counts.iter().sum::<u64>() as f64 / net.neurons() as f64 / simulated;
    let mut human = format!(
        "network: {}\n  {} neurons, {} synapses, {simulated} s simulated at dt = {} ms in {wall:.3} s (set-up {setup_seconds:.3} s, 1 thread)\n  mean rate {mean_rate:.2} Hz ({})\n",
        c.description,
        net.neurons(),
        net.synapses(),
        c.dt,
        rates_text(&rates)
    );
    if let Some(late) = &late_rates {
        human += &format!("  over the last {} ms: {}\n", late_steps as f64 * c.dt, rates_text(late));
    }
    let weights = own_weights(&c, &net)?;
    for w in &weights {
        let s = &w.summary;
        let rule = w.rule.as_deref().map_or("static".to_string(), |r| format!("{r} rule"));
        human += &format!(
            "  projections[{}] {} → {} ({rule}): weights {:.4} ± {:.4} in [{}, {}]; {:.1} % within 1 % of {}, {:.1} % within 1 % of {}\n",
            w.projection,
            c.projections[w.projection].from,
            c.projections[w.projection].to,
            s.mean,
            s.std,
            s.range[0],
            s.range[1],
            100.0 * s.near_low,
            s.range[0],
            100.0 * s.near_high,
            s.range[1]
        );
    }
    let weights_json: Vec<serde_json::Value> = weights
        .iter()
        .map(|w| {
            let p = &c.projections[w.projection];
            json!({"projection": w.projection, "from": p.from, "to": p.to, "weight": p.weight, "plasticity": p.plasticity, "final": w.summary})
        })
        .collect();
    let report = json!({
        "task": "network", "wall_seconds": wall, "setup_seconds": setup_seconds, "simulated_seconds": simulated,
        "neurons": net.neurons(), "synapses": net.synapses(), "mean_rate_hz": mean_rate, "rates_hz": rates, "late_rates_hz": late_rates,
        "spikes": counts.iter().sum::<u64>(), "steps": steps, "threads": 1,
        "peak_rss_bytes": crate::report::process_memory("VmHWM")?, "recording": recording,
        "weights": weights_json, "host": Host::current(),
    });
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if let Some(m) = &monitor {
            crate::plot::simulation(&m.recording, c.duration, &dir.join("sim"))?;
            if m.recording.spike_neurons > 0 {
                spikelab::io::write_atomic(&dir.join("sim_spikes.csv"), m.recording.spikes_csv().as_bytes())?;
            }
            if !m.recording.traces.is_empty() {
                spikelab::io::write_atomic(&dir.join("sim_state.csv"), m.recording.traces_csv().as_bytes())?;
            }
        }
        if !weights.is_empty() {
            let mut csv = String::from("projection,pre,post,weight\n");
            for w in &weights {
                net.projections[w.projection].synapses().for_each(|(i, j, v)| csv += &format!("{},{i},{j},{v}\n", w.projection));
                crate::plot::weight_histogram(&w.summary, &format!("projections[{}] final weights", w.projection), &dir.join(format!("sim_weights_{}", w.projection)))?;
            }
            spikelab::io::write_atomic(&dir.join("sim_weights.csv"), csv.as_bytes())?;
        }
        let text = serde_json::to_string_pretty(&report).expect("report serialises");
        spikelab::io::write_atomic(&dir.join("report.json"), text.as_bytes())?;
    }
    Ok((report, human))
}

/// Rates per population as text: `E 5.27 Hz, I 6.10 Hz`.
fn rates_text(rates: &serde_json::Map<String, serde_json::Value>) -> String {
    rates.iter().map(|(name, r)| format!("{name} {:.2} Hz", r.as_f64().unwrap_or(f64::NAN))).collect::<Vec<_>>().join(", ")
}

/// The final weights of a projection whose synapses each have their own: a plastic one, or one
/// whose weights were drawn.
struct OwnWeights {
    projection: usize,
    rule: Option<String>,
    summary: WeightSummary,
}

/// A rule as its config names it: `stdp`, `hebbian`, or `sequence(stdp, hebbian)`.
fn rule_name(rule: &PlasticitySpec) -> String {
    match rule {
        PlasticitySpec::Stdp(_) => "stdp".into(),
        PlasticitySpec::Hebbian(_) => "hebbian".into(),
        PlasticitySpec::Sequence { rules } => format!("sequence({})", rules.iter().map(rule_name).collect::<Vec<_>>().join(", ")),
    }
}

fn own_weights(c: &NetworkRun, net: &Network) -> Result<Vec<OwnWeights>> {
    let mut found = Vec::new();
    for (k, (spec, proj)) in c.projections.iter().zip(&net.projections).enumerate() {
        if proj.weights.is_empty() {
            continue;
        }
        // A rule's bounds frame the histogram; drawn static weights keep their drawing range.
        let range = match (&spec.plasticity, spec.weight) {
            (Some(rule), _) => rule.weight_bounds(),
            (None, WeightInit::Uniform { low, high }) if low < high => (low, high),
            (None, _) => continue,
        };
        let rule = spec.plasticity.as_ref().map(rule_name);
        found.push(OwnWeights { projection: k, rule, summary: summarize_weights(&proj.weights, range, 20)? });
    }
    Ok(found)
}

/// Experiment 2: the two-layer s-LIF2HH against HH on each input as given, then over a grid
/// of offset shifts and amplitude scales; reports spike counts, the reference's relative
/// timing error E (equal counts) and E over matched spikes, and where E < 10%.
fn slif2hh_waveforms(c: Slif2hhWaveforms) -> Result<(serde_json::Value, String)> {
    c.validate()?;
    let mut human = format!("s-LIF2HH vs HH, two layers, {} ms: {}\n", c.duration, c.description);
    let (mut results, mut simulated, mut hh_spikes) = (Vec::new(), 0.0, 0usize);
    for (i, input) in c.inputs.iter().enumerate() {
        let mut below = Vec::new();
        let mut grid = Vec::new();
        for &shift in &c.offset_shifts {
            for &scale in &c.amplitude_scales {
                let stimulus = input.shifted(shift, scale);
                let hh = spikelab::sim::hh_two_layer(&stimulus, c.duration, c.hh.integrator, c.hh.dt)?;
                let slif = spikelab::sim::slif2hh_two_layer(&stimulus, c.duration);
                simulated += 4.0 * c.duration * 1e-3;
                hh_spikes += hh.len();
                let e = spikelab::sim::timing_error(&slif, &hh, c.match_window);
                if e.relative_error.is_some_and(|r| r < 0.1) {
                    below.push(json!({"offset_shift": shift, "amplitude_scale": scale, "relative_error": e.relative_error}));
                }
                if shift == 0.0 && scale == 1.0 {
                    human += &format!(
                        "  inputs[{i}] {:<9} as given: spikes HH {} / s-LIF2HH {}, E {}, matched {} (E over them {})\n",
                        input.kind(),
                        e.reference_spikes,
                        e.candidate_spikes,
                        e.relative_error.map_or("- (counts differ)".into(), |r| format!("{:.1}%", 100.0 * r)),
                        e.matched,
                        e.matched_relative_error.map_or("-".into(), |r| format!("{:.1}%", 100.0 * r)),
                    );
                }
                grid.push(json!({"offset_shift": shift, "amplitude_scale": scale, "timing": e}));
            }
        }
        human += &format!("  inputs[{i}] {:<9} E < 10% at {} of {} (shift, scale) settings\n", input.kind(), below.len(), grid.len());
        results.push(json!({"input": i, "kind": input.kind(), "grid": grid, "below_10_percent": below}));
    }
    let report = json!({
        "task": "slif2hh-waveforms", "neurons": 4, "synapses": 2, "simulated_seconds": simulated,
        "mean_rate_hz": hh_spikes as f64 / (simulated / 4.0), "results": results,
    });
    Ok((report, human))
}

fn check_inputs(inputs: &[Stimulus], duration: f64) -> Result<()> {
    if inputs.is_empty() {
        return Err(Error::config("inputs", "give at least one input"));
    }
    for (i, s) in inputs.iter().enumerate() {
        s.validate(&format!("inputs[{i}]"))?;
    }
    check_time(f64::MIN_POSITIVE, duration)
}

impl Tvlif2hhVsHh {
    fn validate(&self) -> Result<()> {
        check_inputs(&self.inputs, self.duration)?;
        if self.dt.is_empty() {
            return Err(Error::config("dt", "give at least one step"));
        }
        for (i, &dt) in self.dt.iter().enumerate() {
            check_time(dt, self.duration).map_err(|e| Error::config(format!("dt[{i}]"), e.to_string()))?;
        }
        Ok(())
    }
}

impl Slif2hhWaveforms {
    fn validate(&self) -> Result<()> {
        check_inputs(&self.inputs, self.duration)?;
        check_time(self.hh.dt, self.duration).map_err(|e| Error::config("hh.dt", e.to_string()))?;
        if self.offset_shifts.is_empty() || self.amplitude_scales.is_empty() {
            return Err(Error::config("offset_shifts", "give at least one shift and one amplitude scale (0 and 1: the input as given)"));
        }
        Ok(())
    }
}

impl HhAccuracy {
    fn validate(&self) -> Result<()> {
        check_inputs(&self.inputs, self.duration)?;
        for (key, case) in std::iter::once(("reference".to_string(), &self.reference))
            .chain(std::iter::once(("default".to_string(), &self.default)))
            .chain(self.cases.iter().enumerate().map(|(i, k)| (format!("cases[{i}]"), k)))
        {
            check_time(case.dt, self.duration).map_err(|e| Error::config(format!("{key}.dt"), e.to_string()))?;
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::config("tolerance", format!("must be positive, got {}", self.tolerance)));
        }
        Ok(())
    }
}

fn tvlif2hh_vs_hh(c: Tvlif2hhVsHh) -> Result<(serde_json::Value, String)> {
    c.validate()?;
    let mut human = format!("tv-LIF2HH vs HH ({:?}, {:?}): {}\n", c.convention, c.integrator, c.description);
    let (mut results, mut worst) = (Vec::new(), 0.0f64);
    let (mut simulated, mut hh_spikes) = (0.0, 0usize);
    for (i, input) in c.inputs.iter().enumerate() {
        for &dt in &c.dt {
            let hh = simulate(&NeuronSpec::Hh { convention: c.convention, integrator: c.integrator }, input, dt, c.duration)?;
            let tv = simulate(&NeuronSpec::TvLif2hh { convention: c.convention, integrator: c.integrator }, input, dt, c.duration)?;
            simulated += 2.0 * c.duration * 1e-3;
            hh_spikes += hh.spikes.len();
            let a = agreement(&tv, &hh, c.match_window);
            worst = worst.max(a.max_abs_dv_mv);
            human += &format!(
                "  inputs[{i}] {:<9} dt {dt:<6} ms: max |ΔV| {:.3e} mV, spikes {} / {}, max spike-time difference {}\n",
                input.kind(),
                a.max_abs_dv_mv,
                a.spikes_a,
                a.spikes_b,
                a.max_spike_time_difference_ms.map_or("- (counts differ)".into(), |d| format!("{d:.3e} ms"))
            );
            results.push(json!({"input": i, "kind": input.kind(), "dt_ms": dt, "agreement": a}));
        }
    }
    human += &format!("  worst max |ΔV|: {worst:.3e} mV\n");
    let report = json!({
        "task": "tvlif2hh-vs-hh", "neurons": 2, "synapses": 0, "simulated_seconds": simulated,
        "mean_rate_hz": hh_spikes as f64 / (simulated / 2.0), "max_abs_dv_mv": worst, "results": results,
    });
    Ok((report, human))
}

fn hh_accuracy(c: HhAccuracy) -> Result<(serde_json::Value, String)> {
    c.validate()?;
    let model = |case: &Case| NeuronSpec::Hh { convention: c.convention, integrator: case.integrator };
    let mut human = format!("HH spike-time accuracy against {:?} at dt = {} ms: {}\n", c.reference.integrator, c.reference.dt, c.description);
    let (mut results, mut default_worst, mut spikes_total, mut simulated) = (Vec::new(), 0.0f64, 0usize, 0.0);
    let mut default_ok = true;
    for (i, input) in c.inputs.iter().enumerate() {
        let reference = simulate(&model(&c.reference), input, c.reference.dt, c.duration)?;
        simulated += c.duration * 1e-3;
        spikes_total += reference.spikes.len();
        let cases = c.cases.iter().chain(std::iter::once(&c.default));
        for (k, case) in cases.enumerate() {
            let run = simulate(&model(case), input, case.dt, c.duration)?;
            simulated += c.duration * 1e-3;
            let err = spikelab::sim::spike_time_difference(&run.spikes, &reference.spikes);
            let is_default = k == c.cases.len();
            if is_default {
                default_ok &= err.is_some_and(|e| e <= c.tolerance);
                default_worst = default_worst.max(err.unwrap_or(f64::INFINITY));
            }
            human += &format!(
                "  inputs[{i}] {:<9} {:<17} dt {:<6} ms: spikes {} / {}, max error {}{}\n",
                input.kind(),
                format!("{:?}", case.integrator),
                case.dt,
                run.spikes.len(),
                reference.spikes.len(),
                err.map_or("- (counts differ)".into(), |e| format!("{e:.5} ms")),
                if is_default { "  (default)" } else { "" }
            );
            results.push(json!({"input": i, "kind": input.kind(), "integrator": case.integrator, "dt_ms": case.dt,
                "spikes": run.spikes.len(), "reference_spikes": reference.spikes.len(), "max_spike_time_error_ms": err, "default": is_default}));
        }
    }
    human += &format!("  default ({:?}, dt {} ms): worst error {default_worst:.5} ms, within {} ms: {default_ok}\n", c.default.integrator, c.default.dt, c.tolerance);
    let report = json!({
        "task": "hh-accuracy", "neurons": 1, "synapses": 0, "simulated_seconds": simulated,
        "mean_rate_hz": spikes_total as f64 / (c.inputs.len() as f64 * c.duration * 1e-3),
        "default_worst_error_ms": default_worst, "default_within_tolerance": default_ok, "tolerance_ms": c.tolerance,
        "results": results,
    });
    Ok((report, human))
}
