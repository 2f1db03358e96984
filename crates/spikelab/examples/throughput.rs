//! Training throughput of the baseline config, for comparison with the peer libraries
//! (bench/peers/throughput.py runs the same network on the same kind of input):
//! 784-800-10 LIF (leak 0.9 per step, soft reset, threshold 1, arctan surrogate),
//! T = 25, batch 128, Bernoulli input spikes of probability 0.2, Adam, cross-entropy on rate.
//!
//!     cargo run --release --example throughput -- [batches] [time_steps] [batch] [rate]
//!
//! Prints one JSON line: samples per second over the timed batches (after 2 warm-up batches),
//! encoding of the input spikes included.

use spikelab::data::{Dataset, Encoder};
use spikelab::nn::{LayerSpec, ModelSpec, NeuronSpec, ResetSpec, Sequential};
use spikelab::train::{Loss, OptimizerSpec, Schedule, TrainSettings, Trainer};
use std::time::Instant;

// As the `spikelab` binary: large per-batch buffers are reused instead of unmapped.
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

fn main() -> spikelab::Result<()> {
    keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (batches, steps, batch, rate) = (arg(0, 20.0) as usize, arg(1, 25.0) as usize, arg(2, 128.0) as usize, arg(3, 0.2) as f32);
    let warmup = 2;
    // Uniform images of intensity `rate` through the rate encoder (max rate 1) are exactly
    // Bernoulli(rate) spikes, fresh for every sample and step.
    let level = (rate * 255.0).round() as u8;
    let samples = batch * (batches + warmup);
    let data = Dataset {
        name: "bernoulli".into(),
        images: vec![level; samples * 784],
        labels: (0..samples).map(|i| (i * 7 % 10) as u8).collect(),
        sample_shape: vec![784],
        classes: 10,
    };
    let lif = LayerSpec::Lif(NeuronSpec { decay: Some(0.9), reset: Some(ResetSpec::Subtract), ..Default::default() });
    let spec = ModelSpec {
        input: vec![784],
        layers: vec![LayerSpec::Linear { out: 800, bias: true }, lif.clone(), LayerSpec::Linear { out: 10, bias: true }, lif],
    };
    let settings = TrainSettings {
        epochs: 1,
        batch_size: batch,
        time_steps: steps,
        seed: 1,
        loss: Loss::RateCe,
        optimizer: OptimizerSpec::default(),
        schedule: Schedule::Constant,
        encoder: Encoder::Rate { max_rate: 1.0 },
    };
    let mut trainer = Trainer::new(Sequential::from_spec(&spec, 1)?, settings)?;
    let mut warm = data.clone();
    warm.truncate(batch * warmup);
    trainer.train_epoch(&warm, |_| {})?;
    let mut timed = data;
    timed.images.drain(..batch * warmup * 784);
    timed.labels.drain(..batch * warmup);
    let start = Instant::now();
    trainer.train_epoch(&timed, |_| {})?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"library\": \"spikelab\", \"samples_per_second\": {:.1}, \"seconds\": {seconds:.3}, \"samples\": {}, \"threads\": {}, \"time_steps\": {steps}, \"batch\": {batch}, \"rate\": {rate}}}",
        timed.len() as f64 / seconds,
        timed.len(),
        rayon::current_num_threads()
    );
    Ok(())
}
