//! Layers with explicit forward and backward passes over `[T, B, features…]`.
//!
//! Stateless synaptic layers fold `T·B` into rows and do one product for all steps; spiking
//! layers hand the whole time loop to their neuron model's fused kernel. There is no tape:
//! each layer keeps what its own backward needs, and `Sequential` calls them in reverse.

mod conv;
mod dendrites;
mod dropout;
mod elementwise;
mod kwinners;
mod linear;
mod pool;
mod reshape;
mod sequential;
mod sparse_weights;
mod spec;
mod spiking;

pub use conv::Conv2d;
pub use dendrites::{DendriteContext, DendriticLinear, Gating};
pub use dropout::Dropout;
pub use elementwise::{Normalize, Relu};
pub use kwinners::{KWinners, KWinnersSettings, Ties};
pub use linear::{event_density_for, Linear};
pub use pool::{Pool2d, PoolKind};
pub use reshape::Flatten;
pub use sequential::Sequential;
pub use sparse_weights::{MaskKind, MaskedWeights, WeightMask, PACK_LANES};
pub use spec::{KWinnersSpec, LayerSpec, ModelSpec, NeuronSpec, ResetSpec};
pub use spiking::SpikingLayer;

use crate::energy::OpCounts;
use crate::error::Result;
use crate::neuron::FireMode;
use crate::tensor::{Activation, Tensor};

/// A learnable tensor and its accumulated gradient.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub value: Tensor,
    pub grad: Tensor,
    /// Whether weight decay applies (weights yes; biases and time constants no).
    pub decays: bool,
    /// For large parameters whose gradient reaches only a few rows per step (dendritic
    /// segments): which rows, so that zeroing and the optimizer touch only those.
    pub rows: Option<RowSparse>,
}

/// Row bookkeeping of a row-sparse parameter (`Param::rows`).
#[derive(Clone, Debug, Default)]
pub struct RowSparse {
    pub row_len: usize,
    /// Rows the layer wrote gradient into since the last `zero_grad` (repeats allowed).
    pub grad_rows: Vec<u32>,
    /// Rows the last optimizer step changed; `None`: possibly all of them.
    pub updated_rows: Option<Vec<u32>>,
}

impl Param {
    pub fn new(name: impl Into<String>, value: Tensor, decays: bool) -> Self {
        let grad = Tensor::zeros(value.shape());
        Param { name: name.into(), value, grad, decays, rows: None }
    }

    /// A parameter whose gradient the layer writes row by row, listing the rows.
    pub fn row_sparse(name: impl Into<String>, value: Tensor, decays: bool, row_len: usize) -> Self {
        assert!(row_len > 0 && value.len() % row_len == 0, "rows divide the parameter");
        Param { rows: Some(RowSparse { row_len, ..Default::default() }), ..Param::new(name, value, decays) }
    }

    pub fn zero_grad(&mut self) {
        match &mut self.rows {
            Some(r) => {
                let g = self.grad.data_mut();
                for &row in &r.grad_rows {
                    g[row as usize * r.row_len..(row as usize + 1) * r.row_len].fill(0.0);
                }
                r.grad_rows.clear();
            }
            None => self.grad.fill(0.0),
        }
    }

    /// Whether every value the last update could have changed is finite.
    pub fn updated_values_finite(&self) -> bool {
        match &self.rows {
            Some(RowSparse { row_len, updated_rows: Some(rows), .. }) => {
                let v = self.value.data();
                rows.iter().all(|&r| v[r as usize * row_len..(r as usize + 1) * row_len].iter().all(|x| x.is_finite()))
            }
            _ => self.value.all_finite(),
        }
    }
}

