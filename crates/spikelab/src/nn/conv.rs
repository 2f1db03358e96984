//! 2-D convolution over `[T, B, C, H, W]`: every (step, sample) image goes through im2col and
//! one GEMM with the `[C_out, C_in·k·k]` weight; images run in parallel.

use super::{uniform_params, Context, Layer, Mode, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{col2im, im2col, matmul, Activation, ConvGeometry, Tensor, Transpose};
use rayon::prelude::*;

/// Images per parallel work item in the backward pass. Fixed (not derived from the thread
/// count) so the order of the weight-gradient sum, and so the result, never depends on it.
const IMAGES_PER_CHUNK: usize = 8;

#[derive(Debug)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Option<Param>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    geometry: Option<ConvGeometry>,
    saved_input: Option<Tensor>,
}

impl Conv2d {
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, stride: usize, padding: usize, bias: bool, rng: &mut Rng) -> Self {
        let fan_in = in_channels * kernel * kernel;
        let (weight, bias) = uniform_params([out_channels, fan_in], bias.then_some(out_channels), fan_in, rng);
        Conv2d {
            weight,
            bias,
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            geometry: None,
            saved_input: None,
        }
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

    fn dense_macs_per_step(&self, input: &[usize]) -> u64 {
        self.geometry_for(input).map_or(0, |g| (self.out_channels * g.out_positions() * g.patch_len()) as u64)
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let shape = input.shape().to_vec();
        let g = self.geometry_for(&shape[2..]).expect("shapes are checked when the network is built");
        let x = input.into_dense();
        let (images, in_len) = (shape[0] * shape[1], g.channels * g.height * g.width);
        let (patch, positions) = (g.patch_len(), g.out_positions());
        let out_len = self.out_channels * positions;
        let mut out = Tensor::zeros(&[shape[0], shape[1], self.out_channels, g.out_height(), g.out_width()]);
        let (w, bias) = (self.weight.value.data(), self.bias.as_ref().map(|b| b.value.data()));
        out.data_mut().par_chunks_mut(out_len).zip(x.data().par_chunks(in_len)).for_each_init(
            || vec![0.0f32; patch * positions],
            |cols, (y, image)| {
                im2col(image, &g, cols);
                matmul(w, Transpose::No, cols, Transpose::No, y, (self.out_channels, positions, patch), false, false);
                if let Some(b) = bias {
                    for (row, b) in y.chunks_mut(positions).zip(b) {
                        row.iter_mut().for_each(|v| *v += b);
                    }
                }
            },
        );
        ctx.ops.dense_mac += (images * out_len * patch) as u64;
        self.geometry = Some(g);
        self.saved_input = (ctx.mode == Mode::Train).then_some(x);
        Activation::Dense(out)
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let x = self.saved_input.take().expect("conv2d backward without a training forward");
        let g = self.geometry.expect("set by forward");
        let (in_len, patch, positions) = (g.channels * g.height * g.width, g.patch_len(), g.out_positions());
        let out_len = self.out_channels * positions;
        let co = self.out_channels;
        let w = self.weight.value.data();
        let mut dx = need_input_grad.then(|| Tensor::zeros(x.shape()));
        let mut dx_chunks: Vec<Option<&mut [f32]>> = match &mut dx {
            Some(t) => t.data_mut().chunks_mut(in_len * IMAGES_PER_CHUNK).map(Some).collect(),
            None => (0..x.data().chunks(in_len * IMAGES_PER_CHUNK).len()).map(|_| None).collect(),
        };
        let partials: Vec<(Vec<f32>, Vec<f32>)> = x
            .data()
            .par_chunks(in_len * IMAGES_PER_CHUNK)
            .zip(grad_output.data().par_chunks(out_len * IMAGES_PER_CHUNK))
            .zip(dx_chunks.par_iter_mut())
            .map(|((xs, gs), dxs)| {
                let mut dw = vec![0.0f32; co * patch];
                let mut db = vec![0.0f32; co];
                let mut cols = vec![0.0f32; patch * positions];
                let mut dcols = vec![0.0f32; patch * positions];
                for (k, (image, gy)) in xs.chunks(in_len).zip(gs.chunks(out_len)).enumerate() {
                    im2col(image, &g, &mut cols);
                    matmul(gy, Transpose::No, &cols, Transpose::Yes, &mut dw, (co, patch, positions), true, false);
                    for (d, row) in db.iter_mut().zip(gy.chunks(positions)) {
                        *d += row.iter().sum::<f32>();
                    }
                    if let Some(dxs) = dxs.as_deref_mut() {
                        matmul(w, Transpose::Yes, gy, Transpose::No, &mut dcols, (patch, positions, co), false, false);
                        col2im(&dcols, &g, &mut dxs[k * in_len..(k + 1) * in_len]);
                    }
                }
                (dw, db)
            })
            .collect();
        for (dw, db) in partials {
            self.weight.grad.data_mut().iter_mut().zip(&dw).for_each(|(a, b)| *a += b);
            if let Some(b) = &mut self.bias {
                b.grad.data_mut().iter_mut().zip(&db).for_each(|(a, b)| *a += b);
            }
        }
        dx
    }

    fn params(&self) -> Vec<&Param> {
        std::iter::once(&self.weight).chain(self.bias.as_ref()).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        std::iter::once(&mut self.weight).chain(self.bias.as_mut()).collect()
    }

    fn saved_bytes(&self) -> usize {
        self.saved_input.as_ref().map_or(0, |t| t.len() * 4)
    }
}
