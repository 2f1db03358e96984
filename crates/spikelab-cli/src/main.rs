//! The `spikelab` command: train networks, evaluate checkpoints, run experiment configs.
//!
//! Errors end the program with one line on stderr (`error: …`) and exit status 1; a run's
//! figures go to stdout, and with `--json` the last stdout line is one JSON object.

mod commands;
mod config;
mod plot;
mod progress;
mod report;

use clap::{Args, Parser, Subcommand};
use spikelab::data::DatasetName;
use std::path::PathBuf;

// Training allocates and frees buffers of megabytes every batch; glibc returns them to the OS
// and faults them back in (page clearing plus TLB-shootdown interrupts, about a quarter of
// the baseline config's time here). mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells mimalloc never to return freed pages to the OS: each batch frees and re-allocates the
/// same large buffers, and re-faulting them (zeroing 2 MB huge pages) cost ~9% of training time.
fn keep_freed_memory() {
    // `mi_option_purge_delay` (index 15 in mimalloc v2 and v3's `mi_option_e`; not named by the
    // Rust bindings); -1 means never purge.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a process-wide allocator option; valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

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
}

impl From<DatasetArg> for DatasetName {
    fn from(d: DatasetArg) -> Self {
        match d {
            DatasetArg::Embedded => DatasetName::Embedded,
            DatasetArg::Mnist => DatasetName::Mnist,
            DatasetArg::FashionMnist => DatasetName::FashionMnist,
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

fn run(cli: Cli) -> spikelab::Result<()> {
    match cli.command {
        Command::Train { config, common, resume } => {
            set_threads(common.threads)?;
            commands::train(config.as_deref(), &common.into(), resume)
        }
        Command::Run { file, common, resume } => {
            set_threads(common.threads)?;
            commands::train(Some(&file), &common.into(), resume)
        }
        Command::Eval { checkpoint, data_dir, threads, json } => {
            set_threads(threads)?;
            commands::eval(&checkpoint, data_dir, json)
        }
    }
}

impl From<RunArgs> for commands::TrainOptions {
    fn from(a: RunArgs) -> Self {
        commands::TrainOptions {
            overrides: config::Overrides {
                dataset: a.dataset.map(Into::into),
                data_dir: a.data_dir,
                epochs: a.epochs,
                batch_size: a.batch_size,
                time_steps: a.time_steps,
                seed: a.seed,
            },
            out: a.out,
            json: a.json,
        }
    }
}

fn main() {
    keep_freed_memory();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