/// Weight `[rows, cols]` and optional bias `[bias_len]` of a synaptic layer, uniform in
/// ±1/√fan_in (PyTorch's default for linear and convolution layers).
pub(crate) fn uniform_params(shape: [usize; 2], bias_len: Option<usize>, fan_in: usize, rng: &mut crate::rng::Rng) -> (Param, Option<Param>) {
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    let mut init = |dims: &[usize]| {
        let values = (0..dims.iter().product()).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect();
        Tensor::from_vec(dims, values).expect("sized from dims")
    };
    let weight = Param::new("weight", init(&shape), true);
    let bias = bias_len.map(|n| Param::new("bias", init(&[n]), false));
    (weight, bias)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keep what backward needs; dropout active.
    Train,
    /// Forward only.
    Eval,
    /// Training behaviour (dropout active) with nothing kept for backward: the first pass over
    /// a checkpointed segment, which backward re-runs in `Train` mode.
    TrainDiscard,
}

/// Per-call settings and counters shared by every layer of one forward pass.
pub struct Context {
    pub mode: Mode,
    pub fire: FireMode,
    pub ops: OpCounts,
    /// Seed for this pass's randomness (dropout masks), derived by the caller per batch.
    pub seed: u64,
    /// Time steps of the pass. An input with a time axis of 1 is then the same at every step
    /// (direct encoding): `Sequential` runs the layers before the first stateful one once and
    /// repeats their output over time. 0: the input's own time axis.
    pub time_steps: usize,
    /// The context vectors of dendritic layers (`DendriticLinear`), when the net has any.
    pub dendrite_context: Option<std::sync::Arc<DendriteContext>>,
}

impl Context {
    pub fn new(mode: Mode, seed: u64) -> Self {
        Context { mode, fire: FireMode::Heaviside, ops: OpCounts::default(), seed, time_steps: 0, dendrite_context: None }
    }
}

pub trait Layer: Send + std::fmt::Debug {
    fn kind(&self) -> &'static str;

    /// The per-sample output shape for a per-sample input shape (without T and B).
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation;

    /// From dL/d(output), accumulates parameter gradients and returns dL/d(input) when asked.
    /// Must follow a `Mode::Train` forward.
    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor>;

    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    /// Whether each time step's output depends only on that step's input (no state, no
    /// per-step randomness): a time-constant input then gives a time-constant output.
    fn time_local(&self) -> bool {
        false
    }

    /// Whether the layer is a population of spiking neurons (reported in spike rates).
    fn emits_spikes(&self) -> bool {
        false
    }

    /// Spikes emitted and neuron-steps run in the last forward, for spiking layers.
    fn activity(&self) -> Option<(u64, u64)> {
        None
    }

    /// Multiply-accumulates of one sample-step computed densely (synaptic layers; 0 for the
    /// rest), for dense-equivalent work figures.
    fn dense_macs_per_step(&self, _input: &[usize]) -> u64 {
        0
    }

    /// Bytes this layer holds for its backward pass.
    fn saved_bytes(&self) -> usize {
        0
    }

    /// Called after an optimizer step changed the parameters (e.g. to re-read a time constant,
    /// or to re-zero the weights a static sparsity mask removed).
    fn params_updated(&mut self) {}

    /// The length of the context vector the layer needs with every pass (dendritic layers).
    fn context_len(&self) -> Option<usize> {
        None
    }

    /// Whether the gradient this layer passes back is zero wherever its output was zero (ReLU,
    /// k-winners): the layer above may then skip computing those input-gradient entries.
    fn zero_output_passes_no_gradient(&self) -> bool {
        false
    }

    /// Told (at build time) that the layer below discards the gradient at zero inputs.
    fn skip_input_grad_at_zero_inputs(&mut self) {}

    /// Called after every training epoch (e.g. to decay a k-winners boost strength).
    fn end_epoch(&mut self) {}

    /// State that is not learned by gradient but belongs to the model (duty cycles), by name,
    /// for checkpoints.
    fn buffers(&self) -> Vec<(&'static str, Tensor)> {
        Vec::new()
    }

    /// Restores one of `buffers`.
    fn set_buffer(&mut self, name: &str, _value: &Tensor) -> Result<()> {
        Err(crate::error::Error::Other(format!("{} layers have no buffer {name}", self.kind())))
    }
}

/// `(T, B)` and the per-sample feature count of a `[T, B, …]` shape.
pub(crate) fn split_time_batch(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

#[cfg(test)]
mod gradcheck_tests;
