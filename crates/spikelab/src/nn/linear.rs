//! Fully connected synapses: y = x·W + b with W stored `[in, out]` (presynaptic × postsynaptic),
//! so one input's outgoing weights are one contiguous row — the row a spike adds.

use super::{split_time_batch, Context, Layer, Mode, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{matmul, Activation, Spikes, Tensor, Transpose};
use rayon::prelude::*;

/// Spike inputs sparser than this take the event-driven path; denser ones go to GEMM.
pub const DEFAULT_EVENT_DENSITY: f64 = 0.3;

#[derive(Debug)]
pub struct Linear {
    pub weight: Param,
    pub bias: Option<Param>,
    pub in_features: usize,
    pub out_features: usize,
    /// Spike density below which the event-driven kernels are used.
    pub event_density: f64,
    saved_input: Option<Activation>,
}

impl Linear {
    /// Weights uniform in ±1/√in (PyTorch's default), bias likewise.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Self {
        let bound = 1.0 / (in_features.max(1) as f32).sqrt();
        let mut init = |n: usize| (0..n).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect::<Vec<f32>>();
        let w = Tensor::from_vec(&[in_features, out_features], init(in_features * out_features)).unwrap();
        let b = bias.then(|| Tensor::from_vec(&[out_features], init(out_features)).unwrap());
        Linear {
            weight: Param::new("weight", w, true),
            bias: b.map(|b| Param::new("bias", b, false)),
            in_features,
            out_features,
            event_density: DEFAULT_EVENT_DENSITY,
            saved_input: None,
        }
    }

    fn add_bias(&self, out: &mut [f32]) {
        if let Some(b) = &self.bias {
            out.par_chunks_mut(self.out_features).for_each(|row| {
                row.iter_mut().zip(b.value.data()).for_each(|(y, b)| *y += b);
            });
        }
    }
}

/// out[r] = Σ over active inputs i of row r: w[i] (each `w` row has `out.len()/rows` values).
fn spike_forward(spikes: &Spikes, weight: &[f32], out: &mut [f32], width: usize) {
    out.par_chunks_mut(width).enumerate().for_each(|(r, row)| {
        spikes.for_each_active(r, |i| {
            row.iter_mut().zip(&weight[i * width..(i + 1) * width]).for_each(|(y, w)| *y += w);
        });
    });
}

/// grad_w[i] += Σ over rows r where input i spiked: grad_out[r]. Rows are first regrouped by
/// input (a transpose of the spike matrix) so that each weight row is written by one thread.
fn spike_weight_grad(spikes: &Spikes, grad_out: &[f32], grad_w: &mut [f32], width: usize) {
    let inputs = spikes.row_len();
    let mut starts = vec![0u32; inputs + 1];
    for r in 0..spikes.rows() {
        spikes.for_each_active(r, |i| starts[i + 1] += 1);
    }
    for i in 0..inputs {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut rows_of = vec![0u32; starts[inputs] as usize];
    for r in 0..spikes.rows() {
        spikes.for_each_active(r, |i| {
            rows_of[fill[i] as usize] = r as u32;
            fill[i] += 1;
        });
    }
    grad_w.par_chunks_mut(width).enumerate().for_each(|(i, gw)| {
        for &r in &rows_of[starts[i] as usize..starts[i + 1] as usize] {
            let g = &grad_out[r as usize * width..(r as usize + 1) * width];
            gw.iter_mut().zip(g).for_each(|(a, b)| *a += b);
        }
    });
}

impl Layer for Linear {
    fn kind(&self) -> &'static str {
        "linear"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input != [self.in_features] {
            return Err(Error::Shape(format!(
                "linear layer expects {} input features, got shape {input:?} (add a flatten layer before it?)",
                self.in_features
            )));
        }
        Ok(vec![self.out_features])
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let (steps, batch, _) = split_time_batch(input.shape());
        let rows = steps * batch;
        let mut out = Tensor::zeros(&[steps, batch, self.out_features]);
        let use_events = matches!(&input, Activation::Spikes(s) if s.density() < self.event_density);
        match &input {
            Activation::Spikes(s) if use_events => {
                spike_forward(s, self.weight.value.data(), out.data_mut(), self.out_features);
                ctx.ops.sparse_ac += s.count_ones() * self.out_features as u64;
            }
            _ => {
                let dense;
                let x = match &input {
                    Activation::Dense(t) => t.data(),
                    Activation::Spikes(s) => {
                        dense = s.to_dense();
                        dense.data()
                    }
                };
                let dims = (rows, self.out_features, self.in_features);
                matmul(x, Transpose::No, self.weight.value.data(), Transpose::No, out.data_mut(), dims, false, true);
                ctx.ops.dense_mac += (rows * self.in_features * self.out_features) as u64;
            }
        }
        self.add_bias(out.data_mut());
        self.saved_input = (ctx.mode == Mode::Train).then_some(input);
        Activation::Dense(out)
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let input = self.saved_input.take().expect("linear backward without a training forward");
        let (steps, batch, _) = split_time_batch(input.shape());
        let rows = steps * batch;
        let g = grad_output.data();
        match &input {
            Activation::Spikes(s) if s.density() < self.event_density => {
                spike_weight_grad(s, g, self.weight.grad.data_mut(), self.out_features)
            }
            other => {
                let dense = other.to_dense();
                let dims = (self.in_features, self.out_features, rows);
                matmul(dense.data(), Transpose::Yes, g, Transpose::No, self.weight.grad.data_mut(), dims, true, true);
            }
        }
        if let Some(b) = &mut self.bias {
            let gb = b.grad.data_mut();
            for row in g.chunks(self.out_features) {
                gb.iter_mut().zip(row).for_each(|(a, b)| *a += b);
            }
        }
        need_input_grad.then(|| {
            let mut dx = Tensor::zeros(&[steps, batch, self.in_features]);
            let dims = (rows, self.in_features, self.out_features);
            matmul(g, Transpose::No, self.weight.value.data(), Transpose::Yes, dx.data_mut(), dims, false, true);
            dx
        })
    }

    fn params(&self) -> Vec<&Param> {
        std::iter::once(&self.weight).chain(self.bias.as_ref()).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        std::iter::once(&mut self.weight).chain(self.bias.as_mut()).collect()
    }

    fn saved_bytes(&self) -> usize {
        match &self.saved_input {
            Some(Activation::Dense(t)) => t.len() * 4,
            Some(Activation::Spikes(s)) => s.storage_bytes(),
            None => 0,
        }
    }
}
