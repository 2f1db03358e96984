//! Fully connected synapses: y = x·W + b with W stored `[in, out]` (presynaptic × postsynaptic),
//! so one input's outgoing weights are one contiguous row — the row a spike adds.

use super::sparse_weights::{MaskedWeights, WeightMask};
use super::{split_time_batch, uniform_params, Context, Layer, Mode, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{
    matmul, nonzero_density, output_sparse_weight_grad, spike_matmul, spike_weight_grad, zero_skipping_input_grad, zero_skipping_matmul, zero_skipping_weight_grad, Activation, SpikeIndex, Tensor,
    Transpose,
};
use rayon::prelude::*;

/// Spike inputs sparser than this take the event-driven path; denser ones go to GEMM, for
/// layers with at least `WIDE_OUTPUTS` outputs. Measured (`cargo bench -p spikelab --bench
/// kernels`, docs/results.md) on the 784 → 800 layer with 3200 rows: the event path wins up to
/// density ≈ 0.65 for the forward product, ≈ 0.6 for the weight gradient and ≈ 0.7 for the
/// layer's whole training step; 0.5 keeps a margin.
pub const DEFAULT_EVENT_DENSITY: f64 = 0.5;
/// The same for narrower layers, whose rows fill less than one register tile of the event
/// kernels: on 800 → 10 the event weight gradient alone loses from density ≈ 0.03, but the
/// layer's whole training step (where the GEMM path also unpacks the spikes) breaks even near
/// density 0.25.
pub const NARROW_EVENT_DENSITY: f64 = 0.2;
/// Output count from which a layer counts as wide (one full column tile of the event kernels).
pub const WIDE_OUTPUTS: usize = 64;
/// Dense inputs with fewer non-zeros than this (a k-winners output) take the zero-skipping
/// kernels for the forward product and the weight gradient. (`spikelab run
/// experiments/dendrites-pmnist-10.toml`: 5% non-zero inputs of a 2048 → 2048 layer.)
pub const ZERO_SKIP_DENSITY: f64 = 0.1;

/// The spike density below which a layer with `out_features` outputs takes the event path.
pub fn event_density_for(out_features: usize) -> f64 {
    if out_features >= WIDE_OUTPUTS {
        DEFAULT_EVENT_DENSITY
    } else {
        NARROW_EVENT_DENSITY
    }
}

#[derive(Debug)]
pub struct Linear {
    pub weight: Param,
    pub bias: Option<Param>,
    pub in_features: usize,
    pub out_features: usize,
    /// Spike density below which the event-driven kernels are used.
    pub event_density: f64,
    saved_input: Option<Activation>,
    /// Whether the last forward took the event path (its backward then does too).
    used_event_path: bool,
    /// Whether the last forward skipped the zeros of a dense input (its backward then does too).
    used_zero_skip: bool,
    /// Static weight sparsity: the weights outside the mask stay zero.
    pub mask: Option<MaskedWeights>,
    /// The layer below passes no gradient through zero outputs: with a sparse dense input, only
    /// the input-gradient entries of non-zero inputs are computed.
    pub skip_zero_input_grad: bool,
}

impl Linear {
    /// Weights uniform in ±1/√in (PyTorch's default), bias likewise.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Self {
        let (weight, bias) = uniform_params([in_features, out_features], bias.then_some(out_features), in_features, rng);
        Linear {
            weight,
            bias,
            in_features,
            out_features,
            event_density: event_density_for(out_features),
            saved_input: None,
            used_event_path: false,
            used_zero_skip: false,
            mask: None,
            skip_zero_input_grad: false,
        }
    }

    /// Keeps only the masked weights (the mask's units are the outputs) from now on.
    pub fn with_mask(mut self, mask: WeightMask) -> Self {
        assert_eq!((mask.units, mask.fan_in), (self.out_features, self.in_features), "mask matches the layer");
        let masked = MaskedWeights::new(mask, false);
        masked.apply(self.weight.value.data_mut());
        self.mask = Some(masked);
        self
    }

    /// Weights actually multiplied per input and output pair (1 when dense), for op counts.
    fn kept_fraction(&self) -> f64 {
        self.mask.as_ref().map_or(1.0, |m| m.mask.kept_fraction())
    }

    /// A `[T, B, out]` output holding the bias in every row (zeros without one): both kernels
    /// accumulate onto it, which saves a separate pass over the output.
    fn output_with_bias(&self, steps: usize, batch: usize) -> Tensor {
        let mut out = Tensor::zeros(&[steps, batch, self.out_features]);
        if let Some(b) = &self.bias {
            out.data_mut().par_chunks_mut(self.out_features).for_each(|row| row.copy_from_slice(b.value.data()));
        }
        out
    }
}

