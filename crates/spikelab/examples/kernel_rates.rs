//! Rates of the first-layer kernels of the baseline config (rows = T·B = 3200, 784 → 800):
//! dense GEMM vs the event-driven forward and weight-gradient kernels over spike densities.
//!
//!     cargo run --release --example kernel_rates
//!
//! Prints milliseconds per call (best of 5) and the dense GEMM rate in GFLOP/s.

use spikelab::rng::Rng;
use spikelab::tensor::{matmul, spike_matmul, spike_weight_grad, SpikeIndex, Spikes, Tensor, Transpose};
use std::time::Instant;

#[global_allocator]
static GLOBAL: spikelab::alloc::SpikelabAllocator = spikelab::alloc::SpikelabAllocator;

fn best_ms(mut f: impl FnMut()) -> f64 {
    f();
    (0..5).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64() * 1e3
    }).fold(f64::INFINITY, f64::min)
}

fn main() {
    let (rows, inputs, width) = (3200, 784, 800);
    let mut rng = Rng::new(1);
    let w: Vec<f32> = (0..inputs * width).map(|_| rng.normal()).collect();
    let g: Vec<f32> = (0..rows * width).map(|_| rng.normal()).collect();
    let mut out = vec![0.0f32; rows * width];
    let mut gw = vec![0.0f32; inputs * width];
    let flops = 2.0 * (rows * inputs * width) as f64;
    for density in [0.01f32, 0.05, 0.1, 0.2, 0.3, 0.5] {
        let x: Vec<f32> = (0..rows * inputs).map(|_| (rng.uniform() < density) as u8 as f32).collect();
        let spikes = Spikes::from_dense(&Tensor::from_vec(&[rows, inputs], x.clone()).unwrap(), 1);
        let gemm_fwd = best_ms(|| matmul(&x, Transpose::No, &w, Transpose::No, &mut out, (rows, width, inputs), false, true));
        let gemm_grad = best_ms(|| matmul(&x, Transpose::Yes, &g, Transpose::No, &mut gw, (inputs, width, rows), false, true));
        let event_fwd = best_ms(|| spike_matmul(&spikes, &w, &mut out, width));
        // The backward pass builds the index from the saved spikes; this figure includes it.
        let event_grad = best_ms(|| spike_weight_grad(&SpikeIndex::new(&spikes), &g, &mut gw, width));
        println!(
            "density {density:.2}: forward gemm {gemm_fwd:.2} ms ({:.0} GFLOP/s) event {event_fwd:.2} ms | weight grad gemm {gemm_grad:.2} ms event {event_grad:.2} ms",
            flops / gemm_fwd / 1e6
        );
    }
}
