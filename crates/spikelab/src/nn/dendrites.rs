//! Active dendrites (Iyer et al. 2022, nupic.research `AbsoluteMaxGatingDendriticLayer`): each
//! unit has S dendritic segments that see a context vector c; the segment with the largest
//! |u_j · c| (sign kept) gates the unit's feed-forward output through a sigmoid:
//! `y_i = (w_i · x + b_i) · σ(u_{i,j*} · c)`. The gradient reaches the winning segment only.
//!
//! The context comes with the pass (`Context::dendrite_context`): a few distinct vectors and
//! which one each sample uses. Samples sharing a context share their segment activations, so
//! they are computed once per distinct context and kept between batches (`cached`); after an
//! optimizer step only the segment rows it changed are recomputed. With one segment row per
//! unit and context trained at a time, the segments are a row-sparse parameter.

use super::linear::Linear;
use super::{Context, Layer, Mode, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{dot, Activation, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The context vectors of one pass and the one each sample (batch index) uses.
#[derive(Clone, Debug)]
pub struct DendriteContext {
    /// `[contexts, context_len]`.
    pub vectors: Tensor,
    /// Per sample of the batch: its row in `vectors`.
    pub of_sample: Vec<u32>,
}

/// How the segment that gates a unit is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gating {
    /// Largest |activation|, its sign kept (the paper's choice: a segment can also inhibit).
    #[default]
    AbsMax,
    /// Largest activation.
    Max,
}

#[derive(Debug)]
struct Cached {
    context: Vec<f32>,
    /// `[units, segments]` activations u_{i,j} · c.
    activations: Vec<f32>,
}

/// What backward needs from a training forward.
#[derive(Debug)]
struct Saved {
    /// Feed-forward output before gating, `[rows, units]`.
    feedforward: Tensor,
    /// Per distinct context of the pass (index into `cached`): winning segment and gate per unit.
    winners: Vec<(usize, Vec<u32>, Vec<f32>)>,
    /// Per row: position in `winners`.
    row_context: Vec<u32>,
}

#[derive(Debug)]
pub struct DendriticLinear {
    pub feedforward: Linear,
    /// `[units · segments, context_len]`, one row per segment.
    pub segments: Param,
    pub units: usize,
    pub segment_count: usize,
    pub context_len: usize,
    pub gating: Gating,
    cached: Vec<Cached>,
    saved: Option<Saved>,
}

/// Evaluation keeps the activations of at most this many contexts (one per task's prototype).
const MAX_CACHED: usize = 1024;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl DendriticLinear {
    /// Segments uniform in ±1/√(context_density · context_len) (the paper's "modified Kaiming").
    pub fn new(feedforward: Linear, segment_count: usize, context_len: usize, context_density: f32, gating: Gating, rng: &mut Rng) -> Self {
        let units = feedforward.out_features;
        let bound = 1.0 / (context_density as f64 * context_len as f64).sqrt() as f32;
        let values = (0..units * segment_count * context_len).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect();
        let segments = Param::row_sparse("segments", Tensor::from_vec(&[units * segment_count, context_len], values).expect("sized"), true, context_len);
        DendriticLinear { feedforward, segments, units, segment_count, context_len, gating, cached: Vec::new(), saved: None }
    }

    /// Activations of every segment for `context`, `[units, segments]`.
    fn activations(&self, context: &[f32]) -> Vec<f32> {
        self.segments.value.data().par_chunks(self.context_len).map(|u| dot(u, context)).collect()
    }

    /// Index in `cached` of `context`, computing it when new.
    fn cache_index(&mut self, context: &[f32]) -> usize {
        if let Some(i) = self.cached.iter().position(|c| c.context == context) {
            return i;
        }
        if self.cached.len() >= MAX_CACHED {
            self.cached.clear();
        }
        let activations = self.activations(context);
        self.cached.push(Cached { context: context.to_vec(), activations });
        self.cached.len() - 1
    }

    /// Winning segment and gate σ(u_{j*}·c) per unit, from one context's activations.
    fn winners(&self, activations: &[f32]) -> (Vec<u32>, Vec<f32>) {
        activations
            .chunks(self.segment_count)
            .map(|seg| {
                let key = |v: f32| if self.gating == Gating::AbsMax { v.abs() } else { v };
                // The first of equal keys wins (torch's argmax).
                let best = (1..seg.len()).fold(0, |b, j| if key(seg[j]) > key(seg[b]) { j } else { b });
                (best as u32, sigmoid(seg[best]))
            })
            .unzip()
    }
}

impl Layer for DendriticLinear {
    fn kind(&self) -> &'static str {
        "dendritic-linear"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.feedforward.output_shape(input)
    }

    fn context_len(&self) -> Option<usize> {
        Some(self.context_len)
    }

    fn time_local(&self) -> bool {
        true
    }

    fn dense_macs_per_step(&self, input: &[usize]) -> u64 {
        self.feedforward.dense_macs_per_step(input)
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let context: Arc<DendriteContext> = ctx.dendrite_context.clone().expect("checked by Sequential::forward");
        let batch = input.shape()[1];
        let mut y = self.feedforward.forward(input, ctx).into_dense();
        // Distinct contexts of this batch, in order of first use.
        let mut distinct: Vec<u32> = Vec::new();
        let position: Vec<u32> = context
            .of_sample
            .iter()
            .map(|&c| match distinct.iter().position(|&d| d == c) {
                Some(p) => p as u32,
                None => {
                    distinct.push(c);
                    (distinct.len() - 1) as u32
                }
            })
            .collect();
        let vectors = context.vectors.data();
        let indices: Vec<usize> = distinct.iter().map(|&c| self.cache_index(&vectors[c as usize * self.context_len..(c as usize + 1) * self.context_len])).collect();
        let winners: Vec<(usize, Vec<u32>, Vec<f32>)> = indices
            .iter()
            .map(|&i| {
                let (w, g) = self.winners(&self.cached[i].activations);
                (i, w, g)
            })
            .collect();
        ctx.ops.dense_mac += (distinct.len() * self.units * self.segment_count * self.context_len) as u64;
        let row_context: Vec<u32> = (0..y.len() / self.units).map(|r| position[r % batch]).collect();
        let feedforward = (ctx.mode == Mode::Train).then(|| y.clone());
        y.data_mut().par_chunks_mut(self.units).zip(&row_context).for_each(|(row, &k)| {
            row.iter_mut().zip(&winners[k as usize].2).for_each(|(v, g)| *v *= g);
        });
        if let Some(feedforward) = feedforward {
            // Training runs one context at a time: keep only what this batch used.
            let keep: Vec<bool> = (0..self.cached.len()).map(|i| indices.contains(&i)).collect();
            // A kept entry's new index is the number of kept entries before it.
            let new_index: Vec<usize> = keep
                .iter()
                .scan(0, |before, &k| {
                    let index = *before;
                    *before += k as usize;
                    Some(index)
                })
                .collect();
            let mut kept = keep.iter();
            self.cached.retain(|_| *kept.next().expect("one flag per entry"));
            let winners = winners.into_iter().map(|(i, w, g)| (new_index[i], w, g)).collect();
            self.saved = Some(Saved { feedforward, winners, row_context });
        }
        Activation::Dense(y)
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let Saved { feedforward, winners, row_context } = self.saved.take().expect("dendritic backward without a training forward");
        let units = self.units;
        // Per context and unit: Σ_rows dL/dy · ŷ, the gradient reaching the winning segment
        // before σ'.
        let mut through_gate = vec![0.0f32; winners.len() * units];
        let mut grad_feedforward = grad_output.clone();
        for ((g, yhat), &k) in grad_feedforward.data_mut().chunks_mut(units).zip(feedforward.data().chunks(units)).zip(&row_context) {
            let (gates, acc) = (&winners[k as usize].2, &mut through_gate[k as usize * units..(k as usize + 1) * units]);
            for (((g, &y), &gate), a) in g.iter_mut().zip(yhat).zip(gates).zip(acc.iter_mut()) {
                *a += *g * y;
                *g *= gate;
            }
        }
        let rows = self.segments.rows.as_mut().expect("segments are row-sparse");
        let grad = self.segments.grad.data_mut();
        for (k, (cache, segment, gates)) in winners.iter().enumerate() {
            let context = &self.cached[*cache].context;
            for u in 0..units {
                let gate = gates[u];
                let d = through_gate[k * units + u] * gate * (1.0 - gate);
                if d == 0.0 {
                    continue;
                }
                let row = u * self.segment_count + segment[u] as usize;
                grad[row * self.context_len..(row + 1) * self.context_len].iter_mut().zip(context).for_each(|(g, c)| *g += d * c);
                rows.grad_rows.push(row as u32);
            }
        }
        self.feedforward.backward(grad_feedforward, need_input_grad)
    }

    fn params(&self) -> Vec<&Param> {
        let mut p = self.feedforward.params();
        p.push(&self.segments);
        p
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.feedforward.params_mut();
        p.push(&mut self.segments);
        p
    }

    fn skip_input_grad_at_zero_inputs(&mut self) {
        self.feedforward.skip_input_grad_at_zero_inputs();
    }

    fn params_updated(&mut self) {
        self.feedforward.params_updated();
        let n = self.context_len;
        let w = self.segments.value.data();
        let updated = self.segments.rows.as_ref().and_then(|r| r.updated_rows.as_deref());
        for c in &mut self.cached {
            match updated {
                Some(rows) => {
                    for &r in rows {
                        let r = r as usize;
                        c.activations[r] = dot(&w[r * n..(r + 1) * n], &c.context);
                    }
                }
                None => c.activations = w.par_chunks(n).map(|u| dot(u, &c.context)).collect(),
            }
        }
    }

    fn saved_bytes(&self) -> usize {
        self.feedforward.saved_bytes() + self.saved.as_ref().map_or(0, |s| s.feedforward.len() * 4)
    }
}

