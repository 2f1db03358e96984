//! 2-D max and average pooling (no padding) over `[T, B, C, H, W]`.
//! Max pooling of spikes is a logical OR, so it keeps them spikes; average pooling does not.

use super::{Context, Layer, Mode};
use crate::error::{Error, Result};
use crate::tensor::{Activation, Spikes, Tensor};
use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

#[derive(Debug)]
pub struct Pool2d {
    pub kind: PoolKind,
    pub kernel: usize,
    pub stride: usize,
    input_shape: Vec<usize>,
    /// Max pooling: the input index (within its image) each output came from.
    argmax: Vec<u32>,
}

impl Pool2d {
    pub fn new(kind: PoolKind, kernel: usize, stride: usize) -> Self {
        Pool2d { kind, kernel, stride, input_shape: Vec::new(), argmax: Vec::new() }
    }

    fn out_hw(&self, h: usize, w: usize) -> (usize, usize) {
        ((h - self.kernel) / self.stride + 1, (w - self.kernel) / self.stride + 1)
    }
}

impl Pool2d {
    /// Max pooling straight on spike bits: an output spikes when any input of its window does.
    /// The recorded input is the window's first spiking position, else its first position —
    /// the same choice as the dense path's strict first maximum, so both give identical
    /// gradients.
    fn max_pool_spikes(&mut self, spikes: &Spikes, shape: Vec<usize>, track: bool) -> Activation {
        let (c, h, w) = (shape[2], shape[3], shape[4]);
        let (ho, wo) = self.out_hw(h, w);
        let (k, s) = (self.kernel, self.stride);
        let out_len = c * ho * wo;
        let mut out = Spikes::zeros(&[shape[0], shape[1], c, ho, wo], 3);
        let mut argmax = vec![0u32; if track { spikes.rows() * out_len } else { 0 }];
        let mut arg_rows: Vec<Option<&mut [u32]>> = if track { argmax.chunks_mut(out_len.max(1)).map(Some).collect() } else { (0..spikes.rows()).map(|_| None).collect() };
        let out_rows: Vec<&mut [u64]> = out.rows_mut().collect();
        out_rows.into_par_iter().zip(arg_rows.par_iter_mut()).enumerate().for_each(|(r, (bits_out, arg))| {
            let bits = spikes.row_words(r);
            let spiked = |i: usize| bits[i / 64] >> (i % 64) & 1 == 1;
            for ch in 0..c {
                for oy in 0..ho {
                    for ox in 0..wo {
                        let window = (0..k).flat_map(|ky| (0..k).map(move |kx| ch * h * w + (oy * s + ky) * w + ox * s + kx));
                        let first = window.clone().find(|&i| spiked(i));
                        let o = (ch * ho + oy) * wo + ox;
                        if first.is_some() {
                            bits_out[o / 64] |= 1 << (o % 64);
                        }
                        if let Some(a) = arg.as_deref_mut() {
                            a[o] = first.unwrap_or(ch * h * w + oy * s * w + ox * s) as u32;
                        }
                    }
                }
            }
        });
        self.input_shape = shape;
        self.argmax = argmax;
        Activation::Spikes(out)
    }
}

impl Layer for Pool2d {
    fn kind(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "maxpool2d",
            PoolKind::Avg => "avgpool2d",
        }
    }

    fn time_local(&self) -> bool {
        true
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [c, h, w] = *input else {
            return Err(Error::Shape(format!("pooling expects [channels, height, width] input, got {input:?}")));
        };
        if h < self.kernel || w < self.kernel {
            return Err(Error::Shape(format!("pooling window {} larger than input {h}×{w}", self.kernel)));
        }
        let (ho, wo) = self.out_hw(h, w);
        Ok(vec![c, ho, wo])
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let shape = input.shape().to_vec();
        if let (Activation::Spikes(spikes), PoolKind::Max) = (&input, self.kind) {
            return self.max_pool_spikes(spikes, shape, ctx.mode == Mode::Train);
        }
        let was_spikes = matches!(input, Activation::Spikes(_));
        let x = input.into_dense();
        let (h, w) = (shape[3], shape[4]);
        let (ho, wo) = self.out_hw(h, w);
        let mut out = Tensor::zeros(&[shape[0], shape[1], shape[2], ho, wo]);
        let track = self.kind == PoolKind::Max && ctx.mode == Mode::Train;
        let mut argmax = vec![0u32; if track { out.len() } else { 0 }];
        let (k, s, kind) = (self.kernel, self.stride, self.kind);
        let area = (k * k) as f32;
        let work = out.data_mut().par_chunks_mut(ho * wo).zip(x.data().par_chunks(h * w)).enumerate();
        let pool_plane = |p: usize, y: &mut [f32], plane: &[f32], arg: Option<&mut [u32]>| {
            let offset = ((p % shape[2]) * h * w) as u32;
            let mut arg = arg;
            for oy in 0..ho {
                for ox in 0..wo {
                    let (mut best, mut best_at, mut sum) = (f32::NEG_INFINITY, 0, 0.0);
                    for ky in 0..k {
                        for kx in 0..k {
                            let at = (oy * s + ky) * w + ox * s + kx;
                            let v = plane[at];
                            sum += v;
                            if v > best {
                                best = v;
                                best_at = at;
                            }
                        }
                    }
                    y[oy * wo + ox] = if kind == PoolKind::Max { best } else { sum / area };
                    if let Some(a) = arg.as_deref_mut() {
                        a[oy * wo + ox] = offset + best_at as u32;
                    }
                }
            }
        };
        if track {
            work.zip(argmax.par_chunks_mut(ho * wo)).for_each(|((p, (y, plane)), a)| pool_plane(p, y, plane, Some(a)));
        } else {
            work.for_each(|(p, (y, plane))| pool_plane(p, y, plane, None));
        }
        self.input_shape = shape;
        self.argmax = argmax;
        if was_spikes && self.kind == PoolKind::Max {
            Activation::Spikes(Spikes::from_dense(&out, 3))
        } else {
            Activation::Dense(out)
        }
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        if !need_input_grad {
            return None;
        }
        let shape = &self.input_shape;
        let (c, h, w) = (shape[2], shape[3], shape[4]);
        let (ho, wo) = self.out_hw(h, w);
        let mut dx = Tensor::zeros(shape);
        let (k, s) = (self.kernel, self.stride);
        let image_out = c * ho * wo;
        match self.kind {
            PoolKind::Max => {
                dx.data_mut().par_chunks_mut(c * h * w).zip(grad_output.data().par_chunks(image_out)).zip(self.argmax.par_chunks(image_out)).for_each(|((dxi, gi), ai)| {
                    for (g, &a) in gi.iter().zip(ai) {
                        dxi[a as usize] += g;
                    }
                });
            }
            PoolKind::Avg => {
                let area = (k * k) as f32;
                dx.data_mut().par_chunks_mut(h * w).zip(grad_output.data().par_chunks(ho * wo)).for_each(|(dxp, gp)| {
                    for oy in 0..ho {
                        for ox in 0..wo {
                            let g = gp[oy * wo + ox] / area;
                            for ky in 0..k {
                                for kx in 0..k {
                                    dxp[(oy * s + ky) * w + ox * s + kx] += g;
                                }
                            }
                        }
                    }
                });
            }
        }
        Some(dx)
    }

    fn saved_bytes(&self) -> usize {
        self.argmax.len() * 4
    }
}
