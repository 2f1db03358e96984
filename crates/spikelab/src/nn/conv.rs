//! 2-D convolution over `[T, B, C, H, W]`. Dense input: every (step, sample) image goes through
//! im2col and one GEMM with the `[C_out, C_in·k·k]` weight. Spike input sparser than
//! `event_density`: each spike adds its kernel footprint to the output (and gathers it for the
//! weight gradient), work ∝ spikes. Images run in parallel; spikes are kept as bits for backward.

use super::sparse_weights::{MaskedWeights, WeightMask};
use super::{uniform_params, Context, Layer, Mode, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{col2im, for_each_spike_tap, im2col, matmul, Activation, ConvGeometry, Spikes, Tensor, Transpose};
use rayon::prelude::*;

/// Images per parallel work item in the backward pass. Fixed (not derived from the thread
/// count) so the order of the weight-gradient sum, and so the result, never depends on it.
const IMAGES_PER_CHUNK: usize = 8;

/// Spike inputs sparser than this take the event path. Measured on the 32 → 64 3×3
/// convolution of 14×14 maps (`cargo bench -p spikelab --bench kernels`, docs/results.md): the
/// event training step wins up to density ≈ 0.35.
pub const CONV_EVENT_DENSITY: f64 = 0.3;

#[derive(Debug)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Option<Param>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// Spike density below which the event-driven path is used.
    pub event_density: f64,
    geometry: Option<ConvGeometry>,
    saved_input: Option<Activation>,
    /// Whether the last forward took the event path (its backward then does too).
    used_event_path: bool,
    /// Static weight sparsity per output channel (over in_channels·kernel²).
    pub mask: Option<MaskedWeights>,
}

/// Which side of a spike-tap pair indexes the rows of `accumulate_taps`.
#[derive(Clone, Copy, PartialEq)]
enum Taps {
    /// Forward: output position row += weight row of the tap.
    IntoPositions,
    /// Weight gradient: tap row += output-gradient row of the position.
    IntoTaps,
}

/// The event kernel of both passes: for every (spike, tap) pair of one image, adds a row of
/// `co` values from `src` onto a row of `dst` (rows by tap or by output position, per
/// `direction`). Returns the pairs visited.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn accumulate_taps(spikes: &Spikes, image: usize, g: &ConvGeometry, src: &[f32], dst: &mut [f32], co: usize, direction: Taps) -> u64 {
    for_each_spike_tap(spikes, image, g, |tap, position| {
        let (to, from) = if direction == Taps::IntoPositions { (position, tap) } else { (tap, position) };
        dst[to * co..][..co].iter_mut().zip(&src[from * co..][..co]).for_each(|(d, v)| *d += v);
    })
}

/// The values of image `index` of a `[T, B, C, H, W]` activation: borrowed when dense, unpacked
/// into `scratch` (one image long) when spikes.
fn image_values<'a>(x: &'a Activation, index: usize, scratch: &'a mut [f32]) -> &'a [f32] {
    match x {
        Activation::Dense(t) => &t.data()[index * scratch.len()..][..scratch.len()],
        Activation::Spikes(s) => {
            s.unpack_rows(index, scratch);
            scratch
        }
    }
}

/// `[rows, cols]` → `[cols, rows]`.
fn transpose(m: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for (r, row) in m.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
}

impl Conv2d {
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, stride: usize, padding: usize, bias: bool, rng: &mut Rng) -> Self {
        let fan_in = in_channels * kernel * kernel;
        let (weight, bias) = uniform_params([out_channels, fan_in], bias.then_some(out_channels), fan_in, rng);
        Conv2d { weight, bias, in_channels, out_channels, kernel, stride, padding, event_density: CONV_EVENT_DENSITY, geometry: None, saved_input: None, used_event_path: false, mask: None }
    }

    /// Keeps only the masked weights of each output channel from now on.
    pub fn with_mask(mut self, mask: WeightMask) -> Self {
        assert_eq!((mask.units, mask.fan_in), (self.out_channels, self.in_channels * self.kernel * self.kernel), "mask matches the layer");
        let masked = MaskedWeights::new(mask, true);
        masked.apply(self.weight.value.data_mut());
        self.mask = Some(masked);
        self
    }

    fn geometry_for(&self, input: &[usize]) -> Result<ConvGeometry> {
        let [c, h, w] = *input else {
            return Err(Error::Shape(format!("conv2d expects [channels, height, width] input, got {input:?}")));
        };
        if c != self.in_channels {
            return Err(Error::Shape(format!("conv2d expects {} input channels, got {c}", self.in_channels)));
        }
        if h + 2 * self.padding < self.kernel || w + 2 * self.padding < self.kernel {
            return Err(Error::Shape(format!("conv2d kernel {} larger than padded input {h}×{w}", self.kernel)));
        }
        Ok(ConvGeometry { channels: c, height: h, width: w, kernel: self.kernel, stride: self.stride, padding: self.padding })
    }
}