/// Rows of spike input unpacked at a time for the dense (GEMM) path: the unpacked floats are
/// 32× the bits, so a whole `[T·B, in]` copy would dominate training memory at long T.
const UNPACK_ROWS: usize = 512;

/// Calls `f(first_row, rows, values)` over the input as dense row-major values: once with the
/// whole matrix when it is dense, in chunks of `UNPACK_ROWS` unpacked rows when it is spikes.
/// Chunks are fixed in size, so sums over them run in the same order on any thread count.
fn for_each_dense_chunk(input: &Activation, width: usize, mut f: impl FnMut(usize, usize, &[f32])) {
    match input {
        Activation::Dense(t) => f(0, t.len() / width.max(1), t.data()),
        Activation::Spikes(s) => {
            let rows = s.rows();
            let mut buffer = vec![0.0f32; UNPACK_ROWS.min(rows) * width];
            for first in (0..rows).step_by(UNPACK_ROWS) {
                let n = UNPACK_ROWS.min(rows - first);
                let chunk = &mut buffer[..n * width];
                s.unpack_rows(first, chunk);
                f(first, n, chunk);
            }
        }
    }
}

/// Rows per partial sum of the bias gradient: fixed, so the summation order (and the result)
/// does not depend on the thread count.
const BIAS_ROWS: usize = 256;

/// `out[j] += Σ_r m[r][j]` for a row-major matrix of `width` columns.
fn add_column_sums(m: &[f32], width: usize, out: &mut [f32]) {
    let partials: Vec<Vec<f32>> = m
        .par_chunks(width * BIAS_ROWS)
        .map(|rows| {
            let mut acc = vec![0.0f32; width];
            for row in rows.chunks(width) {
                acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            }
            acc
        })
        .collect();
    for p in partials {
        out.iter_mut().zip(&p).for_each(|(a, v)| *a += v);
    }
}

