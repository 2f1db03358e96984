//! `train`/`run` and `eval`.

use crate::config::{Overrides, RunConfig, DEFAULT_CONFIG};
use crate::progress::EpochProgress;
use crate::report::RunReport;
use crate::{plot, report};
use serde_json::json;
use spikelab::data::{load, synthetic, DatasetName, Split};
use spikelab::energy::PowercapMeter;
use spikelab::io::{write_atomic, Checkpoint};
use spikelab::nn::Sequential;
use spikelab::train::{EvalReport, Trainer};
use spikelab::{Error, Result};
use std::path::{Path, PathBuf};

pub struct TrainOptions {
    pub overrides: Overrides,
    pub out: Option<PathBuf>,
    pub json: bool,
}

const CHECKPOINT: &str = "checkpoint.safetensors";
const METRICS: &str = "metrics.jsonl";
/// The trainer's state after the epoch of highest test accuracy (`[noise_test] best_epoch`).
const BEST_EPOCH: &str = "best-epoch.safetensors";

/// The epoch of highest test accuracy so far, with the state it left.
struct BestEpoch {
    epoch: usize,
    accuracy: f64,
    state: Checkpoint,
}

impl BestEpoch {
    /// The best epoch a resumed run had reached, from its run folder.
    fn resumed(out: &Path, history: &[serde_json::Value]) -> Result<Option<BestEpoch>> {
        let path = out.join(BEST_EPOCH);
        if history.is_empty() {
            return Ok(None);
        }
        if !path.exists() {
            return Err(Error::Other(format!(
                "{} is missing, so the best epoch of the epochs already trained is unknown; \
                 resume without [noise_test] best_epoch or train the run again",
                path.display()
            )));
        }
        let state = Checkpoint::load(&path)?;
        let epoch = state.epoch();
        let accuracy = history.get(epoch.wrapping_sub(1)).and_then(|h| h["test_accuracy"].as_f64());
        let accuracy = accuracy.ok_or_else(|| Error::format(&path, 0, format!("epoch {epoch} is not in {METRICS}")))?;
        Ok(Some(BestEpoch { epoch, accuracy, state }))
    }
}

/// Synthetic training samples when the config sets no `train_limit`.
const SYNTHETIC_BATCHES: usize = 10;

/// The config's data; `classes` (the model's output count) labels synthetic data.
pub(crate) fn load_data(config: &RunConfig, classes: usize) -> Result<Split> {
    if config.data.dataset == DatasetName::Synthetic {
        let (shape, pixels) = (&config.model.input, config.data.pixels.unwrap_or_default());
        let train_n = config.data.train_limit.unwrap_or(SYNTHETIC_BATCHES * config.train.batch_size);
        let test_n = config.data.test_limit.unwrap_or(config.train.batch_size);
        let seed = config.train.seed;
        return Ok(Split { train: synthetic("synthetic train", shape, train_n, classes, pixels, seed)?, test: synthetic("synthetic test", shape, test_n, classes, pixels, seed ^ 1)? });
    }
    let mut split = load(config.data.dataset, config.data.data_dir.as_deref())?;
    if let Some(n) = config.data.train_limit {
        split.train.truncate(n);
    }
    if let Some(n) = config.data.test_limit {
        split.test.truncate(n);
    }
    Ok(split)
}

/// Prints a status line: to stderr, so stdout keeps only results.
fn status(message: String) {
    eprintln!("{message}");
}

/// Checks a training config without data or training (`spikelab check`): its keys, its
/// settings, that its model builds and the trainer accepts it. Returns a one-line summary.
pub fn check(text: &str, origin: &str) -> Result<String> {
    let config = RunConfig::parse(text, origin)?;
    let net = Sequential::from_spec(&config.model, config.train.seed)?;
    let parameters = net.parameter_count();
    Trainer::new(net, config.train.clone())?;
    Ok(format!("{parameters} parameters, {} epochs", config.train.epochs))
}

