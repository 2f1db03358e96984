//! Layers with explicit forward and backward passes over `[T, B, features…]`.
//!
//! Stateless synaptic layers fold `T·B` into rows and do one product for all steps; spiking
//! layers hand the whole time loop to their neuron model's fused kernel. There is no tape:
//! each layer keeps what its own backward needs, and `Sequential` calls them in reverse.

mod conv;
mod dropout;
mod linear;
mod pool;
mod reshape;
mod sequential;
mod spec;
mod spiking;

pub use conv::Conv2d;
pub use dropout::Dropout;
pub use linear::Linear;
pub use pool::{Pool2d, PoolKind};
pub use reshape::Flatten;
pub use sequential::Sequential;
pub use spec::{LayerSpec, ModelSpec, NeuronSpec, ResetSpec};
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
}

impl Param {
    pub fn new(name: impl Into<String>, value: Tensor, decays: bool) -> Self {
        let grad = Tensor::zeros(value.shape());
        Param { name: name.into(), value, grad, decays }
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
}

impl Context {
    pub fn new(mode: Mode, seed: u64) -> Self {
        Context { mode, fire: FireMode::Heaviside, ops: OpCounts::default(), seed, time_steps: 0 }
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

    /// Called after an optimizer step changed the parameters (e.g. to re-read a time constant).
    fn params_updated(&mut self) {}
}

/// `(T, B)` and the per-sample feature count of a `[T, B, …]` shape.
pub(crate) fn split_time_batch(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

#[cfg(test)]
mod gradcheck_tests;
