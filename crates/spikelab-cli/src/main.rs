//! The `spikelab` command: train networks, evaluate checkpoints, run experiment configs.
//!
//! Errors end the program with one line on stderr (`error: …`) and exit status 1; a run's
//! figures go to stdout, and with `--json` the last stdout line is one JSON object.

mod bench;
mod bench_sparse;
mod commands;
mod compare;
mod config;
mod continual;
mod host;
mod local;
mod merge;
mod plot;
mod progress;
mod report;
mod simulation;

use clap::{Args, Parser, Subcommand};
use spikelab::data::DatasetName;
use std::path::PathBuf;

// Cache-line-aligned large blocks for the kernels, freed memory kept for the next batch
// (see spikelab::alloc).
#[global_allocator]
static GLOBAL: spikelab::alloc::SpikelabAllocator = spikelab::alloc::SpikelabAllocator;

#[derive(Parser)]
#[command(name = "spikelab", version, about = "Brain-inspired computing engine: train, simulate and measure spiking networks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network (default: a LIF network on the embedded MNIST subset).
    Train {
        /// Experiment config (TOML); default: experiments/embedded-default.toml, built in.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        common: RunArgs,
        /// Continue the run saved in --out from its last checkpoint.
        #[arg(long, requires = "out")]
        resume: bool,
    },
    /// Run an experiment config from experiments/.
    Run {
        file: PathBuf,
        #[command(flatten)]
        common: RunArgs,
        #[arg(long, requires = "out")]
        resume: bool,
    },
    /// Simulate a network or run a single-neuron experiment (a config with task = "network",
    /// "tvlif2hh-vs-hh", "hh-accuracy" or "slif2hh-waveforms").
    Sim {
        #[arg(long)]
        config: PathBuf,
        /// Write report.json and the recorded spikes and state variables as plots and CSV (networks).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Measure throughput and memory (`bench train --config FILE`).
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Compare the training cost of sbp reports (report.json or saved --json output) over
    /// their joint error levels, and print the ratio first / second with the 95 % interval of
    /// 2,000 bootstrap resamplings of each report's seeds. Reports past the second (up to six in
    /// all) join the levels, as the paper's group of methods did, and are costed over them.
    Compare {
        #[arg(required = true, num_args = 2.., value_name = "REPORT")]
        reports: Vec<PathBuf>,
        /// Measure the error as 1 − the mean cosine of outputs with targets (the reference's
        /// NETtalk score) instead of the nearest-code error.
        #[arg(long)]
        cosine: bool,
        #[arg(long)]
        json: bool,
        /// Write compare.json and the accuracy curves with the cost bars (cost.png, cost.svg) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge reports of one sbp config run over different seeds (report.json or saved --json
    /// output) into the report of all their seeds, read as one multi-seed run. Fields only some
    /// reports have are refused; fields none has (the released code's reports: cosines, times,
    /// operation counts) are left out.
    Merge {
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Write the merged report.json and accuracy curves here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check experiment configs without running them: their keys and values, and that their
    /// networks build (no data are read). One line per file; exit status 1 if any fails.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Evaluate a checkpoint on the test split of its data set.
    Eval {
        #[arg(long)]
        checkpoint: PathBuf,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Training throughput (samples/s) and peak memory of a config, e.g. bench/configs/*.toml.
    Train {
        #[arg(long)]
        config: PathBuf,
        /// Timed batches (default: the config's [bench] batches, or 20).
        #[arg(long)]
        batches: Option<usize>,
        #[command(flatten)]
        common: RunArgs,
    },
    /// Inference time of a weight-sparse layer with k-winners input: dense, plain sparse and
    /// complementary-packed weights, over weight densities (default: the Sparse CNN-2 hidden layer).
    Sparse {
        #[arg(long, default_value_t = 1024)]
        inputs: usize,
        #[arg(long, default_value_t = 700)]
        units: usize,
        /// Inputs active per sample (the k-winners output).
        #[arg(long, default_value_t = 450)]
        active: usize,
        /// Fractions of weights kept.
        #[arg(long, value_delimiter = ',', default_value = "0.5,0.3,0.2,0.1,0.05")]
        kept: Vec<f32>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Clone)]
struct RunArgs {
    #[arg(long, value_enum)]
    dataset: Option<DatasetArg>,
    /// Directory with MNIST/Fashion-MNIST files (default: $SPIKELAB_DATA).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    time_steps: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results are identical for a fixed count.
    #[arg(long)]
    threads: Option<usize>,
    /// Runs over several seeds (local-learning tasks): the first N seeds of the config.
    #[arg(long)]
    seeds: Option<usize>,
    /// Write config, metrics, checkpoint and plots here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the final figures as one JSON object on the last stdout line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum DatasetArg {
    Embedded,
    Mnist,
    FashionMnist,
    Synthetic,
}

impl From<DatasetArg> for DatasetName {
    fn from(d: DatasetArg) -> Self {
        match d {
            DatasetArg::Embedded => DatasetName::Embedded,
            DatasetArg::Mnist => DatasetName::Mnist,
            DatasetArg::FashionMnist => DatasetName::FashionMnist,
            DatasetArg::Synthetic => DatasetName::Synthetic,
        }
    }
}

fn set_threads(threads: Option<usize>) -> spikelab::Result<()> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(spikelab::Error::config("--threads", "must be at least 1"));
        }
        builder = builder.num_threads(n);
    }
    builder.build_global().map_err(|e| spikelab::Error::Other(format!("thread pool: {e}")))
}

/// The `task` key of a config file's text ("" when absent or unreadable; the config's own
/// parser reports the error then).
fn task_of(text: &str) -> String {
    toml::from_str::<toml::Table>(text).ok().and_then(|t| t.get("task").and_then(|v| v.as_str().map(str::to_string))).unwrap_or_default()
}

/// `spikelab check` for one file: the summary line of its task's check.
fn check_config(file: &std::path::Path) -> spikelab::Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| spikelab::Error::io(file, e))?;
    let task = task_of(&text);
    let summary = if simulation::handles(&task) {
        simulation::check(file, &text, &task)?
    } else if local::handles(&task) {
        local::check(file, &text)?
    } else if continual::handles(&task) {
        continual::check(file, &text)?
    } else {
        commands::check(&text, &file.display().to_string())?
    };
    Ok(format!("{task}: {summary}"))
}

fn run(cli: Cli) -> spikelab::Result<()> {
    match cli.command {
        Command::Train { config, common, resume } => {
            set_threads(common.threads)?;
            if common.seeds.is_some() {
                return Err(spikelab::Error::config("--seeds", "applies to local-learning tasks (spikelab run); training takes --seed"));
            }
            commands::train(config.as_deref(), &common.into(), resume)
        }
        Command::Run { file, common, resume } => {
            set_threads(common.threads)?;
            let text = std::fs::read_to_string(&file).map_err(|e| spikelab::Error::io(&file, e))?;
            let task = task_of(&text);
            if simulation::handles(&task) {
                if let Some(flag) = common.training_flag().or(resume.then_some("--resume")) {
                    return Err(spikelab::Error::config(flag, format!("does not apply to task \"{task}\"")));
                }
                return simulation::run(&file, &text, &task, common.json, common.out.as_deref());
            }
            if local::handles(&task) {
                let unsupported = [
                    ("--dataset", common.dataset.is_some()),
                    ("--batch-size", common.batch_size.is_some()),
                    ("--time-steps", common.time_steps.is_some()),
                    ("--seed", common.seed.is_some()),
                    ("--resume", resume),
                ];
                if let Some(flag) = first_given(unsupported) {
                    return Err(spikelab::Error::config(flag, format!("does not apply to task \"{task}\" (its seeds: --seeds N)")));
                }
                let options = local::LocalOptions { data_dir: common.data_dir, epochs: common.epochs, seeds: common.seeds, json: common.json, out: common.out };
                return local::run(&file, &text, &options);
            }
            if common.seeds.is_some() {
                return Err(spikelab::Error::config("--seeds", format!("does not apply to task \"{task}\" (use --seed)")));
            }
            if continual::handles(&task) {
                let unsupported = [
                    ("--dataset", common.dataset.is_some()),
                    ("--batch-size", common.batch_size.is_some()),
                    ("--time-steps", common.time_steps.is_some()),
                    ("--out", common.out.is_some()),
                    ("--resume", resume),
                ];
                if let Some(flag) = first_given(unsupported) {
                    return Err(spikelab::Error::config(flag, format!("does not apply to task \"{task}\"")));
                }
                let options = continual::ContinualOptions { data_dir: common.data_dir, seed: common.seed, epochs: common.epochs, json: common.json };
                return continual::run(&file, &text, &options);
            }
            commands::train(Some(&file), &common.into(), resume)
        }
        Command::Sim { config, out, json } => {
            let text = std::fs::read_to_string(&config).map_err(|e| spikelab::Error::io(&config, e))?;
            let task = task_of(&text);
            if !simulation::handles(&task) {
                return Err(spikelab::Error::config("task", format!("{}: \"{task}\" is not a simulation task (use `spikelab run` for training)", config.display())));
            }
            simulation::run(&config, &text, &task, json, out.as_deref())
        }
        Command::Bench { what: BenchCommand::Train { config, batches, common } } => {
            set_threads(common.threads)?;
            if common.out.is_some() {
                return Err(spikelab::Error::config("--out", "bench writes no files; it prints its figures (--json for one JSON line)"));
            }
            if common.seeds.is_some() {
                return Err(spikelab::Error::config("--seeds", "does not apply to bench"));
            }
            let options = bench::BenchOptions { overrides: common.overrides(), batches, json: common.json };
            bench::bench_train(&config, &options)
        }
        Command::Bench { what: BenchCommand::Sparse { inputs, units, active, kept, threads, json } } => {
            set_threads(Some(threads.unwrap_or(1)))?;
            bench_sparse::bench_sparse(&bench_sparse::SparseBenchOptions { inputs, units, active, densities: kept, json })
        }
        Command::Compare { reports, cosine, json, out } => compare::compare(&reports, cosine, json, out.as_deref()),
        Command::Merge { reports, json, out } => merge::merge(&reports, json, out.as_deref()),
        Command::Check { files } => {
            let mut failed = 0;
            for file in &files {
                match check_config(file) {
                    Ok(summary) => println!("ok      {}: {summary}", file.display()),
                    Err(e) => {
                        failed += 1;
                        let message = e.to_string();
                        let prefix = format!("{}: ", file.display());
                        println!("FAILED  {}: {}", file.display(), message.strip_prefix(&prefix).unwrap_or(&message));
                    }
                }
            }
            if failed > 0 {
                return Err(spikelab::Error::Other(format!("{failed} of {} configs failed the check", files.len())));
            }
            Ok(())
        }
        Command::Eval { checkpoint, data_dir, threads, json } => {
            set_threads(threads)?;
            commands::eval(&checkpoint, data_dir, json)
        }
    }
}

/// The first flag of `flags` that was given on the command line.
fn first_given<const N: usize>(flags: [(&'static str, bool); N]) -> Option<&'static str> {
    flags.into_iter().find_map(|(flag, given)| given.then_some(flag))
}

impl RunArgs {
    /// The first training-only flag given, if any.
    fn training_flag(&self) -> Option<&'static str> {
        first_given([
            ("--dataset", self.dataset.is_some()),
            ("--data-dir", self.data_dir.is_some()),
            ("--epochs", self.epochs.is_some()),
            ("--batch-size", self.batch_size.is_some()),
            ("--time-steps", self.time_steps.is_some()),
            ("--seed", self.seed.is_some()),
            ("--seeds", self.seeds.is_some()),
        ])
    }

    fn overrides(&self) -> config::Overrides {
        config::Overrides { dataset: self.dataset.map(Into::into), data_dir: self.data_dir.clone(), epochs: self.epochs, batch_size: self.batch_size, time_steps: self.time_steps, seed: self.seed }
    }
}

impl From<RunArgs> for commands::TrainOptions {
    fn from(a: RunArgs) -> Self {
        commands::TrainOptions { overrides: a.overrides(), out: a.out, json: a.json }
    }
}

fn main() {
    spikelab::alloc::keep_freed_memory();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
