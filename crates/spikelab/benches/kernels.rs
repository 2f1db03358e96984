//! Criterion micro-benchmarks of every kernel, dense path against event path over spike
//! densities 0.01–0.7 (the event-path thresholds in `nn::linear` and `nn::conv` come from
//! these):
//!
//!     cargo bench -p spikelab --bench kernels [-- FILTER]
//!
//! Shapes are the benchmark configs' hottest layers: the 784 → 800 layer of mlp-small
//! (T·B = 3200 rows), its 800 → 10 readout, and conv's 32 → 64 3×3 convolution on 14×14
//! maps (64 images).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spikelab::neuron::{FireMode, Lif, NeuronModel, Reset};
use spikelab::nn::{Context, Conv2d, Layer, Linear, MaskKind, Mode, WeightMask};
use spikelab::rng::Rng;
use spikelab::tensor::{matmul, spike_matmul, spike_weight_grad, zero_skipping_matmul, Activation, PackedKernels, SparseRows, SpikeIndex, Spikes, Tensor, Transpose};
use std::time::Duration;

#[global_allocator]
static GLOBAL: spikelab::alloc::SpikelabAllocator = spikelab::alloc::SpikelabAllocator;

const DENSITIES: [f32; 7] = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7];

fn spikes(shape: &[usize], feature_axes: usize, density: f32, rng: &mut Rng) -> (Spikes, Vec<f32>) {
    let n = shape.iter().product();
    let dense: Vec<f32> = (0..n).map(|_| (rng.uniform() < density) as u8 as f32).collect();
    (Spikes::from_dense(&Tensor::from_vec(shape, dense.clone()).unwrap(), feature_axes), dense)
}

fn linear_products(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    for (rows, inputs, width) in [(3200usize, 784usize, 800usize), (3200, 800, 10)] {
        let w: Vec<f32> = (0..inputs * width).map(|_| rng.normal()).collect();
        let g: Vec<f32> = (0..rows * width).map(|_| rng.normal()).collect();
        let mut out = vec![0.0f32; rows * width];
        let mut gw = vec![0.0f32; inputs * width];
        let mut group = c.benchmark_group(format!("linear {rows}x{inputs}x{width}"));
        group.sample_size(10).throughput(Throughput::Elements((rows * inputs * width) as u64));
        for density in DENSITIES {
            let (s, x) = spikes(&[rows, inputs], 1, density, &mut rng);
            group.bench_function(BenchmarkId::new("forward gemm", density), |b| b.iter(|| matmul(&x, Transpose::No, &w, Transpose::No, &mut out, (rows, width, inputs), false, true)));
            group.bench_function(BenchmarkId::new("forward event", density), |b| b.iter(|| spike_matmul(&s, &w, &mut out, width)));
            group.bench_function(BenchmarkId::new("weight grad gemm", density), |b| b.iter(|| matmul(&x, Transpose::Yes, &g, Transpose::No, &mut gw, (inputs, width, rows), false, true)));
            // Training builds the index in the backward pass, so it is part of the figure.
            group.bench_function(BenchmarkId::new("weight grad event", density), |b| b.iter(|| spike_weight_grad(&SpikeIndex::new(&s), &g, &mut gw, width)));
        }
        group.finish();
    }
}

/// The layers end to end (forward + backward, as training runs them), each path forced by
/// its density threshold: mlp-small's hidden layer and readout, conv's second convolution.
fn layers(c: &mut Criterion) {
    let mut rng = Rng::new(2);
    let mut group = c.benchmark_group("layer train step");
    group.sample_size(10);
    for density in DENSITIES {
        // (name, layer with a given event threshold, input, whether its input gradient is needed)
        type Make = Box<dyn Fn(&mut Rng, f64) -> Box<dyn Layer>>;
        let linear = |i: usize, o: usize| -> Make {
            Box::new(move |r, t| {
                let mut l = Linear::new(i, o, true, r);
                l.event_density = t;
                Box::new(l)
            })
        };
        let conv: Make = Box::new(|r, t| {
            let mut c = Conv2d::new(32, 64, 3, 1, 1, true, r);
            c.event_density = t;
            Box::new(c)
        });
        let cases: [(&str, Make, Spikes, bool); 3] = [
            ("linear", linear(784, 800), spikes(&[25, 128, 784], 1, density, &mut rng).0, false),
            ("readout", linear(800, 10), spikes(&[25, 128, 800], 1, density, &mut rng).0, true),
            ("conv", conv, spikes(&[8, 8, 32, 14, 14], 3, density, &mut rng).0, true),
        ];
        for (name, make, input, input_grad) in cases {
            for (path, threshold) in [("gemm", 0.0), ("event", 1.1)] {
                let mut layer = make(&mut rng, threshold);
                group.bench_function(BenchmarkId::new(format!("{name} {path}"), density), |b| {
                    b.iter(|| {
                        let y = layer.forward(Activation::Spikes(input.clone()), &mut Context::new(Mode::Train, 0)).into_dense();
                        layer.backward(y, input_grad)
                    })
                });
            }
        }
    }
    group.finish();
}

