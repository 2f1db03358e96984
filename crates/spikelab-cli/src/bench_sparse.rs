//! `spikelab bench sparse`: per-sample inference time of a weight-sparse layer with k-winners
//! input — dense, plain sparse storage and complementary packing (per-group partitions routed
//! product by product, and block-shared partitions routed a vector at a time), sparse-dense and
//! sparse-sparse — over weight densities, as ratios to the dense layer measured in the same run.
//! Default shape: the Sparse CNN-2 hidden layer (1024 → 700, 450 of 1024 inputs active at
//! inference: k = 300 × the k-inference factor 1.5).

use crate::host::Host;
use crate::report::emit;
use serde::Serialize;
use spikelab::nn::{MaskKind, WeightMask};
use spikelab::rng::Rng;
use spikelab::tensor::{matmul, zero_skipping_matmul, PackedKernels, SparseRows, Transpose};
use spikelab::{Error, Result};
use std::time::Instant;

pub struct SparseBenchOptions {
    pub inputs: usize,
    pub units: usize,
    pub active: usize,
    pub densities: Vec<f32>,
    pub json: bool,
}

#[derive(Serialize)]
struct Row {
    /// Fraction of weights kept per unit.
    kept_weights: f32,
    /// Units packed per group (⌊1 / kept⌋).
    members: usize,
    /// Microseconds per sample. "blocks": the mask kind `complementary-blocks`, whose packed
    /// rows route whole vectors; "packed": per-group partitions, routed product by product.
    blocks_sparse_sparse_us: f64,
    blocks_sparse_dense_us: f64,
    packed_sparse_sparse_us: f64,
    plain_sparse_sparse_us: f64,
    packed_sparse_dense_us: f64,
    plain_sparse_dense_us: f64,
    /// Dense time / each time.
    speedup_blocks_sparse_sparse: f64,
    speedup_blocks_sparse_dense: f64,
    speedup_packed_sparse_sparse: f64,
    speedup_plain_sparse_sparse: f64,
    speedup_packed_sparse_dense: f64,
    speedup_plain_sparse_dense: f64,
    blocks_bytes: usize,
    packed_bytes: usize,
    plain_bytes: usize,
}

#[derive(Serialize)]
struct SparseBenchReport {
    inputs: usize,
    units: usize,
    active_inputs: usize,
    /// Dense layer, one sample at a time (the GEMM call `Linear` makes, one row), µs per sample.
    dense_us: f64,
    /// Dense layer over a batch of 64 samples, µs per sample (for reference).
    dense_batch64_us: f64,
    /// Dense weights, only the active inputs' rows (activation sparsity alone), µs per sample.
    dense_weights_active_inputs_us: f64,
    threads: usize,
    rows: Vec<Row>,
    host: Host,
}

/// Median over 7 rounds of the time per call of `f` (each round ~20 ms), in microseconds.
fn time_per_call(mut f: impl FnMut(usize)) -> f64 {
    let mut calls = 1;
    loop {
        let start = Instant::now();
        (0..calls).for_each(&mut f);
        if start.elapsed().as_secs_f64() > 0.02 {
            break;
        }
        calls *= 2;
    }
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            (0..calls).for_each(&mut f);
            start.elapsed().as_secs_f64() * 1e6 / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[3]
}

