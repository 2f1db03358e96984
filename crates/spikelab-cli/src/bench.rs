//! `spikelab bench train`: training throughput and peak memory of one config, the figures the
//! peer comparison (`bench/peers/`) sets against snnTorch, SpikingJelly and Norse.

use crate::commands::load_data;
use crate::config::{Overrides, RunConfig};
use crate::host::Host;
use crate::report::process_memory;
use serde::Serialize;
use spikelab::nn::Sequential;
use spikelab::tensor::measure_gemm_gflops;
use spikelab::train::Trainer;
use spikelab::{Error, Result};
use std::path::Path;

pub struct BenchOptions {
    pub overrides: Overrides,
    /// Timed batches (default: the config's `[bench] batches`).
    pub batches: Option<usize>,
    pub json: bool,
}

#[derive(Serialize)]
struct BenchReport {
    config: String,
    samples_per_second: f64,
    seconds: f64,
    samples: usize,
    batch: usize,
    time_steps: usize,
    threads: usize,
    /// Peak resident memory of the whole process (`VmHWM`), data and warm-up included.
    peak_rss_bytes: u64,
    /// Resident memory after the data was made and before the network was built.
    baseline_rss_bytes: u64,
    /// Most bytes the layers held for backward at once.
    peak_backward_bytes: usize,
    /// Training FLOPs per second had every synaptic product been dense.
    dense_equivalent_gflops: f64,
    /// This machine's dense single-precision GEMM rate on the same threads.
    gemm_gflops: f64,
    /// `dense_equivalent_gflops / gemm_gflops`: above 1 means faster than dense work allows.
    fraction_of_gemm: f64,
    parameters: usize,
    host: Host,
}

pub fn bench_train(config_path: &Path, options: &BenchOptions) -> Result<()> {
    let mut config = RunConfig::load(config_path)?;
    options.overrides.apply(&mut config)?;
    let mut bench = config.bench.unwrap_or_default();
    if let Some(b) = options.batches {
        if b == 0 {
            return Err(Error::config("--batches", "must be at least 1"));
        }
        bench.batches = b;
    }
    let batch = config.train.batch_size;
    let (warm_n, timed_n) = (bench.warmup * batch, bench.batches * batch);
    // Load only what is timed, within the config's own limit.
    let need = warm_n + timed_n;
    config.data.train_limit = Some(config.data.train_limit.unwrap_or(need).min(need));
    config.data.test_limit = Some(1);
    let net = Sequential::from_spec(&config.model, config.train.seed)?;
    let data = load_data(&config, net.output_shape().iter().product())?.train;
    if data.len() < need {
        return Err(Error::Other(format!("{}: {} training samples, but {} warm-up and {} timed batches of {batch} need {}", config_path.display(), data.len(), bench.warmup, bench.batches, need)));
    }
    let (warm, timed) = (data.slice(0, warm_n), data.slice(warm_n, timed_n));
    drop(data);
    let baseline_rss_bytes = process_memory("VmRSS")?;
    let flops_per_step = net.dense_training_flops_per_step();
    let parameters = net.parameter_count();
    let mut trainer = Trainer::new(net, config.train.clone())?;
    if !warm.is_empty() {
        trainer.train_epoch(&warm, |_| {})?;
    }
    let epoch = trainer.train_epoch(&timed, |_| {})?;
    // Read before the GEMM measurement, whose buffers would count otherwise.
    let peak_rss_bytes = process_memory("VmHWM")?;
    let gemm_gflops = measure_gemm_gflops(1024, 5);
    let samples_per_second = epoch.samples as f64 / epoch.seconds;
    let dense_equivalent_gflops = samples_per_second * (flops_per_step * config.train.time_steps as u64) as f64 / 1e9;
    let report = BenchReport {
        config: config_path.display().to_string(),
        samples_per_second,
        seconds: epoch.seconds,
        samples: epoch.samples,
        batch,
        time_steps: config.train.time_steps,
        threads: rayon::current_num_threads(),
        peak_rss_bytes,
        baseline_rss_bytes,
        peak_backward_bytes: trainer.peak_saved_bytes,
        dense_equivalent_gflops,
        gemm_gflops,
        fraction_of_gemm: dense_equivalent_gflops / gemm_gflops,
        parameters,
        host: Host::current(),
    };
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let human = format!(
        "{}: {:.1} samples/s ({} samples in {:.2} s, T = {}, batch {batch}, {} threads)\n\
         peak RSS {:.1} MiB (baseline {:.1} MiB), backward state {:.1} MiB\n\
         dense-equivalent {:.1} GFLOP/s = {:.2}× this machine's GEMM rate ({:.1} GFLOP/s)\n",
        report.config,
        report.samples_per_second,
        report.samples,
        report.seconds,
        report.time_steps,
        report.threads,
        mib(peak_rss_bytes),
        mib(baseline_rss_bytes),
        mib(report.peak_backward_bytes as u64),
        dense_equivalent_gflops,
        report.fraction_of_gemm,
        gemm_gflops
    );
    crate::report::emit(&report, &human, options.json);
    Ok(())
}
