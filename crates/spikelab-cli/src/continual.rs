//! `spikelab run FILE` for `task = "permuted-mnist"`: continual learning over permuted tasks
//! (`spikelab::train::continual`), with the model of `[model]` and the protocol of
//! `[continual]`.

use serde::Deserialize;
use serde_json::json;
use spikelab::data::{load, DatasetName};
use spikelab::nn::{ModelSpec, Sequential};
use spikelab::train::continual::{permuted_tasks, ContinualSettings};
use spikelab::Result;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContinualRun {
    #[allow(dead_code)]
    task: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    data: ContinualData,
    model: ModelSpec,
    continual: ContinualSettings,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContinualData {
    #[serde(default)]
    dataset: DatasetName,
    data_dir: Option<PathBuf>,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
}

pub fn handles(task: &str) -> bool {
    task == "permuted-mnist"
}

pub struct ContinualOptions {
    pub data_dir: Option<PathBuf>,
    pub seed: Option<u64>,
    /// Epochs per task.
    pub epochs: Option<usize>,
    pub json: bool,
}

/// Checks a config without training (`spikelab check`): its keys, its settings and that its
/// model builds. Returns a one-line summary.
pub fn check(path: &Path, text: &str) -> Result<String> {
    let c: ContinualRun = crate::config::parse_toml(text, &path.display().to_string())?;
    c.continual.validate()?;
    let net = Sequential::from_spec(&c.model, c.continual.seed)?;
    Ok(format!("{} tasks × {} epochs, {} parameters", c.continual.tasks, c.continual.epochs_per_task, net.parameter_count()))
}

pub fn run(path: &Path, text: &str, options: &ContinualOptions) -> Result<()> {
    let mut c: ContinualRun = crate::config::parse_toml(text, &path.display().to_string())?;
    if let Some(seed) = options.seed {
        c.continual.seed = seed;
    }
    if let Some(epochs) = options.epochs {
        c.continual.epochs_per_task = epochs;
    }
    c.continual.validate()?;
    let mut split = load(c.data.dataset, options.data_dir.as_deref().or(c.data.data_dir.as_deref()))?;
    if let Some(n) = c.data.train_limit {
        split.train.truncate(n);
    }
    if let Some(n) = c.data.test_limit {
        split.test.truncate(n);
    }
    let mut net = Sequential::from_spec(&c.model, c.continual.seed)?;
    let parameters = net.parameter_count();
    eprintln!(
        "permuted {}: {} tasks × {} epochs, {} parameters, {} train / {} test samples per task",
        c.data.dataset.as_str(),
        c.continual.tasks,
        c.continual.epochs_per_task,
        parameters,
        split.train.len(),
        split.test.len()
    );
    let report = permuted_tasks(&mut net, &c.continual, &split.train, &split.test, |t| {
        eprintln!("task {}: trained in {:.1} s, final train loss {:.4}", t.task, t.train_seconds, t.final_train_loss);
    })?;
    let accuracies: Vec<String> = report.task_accuracy.iter().map(|a| format!("{:.2}", 100.0 * a)).collect();
    eprintln!("test accuracy per task (%): {}", accuracies.join(" "));
    if let Some(c) = report.context_accuracy {
        eprintln!("nearest prototype is the sample's own task for {:.2}% of test samples", 100.0 * c);
    }
    let summary = format!(
        "mean accuracy over {} tasks  {:.2}%\ntraining  {:.1} s; testing {:.1} s on {} threads\n",
        report.task_accuracy.len(),
        100.0 * report.mean_accuracy,
        report.train_seconds,
        report.eval_seconds,
        rayon::current_num_threads()
    );
    let value = json!({
        "task": "permuted-mnist",
        "file": path.display().to_string(),
        "host": crate::host::Host::current(),
        "description": c.description,
        "tasks": c.continual.tasks,
        "seed": c.continual.seed,
        "parameters": parameters,
        "mean_accuracy": report.mean_accuracy,
        "task_accuracy": report.task_accuracy,
        "context_accuracy": report.context_accuracy,
        "train_seconds": report.train_seconds,
        "eval_seconds": report.eval_seconds,
        "wall_seconds": report.train_seconds + report.eval_seconds,
        "task_seconds": report.tasks.iter().map(|t| t.train_seconds).collect::<Vec<f64>>(),
        "threads": rayon::current_num_threads(),
    });
    crate::report::emit(&value, &summary, options.json);
    Ok(())
}
