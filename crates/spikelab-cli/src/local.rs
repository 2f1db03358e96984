//! Local-learning tasks, run by `spikelab run FILE` over several seeds, with accuracy per epoch
//! and the paper's training-cost statistic: `task = "sbp-snn"` (the SBP paper's 3-layer SNN,
//! `spikelab::plasticity::snn`, config table `[snn]`), `task = "sbp-rbm"` (its layered
//! Hopfield "RBM", `spikelab::plasticity::hopfield`, table `[rbm]`) and `task = "sbp-smlp"`
//! (the spiking MLP with SBP hidden updates, `spikelab::plasticity::smlp`, table `[smlp]`); and
//! `spikelab compare A B`, the joint cost comparison of two reports of one system
//! (`spikelab merge`, in merge.rs, joins reports of one config over different seeds).

use serde::Deserialize;
use serde_json::{json, Value};
use spikelab::data::{self, nettalk, DatasetName};
use spikelab::energy::training_cost::{error_levels, training_cost};
use spikelab::energy::EnergyModel;
use spikelab::plasticity::hopfield::{HopfieldConfig, HopfieldNet, Particles};
use spikelab::plasticity::smlp::{Smlp, SmlpConfig};
use spikelab::plasticity::snn::{SbpSnn, SnnConfig};
use spikelab::rng::Rng;
use spikelab::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Error levels of the cost statistic are capped here (errors as fractions): 0.2 for the SNN,
/// 0.4 for the RBM, as the reference's notebooks.
pub fn error_cap(task: &str) -> f64 {
    if task == "sbp-rbm" {
        0.4
    } else {
        0.2
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalRun {
    task: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    dataset: LocalDataset,
    epochs: usize,
    /// Seeds of the runs; `--seeds N` takes the first N.
    seeds: Vec<u64>,
    /// Use only the first samples of each split (quick runs); default: all.
    train_samples: Option<usize>,
    test_samples: Option<usize>,
    snn: Option<SnnConfig>,
    rbm: Option<HopfieldConfig>,
    smlp: Option<SmlpConfig>,
    /// How the S-MLP sees a sample over its T steps.
    #[serde(default)]
    encoding: Encoding,
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Encoding {
    /// Each input fires with its value as probability at every step (the reference's MNIST).
    #[default]
    Bernoulli,
    /// The values themselves at every step (the reference's NETtalk).
    Constant,
}

/// A network trained by a local rule, as the seed loop drives it. `indices` name the samples
/// of a batch within their split (the RBM keeps a persistent state per sample).
trait Learner {
    fn train_batch(&mut self, x: &[f32], target: &[f32], indices: &[usize]) -> Vec<f32>;
    fn evaluate_batch(&mut self, x: &[f32], indices: &[usize]) -> Vec<f32>;
    fn dense_macs(&self) -> u64;
    /// The largest weight magnitude (NaN if any weight is NaN).
    fn largest_weight(&self) -> f32;
    fn start_epoch(&mut self, _epoch: usize) {}
}

impl Learner for SbpSnn {
    fn train_batch(&mut self, x: &[f32], target: &[f32], _: &[usize]) -> Vec<f32> {
        SbpSnn::train_batch(self, x, target).output
    }
    fn evaluate_batch(&mut self, x: &[f32], indices: &[usize]) -> Vec<f32> {
        SbpSnn::evaluate_batch(self, x, indices.len()).output
    }
    fn dense_macs(&self) -> u64 {
        self.ops().dense_mac
    }
    fn largest_weight(&self) -> f32 {
        largest_magnitude(self.weights.iter().flatten())
    }
}

struct Rbm {
    net: HopfieldNet,
    train: Particles,
    test: Particles,
}

impl Learner for Rbm {
    fn train_batch(&mut self, x: &[f32], target: &[f32], indices: &[usize]) -> Vec<f32> {
        let mut p = self.train.gather(indices);
        let out = self.net.train_batch(x, target, &mut p);
        self.train.scatter(indices, &p);
        out
    }
    fn evaluate_batch(&mut self, x: &[f32], indices: &[usize]) -> Vec<f32> {
        let mut p = self.test.gather(indices);
        let out = self.net.evaluate_batch(x, &mut p);
        self.test.scatter(indices, &p);
        out
    }
    fn dense_macs(&self) -> u64 {
        self.net.ops().dense_mac
    }
    fn largest_weight(&self) -> f32 {
        largest_magnitude(self.net.weights.iter().flatten())
    }
}

struct SpikingMlp {
    net: Smlp,
    encoding: Encoding,
    rng: Rng,
    epoch: usize,
    macs: u64,
}

impl SpikingMlp {
    fn encode(&mut self, x: &[f32]) -> Vec<Vec<f32>> {
        let steps = self.net.config.time_steps;
        let per_step = self.net.config.layers.windows(2).map(|w| w[0] * w[1]).sum::<usize>() * (x.len() / self.net.config.layers[0]);
        self.macs += (steps * per_step) as u64;
        match self.encoding {
            Encoding::Constant => vec![x.to_vec(); steps],
            Encoding::Bernoulli => (0..steps).map(|_| x.iter().map(|&p| (self.rng.uniform() < p) as u8 as f32).collect()).collect(),
        }
    }
}

impl Learner for SpikingMlp {
    fn train_batch(&mut self, x: &[f32], target: &[f32], _: &[usize]) -> Vec<f32> {
        let input = self.encode(x);
        // Backward costs about two forward passes more.
        self.macs += 2 * (self.net.config.time_steps * self.net.config.layers.windows(2).map(|w| w[0] * w[1]).sum::<usize>() * (x.len() / self.net.config.layers[0])) as u64;
        self.net.train_batch(&input, target, self.epoch)
    }
    fn evaluate_batch(&mut self, x: &[f32], indices: &[usize]) -> Vec<f32> {
        let input = self.encode(x);
        self.net.evaluate_batch(&input, indices.len())
    }
    fn dense_macs(&self) -> u64 {
        self.macs
    }
    fn largest_weight(&self) -> f32 {
        largest_magnitude(self.net.params.iter().flat_map(|p| p.value.data()))
    }
    fn start_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }
}

/// A fresh network for (seed, training samples, test samples).
type BuildLearner = Box<dyn Fn(u64, usize, usize) -> Result<Box<dyn Learner>>>;

/// What a task's network needs from the run: its layers, batch, cost per epoch, a fresh
/// network per seed, and a few facts for the report.
struct System {
    layers: Vec<usize>,
    batch_size: usize,
    shuffle: bool,
    cost_per_epoch: f64,
    build: BuildLearner,
    facts: Value,
}

fn system(c: &LocalRun) -> Result<System> {
    let missing = |table: &str| Error::config(table, format!("task \"{}\" needs a [{table}] table", c.task));
    match c.task.as_str() {
        "sbp-snn" => {
            let snn = c.snn.clone().ok_or_else(|| missing("snn"))?;
            snn.validate()?;
            let facts = json!({ "sbp": snn.sbp.is_some(), "rule": snn.rule, "stp": snn.stp.is_some(), "dale": snn.dale.is_some(), "adaptive_threshold": snn.adaptive_threshold.is_some() });
            Ok(System {
                layers: snn.layers.clone(),
                batch_size: snn.batch_size,
                shuffle: snn.shuffle,
                cost_per_epoch: snn.cost_per_epoch(),
                build: Box::new(move |seed, _, _| Ok(Box::new(SbpSnn::new(snn.clone(), seed)?) as Box<dyn Learner>)),
                facts,
            })
        }
        "sbp-smlp" => {
            let smlp = c.smlp.clone().ok_or_else(|| missing("smlp"))?;
            smlp.validate()?;
            let facts = json!({ "bp_every": smlp.bp_every, "sbp_hook": smlp.sbp_hook, "time_steps": smlp.time_steps, "energy_weight": smlp.energy_weight });
            let encoding = c.encoding;
            Ok(System {
                layers: smlp.layers.clone(),
                batch_size: smlp.batch_size,
                shuffle: true,
                cost_per_epoch: smlp.cost_per_epoch(),
                build: Box::new(move |seed, _, _| {
                    let net = Smlp::new(smlp.clone(), seed)?;
                    Ok(Box::new(SpikingMlp { net, encoding, rng: Rng::derive(seed, 0xE4C0), epoch: 0, macs: 0 }) as Box<dyn Learner>)
                }),
                facts,
            })
        }
        _ => {
            let rbm = c.rbm.clone().ok_or_else(|| missing("rbm"))?;
            rbm.validate()?;
            let facts = json!({ "energy": rbm.energy, "sleep_steps": rbm.sleep_steps, "wake_steps": rbm.wake_steps });
            Ok(System {
                layers: rbm.layers.clone(),
                batch_size: rbm.batch_size,
                shuffle: rbm.shuffle,
                cost_per_epoch: rbm.cost_per_epoch(),
                build: Box::new(move |seed, train, test| {
                    let net = HopfieldNet::new(rbm.clone(), seed)?;
                    Ok(Box::new(Rbm { net, train: Particles::new(&rbm, train), test: Particles::new(&rbm, test) }) as Box<dyn Learner>)
                }),
                facts,
            })
        }
    }
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum LocalDataset {
    Embedded,
    #[default]
    Mnist,
    FashionMnist,
    /// Letter windows of the NETtalk corpus (`spikelab::data::nettalk`).
    Nettalk,
}

impl LocalDataset {
    fn name(self) -> &'static str {
        match self {
            LocalDataset::Embedded => "embedded",
            LocalDataset::Mnist => "mnist",
            LocalDataset::FashionMnist => "fashion-mnist",
            LocalDataset::Nettalk => "nettalk",
        }
    }
}

/// Inputs and targets of one split, row-major, with the codes an answer is read against: a
/// sample is right when the code nearest its output (by cosine) is its target's.
struct Samples {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    width: usize,
    outputs: usize,
}

impl Samples {
    fn len(&self) -> usize {
        self.targets.len() / self.outputs
    }

    fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.inputs.truncate(n * self.width);
        self.targets.truncate(n * self.outputs);
    }
}

/// The splits of a data set, and the codes of its answers.
fn load_samples(dataset: LocalDataset, data_dir: Option<&Path>) -> Result<(Samples, Samples, Vec<Vec<f32>>)> {
    if dataset == LocalDataset::Nettalk {
        let dir = data_dir.map(Path::to_path_buf).or_else(|| std::env::var_os("SPIKELAB_DATA").map(PathBuf::from));
        let dir = dir.ok_or_else(|| Error::config("--data-dir", "NETtalk needs the directory holding nettalk/nettalk.data (or set SPIKELAB_DATA)"))?;
        let (train, test) = nettalk::load(&dir)?;
        let wrap = |w: nettalk::Windows| Samples { inputs: w.inputs, targets: w.targets, width: nettalk::INPUTS, outputs: nettalk::OUTPUTS };
        return Ok((wrap(train), wrap(test), nettalk::all_codes().iter().map(|c| c.to_vec()).collect()));
    }
    let name = match dataset {
        LocalDataset::Embedded => DatasetName::Embedded,
        LocalDataset::FashionMnist => DatasetName::FashionMnist,
        _ => DatasetName::Mnist,
    };
    let split = data::load(name, data_dir)?;
    let classes = split.train.classes;
    let wrap = |d: data::Dataset| {
        let mut targets = vec![0.0f32; d.len() * classes];
        d.labels.iter().enumerate().for_each(|(i, &y)| targets[i * classes + y as usize] = 1.0);
        Samples { width: d.sample_len(), inputs: d.images.iter().map(|&p| p as f32 / 255.0).collect(), targets, outputs: classes }
    };
    let codes = (0..classes).map(|k| (0..classes).map(|j| (j == k) as u8 as f32).collect()).collect();
    Ok((wrap(split.train), wrap(split.test), codes))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let norm = |x: &[f32]| x.iter().map(|v| (v * v) as f64).sum::<f64>().sqrt().max(1e-12);
    a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>() / (norm(a) * norm(b))
}

/// Outputs whose nearest code (by cosine) is their target's, and the summed cosine of each
/// output with its target (the SBP reference's NETtalk score is its mean, "1 − cosine
/// distance").
fn score(outputs: &[f32], targets: &[f32], width: usize, codes: &[Vec<f32>]) -> (usize, f64) {
    let nearest = |v: &[f32]| (0..codes.len()).map(|k| (k, cosine(&codes[k], v))).fold((0, f64::NEG_INFINITY), |best, (k, c)| if c > best.1 { (k, c) } else { best }).0;
    outputs.chunks(width).zip(targets.chunks(width)).fold((0, 0.0), |(right, sum), (o, t)| (right + (nearest(o) == nearest(t)) as usize, sum + cosine(o, t)))
}

pub fn handles(task: &str) -> bool {
    matches!(task, "sbp-snn" | "sbp-rbm" | "sbp-smlp")
}

/// Options of `spikelab run` that apply to these tasks.
pub struct LocalOptions {
    pub data_dir: Option<PathBuf>,
    pub epochs: Option<usize>,
    pub seeds: Option<usize>,
    pub json: bool,
    pub out: Option<PathBuf>,
}

/// The config, with `--epochs` / `--seeds` applied, and its system; everything checked that
/// can be without the data.
fn prepare(path: &Path, text: &str, epochs: Option<usize>, seeds: Option<usize>) -> Result<(LocalRun, System)> {
    let mut c: LocalRun = crate::config::parse_toml(text, &path.display().to_string())?;
    if let Some(e) = epochs {
        c.epochs = e;
    }
    if c.epochs == 0 {
        return Err(Error::config("epochs", "must be at least 1"));
    }
    if let Some(n) = seeds {
        if n == 0 || n > c.seeds.len() {
            return Err(Error::config("--seeds", format!("must be between 1 and the {} seeds the config lists", c.seeds.len())));
        }
        c.seeds.truncate(n);
    }
    if c.seeds.is_empty() {
        return Err(Error::config("seeds", "needs at least one seed"));
    }
    let sys = system(&c)?;
    Ok((c, sys))
}

/// Checks a config without training (`spikelab check`); the data are not read, so the layers
/// are not yet checked against them. Returns a one-line summary, ending with what the config
/// switches on (the report's `network`), so a twin that differs in the wrong way shows.
pub fn check(path: &Path, text: &str) -> Result<String> {
    let (c, sys) = prepare(path, text, None, None)?;
    Ok(format!("layers {:?}, {} seeds × {} epochs, {}", sys.layers, c.seeds.len(), c.epochs, sys.facts))
}

pub fn run(path: &Path, text: &str, options: &LocalOptions) -> Result<()> {
    let (c, sys) = prepare(path, text, options.epochs, options.seeds)?;
    let (mut train, mut test, codes) = load_samples(c.dataset, options.data_dir.as_deref())?;
    if let Some(n) = c.train_samples {
        train.truncate(n);
    }
    if let Some(n) = c.test_samples {
        test.truncate(n);
    }
    if train.width != sys.layers[0] || train.outputs != *sys.layers.last().unwrap() {
        let table = c.task.trim_start_matches("sbp-");
        return Err(Error::config(format!("{table}.layers"), format!("{:?} does not fit {} ({} inputs, {} outputs)", sys.layers, c.dataset.name(), train.width, train.outputs)));
    }
    let start = Instant::now();
    let mut runs = Vec::new();
    for &seed in &c.seeds {
        runs.push(run_seed(&c, &sys, seed, &train, &test, &codes)?);
    }
    let curves: Vec<Vec<f64>> = runs.iter().map(|r| r.test_error.clone()).collect();
    let cosines: Vec<Vec<f64>> = runs.iter().map(|r| r.test_cosine.clone()).collect();
    let summary = SeedSummary::new(&c.task, sys.cost_per_epoch, &curves, Some(&cosines));
    let ops_per_sample = runs.iter().map(|r| r.train_ops_per_sample).sum::<f64>() / runs.len() as f64;
    let host = crate::host::Host::current();
    let mut report = json!({
        "task": c.task,
        "description": c.description,
        "dataset": c.dataset.name(),
        "train_samples": train.len(),
        "test_samples": test.len(),
        "epochs": c.epochs,
        "seeds": c.seeds,
        "network": sys.facts,
        "test_error_curves": curves,
        "test_cosine_curves": cosines,
        "train_error_curves": runs.iter().map(|r| r.train_error.clone()).collect::<Vec<_>>(),
        "train_dense_macs_per_sample": ops_per_sample,
        "train_energy_uj_per_sample": energy_uj_per_sample(ops_per_sample),
        "wall_seconds": start.elapsed().as_secs_f64(),
        "seconds_per_run": runs.iter().map(|r| r.seconds).collect::<Vec<_>>(),
        "host": host,
    });
    summary.write_into(&mut report);
    let human = format!("{}{:.1} s\n  on {}\n", summary.human(&c.description, Some(ops_per_sample)), start.elapsed().as_secs_f64(), host.human());
    if let Some(dir) = &options.out {
        write_report(dir, &report, &c.description, &curves)?;
    }
    crate::report::emit(&report, &human, options.json);
    Ok(())
}

/// What a report says over its seeds, from their curves: the epoch of the lowest seed-mean test
/// error (the paper's reading), each seed's accuracy and mean cosine there, and the training
/// cost over the seeds' own error levels.
pub struct SeedSummary {
    best: usize,
    accuracies: Vec<f64>,
    accuracy: (f64, f64),
    /// Absent for reports without cosine curves (the released reference code's).
    cosine: Option<(f64, f64)>,
    cost: spikelab::energy::training_cost::TrainingCost,
}

impl SeedSummary {
    pub fn new(task: &str, cost_per_epoch: f64, errors: &[Vec<f64>], cosines: Option<&[Vec<f64>]>) -> Self {
        let mean_error = crate::plot::mean_curve(errors);
        let best = (0..mean_error.len()).min_by(|&a, &b| mean_error[a].total_cmp(&mean_error[b])).expect("at least one epoch");
        let accuracies: Vec<f64> = errors.iter().map(|cv| 100.0 * (1.0 - cv[best])).collect();
        let cosine = cosines.map(|cosines| mean_std(&cosines.iter().map(|cv| 100.0 * cv[best]).collect::<Vec<_>>()));
        let cost = training_cost(cost_per_epoch, errors, error_levels(&[errors], error_cap(task)));
        SeedSummary { best, accuracy: mean_std(&accuracies), accuracies, cosine, cost }
    }

    /// Sets the report's `accuracy`, `cosine_similarity` (when there are cosines) and `training_cost`.
    pub fn write_into(&self, report: &mut Value) {
        let epoch = self.best + 1;
        report["accuracy"] = json!({ "mean": self.accuracy.0, "std": self.accuracy.1, "best_epoch": epoch, "per_seed": self.accuracies });
        if let Some((mean, std)) = self.cosine {
            report["cosine_similarity"] = json!({ "mean": mean, "std": std, "at_best_epoch": epoch });
        }
        report["training_cost"] = json!(self.cost);
    }

    /// The human summary, up to the closing time; without operation counts when `ops_per_sample`
    /// is unknown (reports of the released reference code).
    pub fn human(&self, description: &str, ops_per_sample: Option<f64>) -> String {
        let levels = self.cost.levels.map(|l| (l * 1e4).round() / 1e4);
        let cosine = self.cosine.map_or(String::new(), |(mean, std)| format!("; mean cosine with the target {mean:.2} ± {std:.2}%"));
        let operations = ops_per_sample.map_or(String::new(), |ops| format!("{ops:.3e} MACs per training sample, {:.1} µJ estimated; ", energy_uj_per_sample(ops)));
        format!(
            "{description}\n  accuracy {:.2} ± {:.2}% (best epoch {} of the {}-seed mean{cosine})\n  training cost {:.4e} ± {:.3e} (C_iter {}, error levels {levels:?}; own levels only: use `spikelab compare` for a comparison)\n  {operations}",
            self.accuracy.0,
            self.accuracy.1,
            self.best + 1,
            self.accuracies.len(),
            self.cost.mean,
            self.cost.std,
            self.cost.cost_per_epoch,
        )
    }
}

/// The energy model's estimate for `ops_per_sample` dense MACs.
pub fn energy_uj_per_sample(ops_per_sample: f64) -> f64 {
    EnergyModel::default().pj_per_mac * ops_per_sample * 1e-6
}

/// `report.json` and the accuracy curves (`accuracy.png`/`.svg`) in `dir`.
pub fn write_report(dir: &Path, report: &Value, description: &str, error_curves: &[Vec<f64>]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    spikelab::io::write_atomic(&dir.join("report.json"), serde_json::to_string_pretty(report).expect("report is JSON").as_bytes())?;
    crate::plot::seed_curves(&seed_curves(description, "test accuracy", error_curves), &dir.join("accuracy"))
}

struct SeedRun {
    test_error: Vec<f64>,
    /// Mean cosine of test outputs with their targets, per epoch.
    test_cosine: Vec<f64>,
    train_error: Vec<f64>,
    train_ops_per_sample: f64,
    seconds: f64,
}

fn run_seed(c: &LocalRun, sys: &System, seed: u64, train: &Samples, test: &Samples, codes: &[Vec<f32>]) -> Result<SeedRun> {
    let start = Instant::now();
    let mut net = (sys.build)(seed, train.len(), test.len())?;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = Rng::derive(seed, 0x0DE5);
    let batch = sys.batch_size;
    let (width, outputs) = (train.width, train.outputs);
    let (mut test_error, mut train_error, mut test_cosine) = (Vec::new(), Vec::new(), Vec::new());
    let mut train_ops = 0u64;
    for epoch in 1..=c.epochs {
        net.start_epoch(epoch - 1);
        if sys.shuffle {
            rng.shuffle(&mut order);
        }
        let before = net.dense_macs();
        let mut correct = 0;
        for chunk in order.chunks(batch) {
            let x: Vec<f32> = chunk.iter().flat_map(|&i| &train.inputs[i * width..(i + 1) * width]).copied().collect();
            let target: Vec<f32> = chunk.iter().flat_map(|&i| &train.targets[i * outputs..(i + 1) * outputs]).copied().collect();
            correct += score(&net.train_batch(&x, &target, chunk), &target, outputs, codes).0;
        }
        train_ops += net.dense_macs() - before;
        train_error.push(1.0 - correct as f64 / train.len() as f64);
        let (mut test_correct, mut cosines) = (0, 0.0);
        for first in (0..test.len()).step_by(batch) {
            let n = batch.min(test.len() - first);
            let indices: Vec<usize> = (first..first + n).collect();
            let answer = net.evaluate_batch(&test.inputs[first * width..(first + n) * width], &indices);
            let (right, cos) = score(&answer, &test.targets[first * outputs..(first + n) * outputs], outputs, codes);
            (test_correct, cosines) = (test_correct + right, cosines + cos);
        }
        test_error.push(1.0 - test_correct as f64 / test.len() as f64);
        test_cosine.push(cosines / test.len() as f64);
        eprintln!(
            "seed {seed} epoch {epoch}/{}: train error {:.2}%, test error {:.2}% ({:.1} s)",
            c.epochs,
            100.0 * train_error[epoch - 1],
            100.0 * test_error[epoch - 1],
            start.elapsed().as_secs_f64()
        );
        let largest = net.largest_weight();
        if largest.is_nan() || largest > DIVERGED_WEIGHT {
            return Err(Error::Other(format!("seed {seed}, epoch {epoch}: the weights diverged (largest |w| = {largest:e}, beyond {DIVERGED_WEIGHT:e}); lower the learning rates")));
        }
    }
    Ok(SeedRun { test_error, test_cosine, train_error, train_ops_per_sample: train_ops as f64 / (c.epochs * train.len()) as f64, seconds: start.elapsed().as_secs_f64() })
}

/// A weight this large means the run has diverged: these networks start with weights below 1
/// (Glorot or 1/√fan-in bounds), and a run left going past it only grows further (Dale's law on
/// NETtalk reached 3e16 at 100 % error, 2026-12-04), so it stops with a message instead.
const DIVERGED_WEIGHT: f32 = 1e6;

/// max |w| over `weights`; NaN if any is NaN (`f32::max` alone would skip it).
fn largest_magnitude<'a>(weights: impl Iterator<Item = &'a f32>) -> f32 {
    weights.fold(0.0f32, |m, &w| if w.is_nan() || m.is_nan() { f32::NAN } else { m.max(w.abs()) })
}

/// Test accuracy in % per seed and epoch, from the error curves.
pub fn seed_curves(name: &str, measure: &'static str, error_curves: &[Vec<f64>]) -> crate::plot::SeedCurves {
    crate::plot::SeedCurves { name: name.to_string(), measure, accuracy: error_curves.iter().map(|c| c.iter().map(|e| 100.0 * (1.0 - e)).collect()).collect() }
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt())
}

/// Reads a report: a report.json, or saved `--json` output (its last line).
pub fn read_report(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let parsed = serde_json::from_str::<Value>(&text).or_else(|_| serde_json::from_str::<Value>(text.lines().last().unwrap_or("")));
    let report = parsed.map_err(|e| Error::Other(format!("{}: not a JSON report ({e})", path.display())))?;
    if !report["task"].as_str().is_some_and(handles) || !report["test_error_curves"].is_array() {
        return Err(Error::Other(format!("{}: not the report of an sbp-snn, sbp-rbm or sbp-smlp run (no test_error_curves)", path.display())));
    }
    Ok(report)
}