pub fn train(config_path: Option<&Path>, options: &TrainOptions, resume: bool) -> Result<()> {
    let checkpoint_path = options.out.as_ref().map(|d| d.join(CHECKPOINT));
    let resumed = if resume {
        let path = checkpoint_path.as_ref().expect("clap requires --out with --resume");
        Some(Checkpoint::load(path)?)
    } else {
        None
    };
    let mut config = match (&resumed, config_path) {
        // A resumed run continues the run it saved; only overrides (e.g. more epochs) apply.
        (Some(ckpt), file) => {
            let saved = RunConfig::parse(ckpt.config(), "checkpoint config")?;
            if let Some(path) = file {
                if !RunConfig::load(path)?.same_run_as(&saved) {
                    return Err(Error::Other(format!(
                        "{} differs from the config the checkpoint was trained with (see config.toml in the run folder); \
                         --resume continues that run, so give the same file or none",
                        path.display()
                    )));
                }
            }
            saved
        }
        (None, Some(path)) => RunConfig::load(path)?,
        (None, None) => RunConfig::parse(DEFAULT_CONFIG, "built-in default config")?,
    };
    options.overrides.apply(&mut config)?;
    let net = Sequential::from_spec(&config.model, config.train.seed)?;
    let split = load_data(&config, net.output_shape().iter().product())?;
    let mut trainer = Trainer::new(net, config.train.clone())?;
    let mut history: Vec<serde_json::Value> = Vec::new();
    if let Some(ckpt) = &resumed {
        ckpt.restore(&mut trainer)?;
        history = read_history(options.out.as_ref().unwrap(), trainer.epochs_done);
        status(format!("resuming after epoch {} of {}", trainer.epochs_done, config.train.epochs));
    }
    if let Some(out) = &options.out {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        write_atomic(&out.join("config.toml"), config.to_toml().as_bytes())?;
    }
    status(format!(
        "training {} parameters on {} ({} train / {} test samples), T = {}, batch {}",
        trainer.net.parameter_count(),
        config.data.dataset.as_str(),
        split.train.len(),
        split.test.len(),
        config.train.time_steps,
        config.train.batch_size
    ));
    let eval_batch = config.data.eval_batch_size.unwrap_or(config.train.batch_size);
    let (mut train_seconds, mut trained) = (0.0, 0usize);
    let mut last_eval: Option<EvalReport> = None;
    let epochs = config.train.epochs;
    let keep_best = config.noise_test.as_ref().is_some_and(|t| t.best_epoch);
    let mut best = match (&options.out, keep_best && resumed.is_some()) {
        (Some(out), true) => BestEpoch::resumed(out, &history)?,
        _ => None,
    };
    while trainer.epochs_done < epochs {
        let bar = EpochProgress::start(trainer.epochs_done + 1, epochs, split.train.len());
        let result = trainer.train_epoch(&split.train, |p| bar.update(p.samples_done, p.loss));
        bar.finish();
        let epoch = match result {
            Ok(e) => e,
            Err(e @ Error::NonFinite(_)) => {
                let kept = match &checkpoint_path {
                    Some(p) if p.exists() => format!("; the last good checkpoint is kept at {}", p.display()),
                    _ => String::new(),
                };
                return Err(Error::NonFinite(format!("{e}{kept}")));
            }
            Err(e) => return Err(e),
        };
        train_seconds += epoch.seconds;
        trained += epoch.samples;
        let eval = trainer.evaluate(&split.test, eval_batch)?;
        status(format!(
            "epoch {}/{}: train loss {:.4}, train acc {:.2}%, test acc {:.2}%, {:.1} s ({:.0} samples/s)",
            epoch.epoch,
            epochs,
            epoch.train_loss,
            100.0 * epoch.train_accuracy,
            100.0 * eval.accuracy,
            epoch.seconds,
            epoch.samples as f64 / epoch.seconds
        ));
        history.push(json!({
            "epoch": epoch.epoch, "train_loss": epoch.train_loss, "train_accuracy": epoch.train_accuracy,
            "test_loss": eval.loss, "test_accuracy": eval.accuracy, "lr": epoch.lr, "seconds": epoch.seconds,
        }));
        // The first epoch of the highest accuracy wins, as numpy's argmax in the reference.
        let improved = keep_best
            && match &best {
                Some(b) => eval.accuracy > b.accuracy,
                None => true,
            };
        // One capture serves the run's checkpoint and the best epoch's state.
        let state = (improved || options.out.is_some()).then(|| Checkpoint::capture(&trainer, &config.to_toml()));
        if let (Some(out), Some(state)) = (&options.out, &state) {
            let lines: String = history.iter().map(|h| format!("{h}\n")).collect();
            write_atomic(&out.join(METRICS), lines.as_bytes())?;
            let bytes = state.to_bytes()?;
            write_atomic(&out.join(CHECKPOINT), &bytes)?;
            if improved {
                write_atomic(&out.join(BEST_EPOCH), &bytes)?;
            }
        }
        if improved {
            let state = state.expect("captured for an improved epoch");
            best = Some(BestEpoch { epoch: epoch.epoch, accuracy: eval.accuracy, state });
        }
        last_eval = Some(eval);
    }
    // The final figures: a fresh test pass, with the machine's energy counter around it.
    let meter = PowercapMeter::start();
    let eval = match last_eval {
        Some(e) if meter.is_none() => e,
        _ => trainer.evaluate(&split.test, eval_batch)?,
    };
    let measured = meter.and_then(|m| m.joules());
    let noise = match &config.noise_test {
        Some(test) => {
            status(format!("noise test: {} levels over {} test samples", test.levels.len(), split.test.len()));
            Some(report::NoiseReport::new(&test.levels, trainer.noise_test(&split.test, eval_batch, test)?, split.test.len()))
        }
        None => None,
    };
    let best_epoch = match (&config.noise_test, best, &noise) {
        (Some(test), Some(best), Some(last_noise)) => {
            let noise_test = if best.epoch == trainer.epochs_done {
                last_noise.clone()
            } else {
                status(format!("noise test of epoch {}, the one of highest test accuracy", best.epoch));
                let last = Checkpoint::capture(&trainer, "");
                best.state.restore(&mut trainer)?;
                let correct = trainer.noise_test(&split.test, eval_batch, test)?;
                last.restore(&mut trainer)?;
                report::NoiseReport::new(&test.levels, correct, split.test.len())
            };
            Some(report::BestEpochReport { epoch: best.epoch, test_accuracy: best.accuracy, noise_test })
        }
        _ => None,
    };
    let mut summary = report::RunReport::new(
        config.data.dataset.as_str(),
        &eval,
        &trainer.net.spiking_layer_names(),
        trainer.epochs_done,
        train_seconds,
        trained,
        trainer.net.parameter_count(),
        trainer.peak_saved_bytes,
        measured,
    );
    summary.noise_test = noise;
    summary.best_epoch = best_epoch;
    if let Some(out) = &options.out {
        write_outputs(out, &mut trainer, &split, &history, &summary)?;
    }
    finish(&summary, options.json)
}