impl Layer for Conv2d {
    fn kind(&self) -> &'static str {
        "conv2d"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let g = self.geometry_for(input)?;
        Ok(vec![self.out_channels, g.out_height(), g.out_width()])
    }

    fn time_local(&self) -> bool {
        true
    }

    fn dense_macs_per_step(&self, input: &[usize]) -> u64 {
        self.geometry_for(input).map_or(0, |g| (self.out_channels * g.out_positions() * g.patch_len()) as u64)
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let shape = input.shape().to_vec();
        let g = self.geometry_for(&shape[2..]).expect("shapes are checked when the network is built");
        let positions = g.out_positions();
        let out_len = self.out_channels * positions;
        let mut out = Tensor::zeros(&[shape[0], shape[1], self.out_channels, g.out_height(), g.out_width()]);
        self.used_event_path = matches!(&input, Activation::Spikes(s) if s.density() < self.event_density);
        // Counted by what the input is, not by the kernel chosen, and only kept weights (as in
        // `Linear`).
        let kept = self.mask.as_ref().map_or(1.0, |m| m.mask.kept_fraction());
        let scale = |ops: u64, kept: f64| (ops as f64 * kept).round() as u64;
        match &input {
            Activation::Spikes(spikes) if self.used_event_path => ctx.ops.sparse_ac += scale(self.event_forward(spikes, &g, out.data_mut()), kept),
            Activation::Spikes(spikes) => {
                self.dense_forward(&input, &g, out.data_mut());
                let pairs: u64 = (0..spikes.rows()).into_par_iter().map(|r| for_each_spike_tap(spikes, r, &g, |_, _| {})).sum();
                ctx.ops.sparse_ac += scale(pairs * self.out_channels as u64, kept);
            }
            Activation::Dense(_) => {
                let images = self.dense_forward(&input, &g, out.data_mut());
                ctx.ops.dense_mac += scale((images * out_len * g.patch_len()) as u64, kept);
            }
        }
        if let Some(b) = &self.bias {
            out.data_mut().par_chunks_mut(positions).enumerate().for_each(|(i, row)| {
                let v = b.value.data()[i % self.out_channels];
                row.iter_mut().for_each(|x| *x += v);
            });
        }
        self.geometry = Some(g);
        self.saved_input = (ctx.mode == Mode::Train).then_some(input);
        Activation::Dense(out)
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let x = self.saved_input.take().expect("conv2d backward without a training forward");
        let g = self.geometry.expect("set by forward");
        let (in_len, patch, positions) = (g.channels * g.height * g.width, g.patch_len(), g.out_positions());
        let out_len = self.out_channels * positions;
        let co = self.out_channels;
        let w = self.weight.value.data();
        let event = self.used_event_path;
        let mut dx = need_input_grad.then(|| Tensor::zeros(x.shape()));
        let images = x.shape()[0] * x.shape()[1];
        let chunks = images.div_ceil(IMAGES_PER_CHUNK);
        let mut dx_chunks: Vec<Option<&mut [f32]>> = match &mut dx {
            Some(t) => t.data_mut().chunks_mut(in_len * IMAGES_PER_CHUNK).map(Some).collect(),
            None => (0..chunks).map(|_| None).collect(),
        };
        // Per chunk: the weight gradient (as [patch, co] on the event path, else [co, patch])
        // and the bias gradient; summed in chunk order below.
        let partials: Vec<(Vec<f32>, Vec<f32>)> = grad_output
            .data()
            .par_chunks(out_len * IMAGES_PER_CHUNK)
            .zip(dx_chunks.par_iter_mut())
            .enumerate()
            .map(|(chunk, (gs, dxs))| {
                let mut dw = vec![0.0f32; co * patch];
                let mut db = vec![0.0f32; co];
                let mut cols = vec![0.0f32; patch * positions];
                let mut image = vec![0.0f32; if event { 0 } else { in_len }]; // scratch of image_values
                let mut dy_by_position = vec![0.0f32; if event { co * positions } else { 0 }];
                for (k, gy) in gs.chunks(out_len).enumerate() {
                    let index = chunk * IMAGES_PER_CHUNK + k;
                    if event {
                        let Activation::Spikes(spikes) = &x else { unreachable!("event path saves spikes") };
                        // dW[tap][:] += dY[:, position] for every spike-tap pair.
                        transpose(gy, co, positions, &mut dy_by_position);
                        accumulate_taps(spikes, index, &g, &dy_by_position, &mut dw, co, Taps::IntoTaps);
                    } else {
                        im2col(image_values(&x, index, &mut image), &g, &mut cols);
                        matmul(gy, Transpose::No, &cols, Transpose::Yes, &mut dw, (co, patch, positions), true, false);
                    }
                    for (d, row) in db.iter_mut().zip(gy.chunks(positions)) {
                        *d += row.iter().sum::<f32>();
                    }
                    if let Some(dxs) = dxs.as_deref_mut() {
                        matmul(w, Transpose::Yes, gy, Transpose::No, &mut cols, (patch, positions, co), false, false);
                        col2im(&cols, &g, &mut dxs[k * in_len..(k + 1) * in_len]);
                    }
                }
                (dw, db)
            })
            .collect();
        let mut dw_by_tap = vec![0.0f32; if event { co * patch } else { 0 }];
        for (dw, db) in partials {
            let target = if event { &mut dw_by_tap[..] } else { self.weight.grad.data_mut() };
            target.iter_mut().zip(&dw).for_each(|(a, b)| *a += b);
            if let Some(b) = &mut self.bias {
                b.grad.data_mut().iter_mut().zip(&db).for_each(|(a, b)| *a += b);
            }
        }
        if event {
            let mut dw = vec![0.0f32; co * patch];
            transpose(&dw_by_tap, patch, co, &mut dw);
            self.weight.grad.data_mut().iter_mut().zip(&dw).for_each(|(a, b)| *a += b);
        }
        dx
    }

    fn params(&self) -> Vec<&Param> {
        std::iter::once(&self.weight).chain(self.bias.as_ref()).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        std::iter::once(&mut self.weight).chain(self.bias.as_mut()).collect()
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

impl Conv2d {
    /// im2col + GEMM per image (spikes unpacked image by image); returns the images done.
    fn dense_forward(&self, input: &Activation, g: &ConvGeometry, out: &mut [f32]) -> usize {
        let (in_len, patch, positions) = (g.channels * g.height * g.width, g.patch_len(), g.out_positions());
        let (co, w) = (self.out_channels, self.weight.value.data());
        let images = out.len() / (co * positions).max(1);
        out.par_chunks_mut(co * positions).enumerate().for_each_init(
            || (vec![0.0f32; patch * positions], vec![0.0f32; in_len]),
            |(cols, image), (index, y)| {
                im2col(image_values(input, index, image), g, cols);
                matmul(w, Transpose::No, cols, Transpose::No, y, (co, positions, patch), false, false);
            },
        );
        images
    }

    /// Each spike adds its kernel footprint: out[:, position] += W[:, tap] for every
    /// spike-tap pair, accumulated position-major and transposed once per image. Returns the
    /// accumulates done.
    fn event_forward(&self, spikes: &Spikes, g: &ConvGeometry, out: &mut [f32]) -> u64 {
        let (patch, positions, co) = (g.patch_len(), g.out_positions(), self.out_channels);
        let mut w_by_tap = vec![0.0f32; patch * co];
        transpose(self.weight.value.data(), co, patch, &mut w_by_tap);
        let w_by_tap = &w_by_tap;
        out.par_chunks_mut(co * positions)
            .enumerate()
            .map_init(
                || vec![0.0f32; positions * co],
                |by_position, (index, y)| {
                    by_position.fill(0.0);
                    let pairs = accumulate_taps(spikes, index, g, w_by_tap, by_position, co, Taps::IntoPositions);
                    transpose(by_position, positions, co, y);
                    pairs * co as u64
                },
            )
            .sum()
    }
}