/// `Error` for a pass without the context a dendritic layer needs.
pub(crate) fn missing_context(layer: usize, len: usize) -> Error {
    Error::Other(format!("layer {layer} has dendritic segments and needs, with every pass, context vectors of {len} values and one context per sample (see nn::DendriteContext)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> DendriticLinear {
        let mut rng = Rng::new(5);
        DendriticLinear::new(Linear::new(6, 5, true, &mut rng), 4, 8, 0.5, Gating::AbsMax, &mut rng)
    }

    fn forward(layer: &mut DendriticLinear, context: &Tensor, x: &Tensor, mode: Mode) -> Vec<f32> {
        let mut ctx = Context::new(mode, 0);
        ctx.dendrite_context = Some(Arc::new(DendriteContext { vectors: context.clone(), of_sample: vec![0; x.shape()[1]] }));
        layer.forward(Activation::Dense(x.clone()), &mut ctx).into_dense().data().to_vec()
    }

    #[test]
    fn training_after_another_context_was_cached_uses_its_own_winners() {
        // An evaluation leaves context A cached ahead of B; training on B then drops A and must
        // re-index B's winners, so its gradients equal those of a layer that never saw A.
        let mut rng = Rng::new(9);
        let mut random = |shape: &[usize]| Tensor::from_vec(shape, (0..shape.iter().product()).map(|_| rng.uniform() - 0.5).collect()).unwrap();
        let (a, b, x, g) = (random(&[1, 8]), random(&[1, 8]), random(&[1, 3, 6]), random(&[1, 3, 5]));
        let (mut seen_a, mut fresh) = (layer(), layer());
        forward(&mut seen_a, &a, &x, Mode::Eval);
        assert_eq!(forward(&mut seen_a, &b, &x, Mode::Train), forward(&mut fresh, &b, &x, Mode::Train));
        let (dx_seen, dx_fresh) = (seen_a.backward(g.clone(), true).unwrap(), fresh.backward(g, true).unwrap());
        assert_eq!(dx_seen.data(), dx_fresh.data());
        for (p, q) in seen_a.params().iter().zip(fresh.params()) {
            assert_eq!(p.grad.data(), q.grad.data(), "{}", p.name);
        }
        assert!(seen_a.segments.grad.data().iter().any(|&v| v != 0.0));
    }
}