impl Layer for Linear {
    fn kind(&self) -> &'static str {
        "linear"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input != [self.in_features] {
            return Err(Error::Shape(format!("linear layer expects {} input features, got shape {input:?} (add a flatten layer before it?)", self.in_features)));
        }
        Ok(vec![self.out_features])
    }

    fn time_local(&self) -> bool {
        true
    }

    fn dense_macs_per_step(&self, _input: &[usize]) -> u64 {
        (self.in_features * self.out_features) as u64
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let (steps, batch, _) = split_time_batch(input.shape());
        let rows = steps * batch;
        let mut out = self.output_with_bias(steps, batch);
        // Operations are counted by what the input is, not by the kernel chosen: a spike drives
        // one accumulate per output whichever path computes it (the energy model's view).
        let spikes_in = match &input {
            Activation::Spikes(s) => Some(s.count_ones()),
            Activation::Dense(_) => None,
        };
        let density = spikes_in.map(|active| active as f64 / (rows * self.in_features).max(1) as f64);
        self.used_event_path = density.is_some_and(|d| d < self.event_density);
        self.used_zero_skip = matches!(&input, Activation::Dense(x) if nonzero_density(x.data()) < ZERO_SKIP_DENSITY);
        match &input {
            Activation::Spikes(s) if self.used_event_path => spike_matmul(s, self.weight.value.data(), out.data_mut(), self.out_features),
            Activation::Dense(x) if self.used_zero_skip => zero_skipping_matmul(x.data(), self.in_features, self.weight.value.data(), out.data_mut(), self.out_features),
            _ => {
                let (w, width, out_f) = (self.weight.value.data(), self.in_features, self.out_features);
                let y = out.data_mut();
                for_each_dense_chunk(&input, width, |first, n, x| {
                    matmul(x, Transpose::No, w, Transpose::No, &mut y[first * out_f..(first + n) * out_f], (n, out_f, width), true, true);
                });
            }
        }
        // Removed weights cost nothing on hardware that stores only the kept ones.
        let kept = self.kept_fraction();
        match spikes_in {
            Some(active) => ctx.ops.sparse_ac += (active as f64 * self.out_features as f64 * kept).round() as u64,
            None => ctx.ops.dense_mac += (rows as f64 * (self.in_features * self.out_features) as f64 * kept).round() as u64,
        }
        self.saved_input = (ctx.mode == Mode::Train).then_some(input);
        Activation::Dense(out)
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let input = self.saved_input.take().expect("linear backward without a training forward");
        let (steps, batch, _) = split_time_batch(input.shape());
        let rows = steps * batch;
        let g = grad_output.data();
        match &input {
            // Built here, not kept from the forward pass: the index is larger than the bits.
            Activation::Spikes(s) if self.used_event_path => spike_weight_grad(&SpikeIndex::new(s), g, self.weight.grad.data_mut(), self.out_features),
            Activation::Dense(x) if self.used_zero_skip => zero_skipping_weight_grad(x.data(), self.in_features, g, self.weight.grad.data_mut(), self.out_features),
            // Only the winners of a k-winners layer above pass gradient.
            Activation::Dense(x) if nonzero_density(g) < ZERO_SKIP_DENSITY => output_sparse_weight_grad(x.data(), self.in_features, g, self.weight.grad.data_mut(), self.out_features),
            other => {
                let (gw, width, out_f) = (self.weight.grad.data_mut(), self.in_features, self.out_features);
                for_each_dense_chunk(other, width, |first, n, x| {
                    matmul(x, Transpose::Yes, &g[first * out_f..(first + n) * out_f], Transpose::No, gw, (width, out_f, n), true, true);
                });
            }
        }
        if let Some(b) = &mut self.bias {
            add_column_sums(g, self.out_features, b.grad.data_mut());
        }
        need_input_grad.then(|| {
            let mut dx = Tensor::zeros(&[steps, batch, self.in_features]);
            match &input {
                Activation::Dense(x) if self.used_zero_skip && self.skip_zero_input_grad => {
                    zero_skipping_input_grad(x.data(), self.in_features, g, self.weight.value.data(), self.out_features, dx.data_mut())
                }
                _ => {
                    let dims = (rows, self.in_features, self.out_features);
                    matmul(g, Transpose::No, self.weight.value.data(), Transpose::Yes, dx.data_mut(), dims, false, true);
                }
            }
            dx
        })
    }

    fn params(&self) -> Vec<&Param> {
        std::iter::once(&self.weight).chain(self.bias.as_ref()).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        std::iter::once(&mut self.weight).chain(self.bias.as_mut()).collect()
    }

    fn skip_input_grad_at_zero_inputs(&mut self) {
        self.skip_zero_input_grad = true;
    }

    fn params_updated(&mut self) {
        if let Some(m) = &self.mask {
            m.apply(self.weight.value.data_mut());
        }
    }

    fn saved_bytes(&self) -> usize {
        match &self.saved_input {
            Some(Activation::Dense(t)) => t.len() * 4,
            Some(Activation::Spikes(s)) => s.storage_bytes(),
            None => 0,
        }
    }
}