/// The fused LIF kernels over all steps of a [T = 25, B = 128, 800] layer.
fn neurons(c: &mut Criterion) {
    let mut rng = Rng::new(3);
    let shape = [25, 128, 800];
    let x: Vec<f32> = (0..shape.iter().product()).map(|_| 0.3 * rng.normal() + 0.2).collect();
    let lif = Lif { reset: Reset::Subtract, ..Lif::new(10.0) };
    let mut group = c.benchmark_group("lif 25x128x800");
    group.sample_size(20).throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("forward", |b| b.iter(|| lif.forward(Tensor::from_vec(&shape, x.clone()).unwrap(), FireMode::Heaviside, false)));
    let (_, tape) = lif.forward(Tensor::from_vec(&shape, x.clone()).unwrap(), FireMode::Heaviside, true);
    let tape = tape.unwrap();
    group.bench_function("backward", |b| b.iter(|| lif.backward(&tape, Tensor::from_vec(&shape, x.clone()).unwrap(), FireMode::Heaviside)));
    group.bench_function("pack spikes", |b| b.iter(|| Spikes::from_dense(&Tensor::from_vec(&shape, x.clone()).unwrap(), 1)));
    group.finish();
}

/// Inference of one sample through the Sparse CNN-2 hidden layer (1024 → 700, 450 inputs
/// active after k-winners): dense, dense weights over the active rows, and 30%-kept weights in
/// complementary packing (block-shared and per-group partitions) and plain sparse rows.
fn sparse_inference(c: &mut Criterion) {
    let (inputs, units, active, kept) = (1024usize, 700usize, 450usize, 0.3f32);
    let mut rng = Rng::new(3);
    let mut order: Vec<u32> = (0..inputs as u32).collect();
    rng.shuffle(&mut order);
    let mut on = order[..active].to_vec();
    on.sort_unstable();
    let values: Vec<f32> = on.iter().map(|_| rng.uniform() + 0.1).collect();
    let mut x = vec![0.0f32; inputs];
    on.iter().zip(&values).for_each(|(&i, &v)| x[i as usize] = v);
    let dense_w: Vec<f32> = (0..inputs * units).map(|_| rng.uniform() - 0.5).collect();
    let masked = |kind: MaskKind, rng: &mut Rng| {
        let mask = WeightMask::new(units, inputs, kept, kind, rng, "bench").unwrap();
        let m = mask.dense();
        let w: Vec<f32> = (0..inputs * units).map(|p| m[(p % units) * inputs + p / units] * (rng.uniform() - 0.5)).collect();
        (w, mask)
    };
    let members = inputs / WeightMask::kept_count(kept, inputs);
    let (bw, bmask) = masked(MaskKind::ComplementaryBlocks, &mut rng);
    let blocks = PackedKernels::pack(&bw, inputs, &bmask.kept, members).unwrap();
    let (pw, pmask) = masked(MaskKind::Complementary, &mut rng);
    let packed = PackedKernels::pack(&pw, inputs, &pmask.kept, members).unwrap();
    let plain = SparseRows::new(&pw, inputs, &pmask.kept).unwrap();
    let (mut out, mut scratch) = (vec![0.0f32; units], Vec::new());
    let mut g = c.benchmark_group("sparse_inference_1024x700_450_active");
    g.bench_function("dense", |b| b.iter(|| matmul(&x, Transpose::No, &dense_w, Transpose::No, &mut out, (1, units, inputs), false, false)));
    g.bench_function("dense_weights_active_rows", |b| b.iter(|| zero_skipping_matmul(&x, inputs, &dense_w, &mut out, units)));
    g.bench_function("blocks_sparse_sparse", |b| b.iter(|| blocks.forward_sparse(&on, &values, &mut out, &mut scratch)));
    g.bench_function("packed_sparse_sparse", |b| b.iter(|| packed.forward_sparse(&on, &values, &mut out, &mut scratch)));
    g.bench_function("plain_sparse_sparse", |b| b.iter(|| plain.forward_sparse(&on, &values, &mut out)));
    g.finish();
}

fn settings() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = settings(); targets = linear_products, layers, neurons, sparse_inference }
criterion_main!(benches);