pub fn bench_sparse(o: &SparseBenchOptions) -> Result<()> {
    if o.active == 0 || o.active > o.inputs || o.units == 0 {
        return Err(Error::config("--active", format!("needs 1 ≤ active ≤ inputs ({}) and units ≥ 1", o.inputs)));
    }
    let mut rng = Rng::new(7);
    // 64 different samples, cycled, so no single input stays in cache.
    const SAMPLES: usize = 64;
    let inputs: Vec<(Vec<u32>, Vec<f32>, Vec<f32>)> = (0..SAMPLES)
        .map(|_| {
            let mut order: Vec<u32> = (0..o.inputs as u32).collect();
            rng.shuffle(&mut order);
            let mut active = order[..o.active].to_vec();
            active.sort_unstable();
            let values: Vec<f32> = active.iter().map(|_| rng.uniform() + 0.1).collect();
            let mut dense = vec![0.0f32; o.inputs];
            active.iter().zip(&values).for_each(|(&i, &v)| dense[i as usize] = v);
            (active, values, dense)
        })
        .collect();
    let dense_w: Vec<f32> = (0..o.inputs * o.units).map(|_| rng.uniform() - 0.5).collect();
    let mut out = vec![0.0f32; o.units];
    let dense_us = time_per_call(|c| {
        let x = &inputs[c % SAMPLES].2;
        matmul(x, Transpose::No, &dense_w, Transpose::No, &mut out, (1, o.units, o.inputs), false, true);
    });
    let active_rows_us = time_per_call(|c| {
        out.fill(0.0);
        zero_skipping_matmul(&inputs[c % SAMPLES].2, o.inputs, &dense_w, &mut out, o.units);
    });
    let batch: Vec<f32> = inputs.iter().flat_map(|s| s.2.iter().copied()).collect();
    let mut batch_out = vec![0.0f32; SAMPLES * o.units];
    let dense_batch64_us = time_per_call(|_| matmul(&batch, Transpose::No, &dense_w, Transpose::No, &mut batch_out, (SAMPLES, o.units, o.inputs), false, true)) / SAMPLES as f64;
    let mut rows = Vec::new();
    for &kept in &o.densities {
        let mask = WeightMask::new(o.units, o.inputs, kept, MaskKind::Complementary, &mut rng, "--densities")?;
        let members = o.inputs / WeightMask::kept_count(kept, o.inputs);
        let dense = mask.dense();
        let w: Vec<f32> = (0..o.inputs * o.units).map(|p| dense[(p % o.units) * o.inputs + p / o.units] * (rng.uniform() - 0.5)).collect();
        let packed = PackedKernels::pack(&w, o.inputs, &mask.kept, members)?;
        let plain = SparseRows::new(&w, o.inputs, &mask.kept)?;
        let block_mask = WeightMask::new(o.units, o.inputs, kept, MaskKind::ComplementaryBlocks, &mut rng, "--densities")?;
        let block_dense = block_mask.dense();
        let bw: Vec<f32> = (0..o.inputs * o.units).map(|p| block_dense[(p % o.units) * o.inputs + p / o.units] * (rng.uniform() - 0.5)).collect();
        let blocks = PackedKernels::pack(&bw, o.inputs, &block_mask.kept, members)?;
        let mut scratch = Vec::new();
        let blocks_ss = time_per_call(|c| blocks.forward_sparse(&inputs[c % SAMPLES].0, &inputs[c % SAMPLES].1, &mut out, &mut scratch));
        let blocks_sd = time_per_call(|c| blocks.forward_dense(&inputs[c % SAMPLES].2, &mut out, &mut scratch));
        let packed_ss = time_per_call(|c| packed.forward_sparse(&inputs[c % SAMPLES].0, &inputs[c % SAMPLES].1, &mut out, &mut scratch));
        let plain_ss = time_per_call(|c| plain.forward_sparse(&inputs[c % SAMPLES].0, &inputs[c % SAMPLES].1, &mut out));
        let packed_sd = time_per_call(|c| packed.forward_dense(&inputs[c % SAMPLES].2, &mut out, &mut scratch));
        let plain_sd = time_per_call(|c| plain.forward_dense(&inputs[c % SAMPLES].2, &mut out));
        rows.push(Row {
            kept_weights: kept,
            members,
            blocks_sparse_sparse_us: blocks_ss,
            blocks_sparse_dense_us: blocks_sd,
            packed_sparse_sparse_us: packed_ss,
            plain_sparse_sparse_us: plain_ss,
            packed_sparse_dense_us: packed_sd,
            plain_sparse_dense_us: plain_sd,
            speedup_blocks_sparse_sparse: dense_us / blocks_ss,
            speedup_blocks_sparse_dense: dense_us / blocks_sd,
            speedup_packed_sparse_sparse: dense_us / packed_ss,
            speedup_plain_sparse_sparse: dense_us / plain_ss,
            speedup_packed_sparse_dense: dense_us / packed_sd,
            speedup_plain_sparse_dense: dense_us / plain_sd,
            blocks_bytes: blocks.storage_bytes(),
            packed_bytes: packed.storage_bytes(),
            plain_bytes: plain.storage_bytes(),
        });
    }
    let report = SparseBenchReport {
        inputs: o.inputs,
        units: o.units,
        active_inputs: o.active,
        dense_us,
        dense_batch64_us,
        dense_weights_active_inputs_us: active_rows_us,
        threads: rayon::current_num_threads(),
        rows,
        host: Host::current(),
    };
    let mut human = format!(
        "{} → {} layer, {} of {} inputs active; dense {:.2} µs/sample (batch of 64: {:.2} µs/sample; dense weights, active inputs only: {:.2} µs = {:.2}×), {} threads\n\
         kept   N   speed-up vs dense (time µs): blocks s-s     blocks s-d     packed s-s     plain s-s      packed s-d     plain s-d\n",
        o.inputs,
        o.units,
        o.active,
        o.inputs,
        dense_us,
        dense_batch64_us,
        active_rows_us,
        dense_us / active_rows_us,
        report.threads
    );
    for r in &report.rows {
        human.push_str(&format!(
            "{:<6} {:<3} {:>32.2}× ({:>5.1}) {:>6.2}× ({:>5.1}) {:>6.2}× ({:>5.1}) {:>6.2}× ({:>5.1}) {:>6.2}× ({:>5.1}) {:>6.2}× ({:>5.1})\n",
            r.kept_weights,
            r.members,
            r.speedup_blocks_sparse_sparse,
            r.blocks_sparse_sparse_us,
            r.speedup_blocks_sparse_dense,
            r.blocks_sparse_dense_us,
            r.speedup_packed_sparse_sparse,
            r.packed_sparse_sparse_us,
            r.speedup_plain_sparse_sparse,
            r.plain_sparse_sparse_us,
            r.speedup_packed_sparse_dense,
            r.packed_sparse_dense_us,
            r.speedup_plain_sparse_dense,
            r.plain_sparse_dense_us
        ));
    }
    emit(&report, &human, o.json);
    Ok(())
}