fn finish(summary: &RunReport, json: bool) -> Result<()> {
    if json {
        eprint!("{}", summary.human());
        println!("{}", serde_json::to_string(summary).expect("report serialises"));
    } else {
        print!("{}", summary.human());
    }
    Ok(())
}

/// Metric lines of the epochs a checkpoint covers (later lines belong to a run that crashed).
fn read_history(out: &Path, epochs_done: usize) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join(METRICS)).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).take(epochs_done).collect()
}

fn write_outputs(out: &Path, trainer: &mut Trainer, split: &Split, history: &[serde_json::Value], summary: &RunReport) -> Result<()> {
    let series = |key: &str| history.iter().map(|h| h[key].as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>();
    let curves = plot::Curves { train_loss: series("train_loss"), test_loss: series("test_loss"), train_accuracy: series("train_accuracy"), test_accuracy: series("test_accuracy") };
    plot::training_curves(&curves, &out.join("curve"))?;
    let raster = trainer.record_sample(&split.test, 0)?;
    plot::spike_raster(&raster, split.test.labels[0], &out.join("raster"))?;
    let json = serde_json::to_string_pretty(summary).expect("report serialises");
    write_atomic(&out.join("report.json"), json.as_bytes())
}

pub fn eval(checkpoint: &Path, data_dir: Option<PathBuf>, json: bool) -> Result<()> {
    let ckpt = Checkpoint::load(checkpoint)?;
    let mut config = RunConfig::parse(ckpt.config(), &format!("{} (config)", checkpoint.display()))?;
    Overrides { data_dir, ..Default::default() }.apply(&mut config)?;
    let net = Sequential::from_spec(&config.model, config.train.seed)?;
    let split = load_data(&config, net.output_shape().iter().product())?;
    let mut trainer = Trainer::new(net, config.train.clone())?;
    ckpt.restore(&mut trainer)?;
    let meter = PowercapMeter::start();
    let eval = trainer.evaluate(&split.test, config.data.eval_batch_size.unwrap_or(config.train.batch_size))?;
    let summary =
        RunReport::new(config.data.dataset.as_str(), &eval, &trainer.net.spiking_layer_names(), trainer.epochs_done, 0.0, 0, trainer.net.parameter_count(), 0, meter.and_then(|m| m.joules()));
    finish(&summary, json)
}
