//! Neuron models. Each is a parameter record plus a fused multi-step kernel: `forward` runs the
//! whole time loop over `[T, B, features…]` input currents, `backward` runs BPTT in reverse time
//! from what the forward kept (`NeuronTape`). Kernels know nothing of layers.
//!
//! Discretisation is part of each model's contract (see `Decay`), because peers disagree on it
//! and results only transfer when it is explicit.

pub mod adaptive;
pub mod dual;
pub mod hh;
mod leaky_integrator;
mod lif;
pub mod ode_model;
pub mod slif2hh;
mod surrogate;
pub mod tvlif;

pub use leaky_integrator::LeakyIntegrator;
pub use lif::{Adaptation, Lif, Reset};
pub use surrogate::Surrogate;

use crate::tensor::{Activation, Tensor};
use serde::{Deserialize, Serialize};

/// How the spike is produced in the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FireMode {
    /// The real thing: a spike when membrane ≥ threshold.
    Heaviside,
    /// The surrogate's smooth primitive instead of the step; the backward pass is then the
    /// exact gradient, which is how the BPTT kernels are checked against finite differences.
    Smooth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Discretisation {
    /// v ← e^(−dt/τ)·v + gain·x: exact for the leak between steps.
    Exact,
    /// v ← (1 − dt/τ)·v + gain·x: forward Euler, as SpikingJelly's `LIFNode` (requires dt/τ ≤ 1).
    #[default]
    Euler,
}

/// The membrane leak and input gain of one step, from `rate` = dt/τ:
/// leak α = e^(−rate) (exact) or 1 − rate (Euler); gain γ = 1 − α when the input is decayed
/// with the membrane (`decay_input`, SpikingJelly's default), else 1 (snnTorch's `Leaky`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decay {
    pub rate: f32,
    pub discretisation: Discretisation,
    pub decay_input: bool,
}

impl Decay {
    /// No leak at all (integrate-and-fire).
    pub const NONE: Decay = Decay { rate: 0.0, discretisation: Discretisation::Euler, decay_input: false };

    pub fn leak(&self) -> f32 {
        match self.discretisation {
            Discretisation::Exact => (-self.rate).exp(),
            Discretisation::Euler => 1.0 - self.rate,
        }
    }

    pub fn gain(&self) -> f32 {
        if self.decay_input {
            1.0 - self.leak()
        } else {
            1.0
        }
    }

    /// d(leak)/d(rate) and d(gain)/d(rate), for learnable time constants.
    pub fn derivatives(&self) -> (f32, f32) {
        let d_leak = match self.discretisation {
            Discretisation::Exact => -(-self.rate).exp(),
            Discretisation::Euler => -1.0,
        };
        (d_leak, if self.decay_input { -d_leak } else { 0.0 })
    }
}

/// How a spiking model keeps its per-step state (the surrogate's argument) for BPTT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapePrecision {
    /// Exact: 4 bytes per neuron-step.
    #[default]
    F32,
    /// bfloat16, rounded to nearest: 2 bytes per neuron-step, relative error ≤ 2⁻⁹ in the
    /// surrogate's argument. Halves the largest per-step buffer of training at long T.
    Bf16,
}

/// Per-step state kept by the forward pass, in the model's tape precision.
#[derive(Clone, Debug)]
pub enum TapeState {
    F32(Vec<f32>),
    Bf16(Vec<u16>),
}

impl TapeState {
    fn bytes(&self) -> usize {
        match self {
            TapeState::F32(v) => 4 * v.len(),
            TapeState::Bf16(v) => 2 * v.len(),
        }
    }
}

/// f32 → bfloat16 bits, rounding to nearest even (NaN stays NaN).
#[inline(always)]
pub(crate) fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        return ((bits >> 16) | 0x40) as u16;
    }
    ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
}

#[inline(always)]
pub(crate) fn from_bf16(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

/// A row of kept state that can be read back as f32 values.
pub(crate) trait StateRow: Send + Sync {
    fn load_into(&self, out: &mut [f32]);
}

impl StateRow for &[f32] {
    #[inline(always)]
    fn load_into(&self, out: &mut [f32]) {
        out.copy_from_slice(self);
    }
}

impl StateRow for &[u16] {
    #[inline(always)]
    fn load_into(&self, out: &mut [f32]) {
        out.iter_mut().zip(self.iter()).for_each(|(o, &b)| *o = from_bf16(b));
    }
}

/// What a forward pass keeps for BPTT.
#[derive(Clone, Debug)]
pub struct NeuronTape {
    /// `[T, B, features…]`.
    pub shape: Vec<usize>,
    /// Per step: membrane minus threshold for spiking models (the surrogate's argument), the
    /// membrane itself for non-spiking ones (empty when the model needs none).
    pub state: TapeState,
    /// Per step: the adaptation variable, for adaptive models.
    pub adaptation: Option<Vec<f32>>,
    /// The input currents, kept only when a time constant is learned.
    pub input: Option<Vec<f32>>,
    /// Per step: the neurons lateral inhibition silenced (`Lif::winners`).
    pub inhibited: Option<crate::tensor::Spikes>,
    /// Per step: every neuron's whole state at the step's start, for the f64 conductance models
    /// (`OdeModel`), whose backward retraces the forward from there.
    pub states: Option<Vec<f64>>,
}

impl NeuronTape {
    pub fn bytes(&self) -> usize {
        self.state.bytes()
            + 4 * (self.adaptation.as_ref().map_or(0, Vec::len) + self.input.as_ref().map_or(0, Vec::len))
            + self.inhibited.as_ref().map_or(0, |s| s.storage_bytes())
            + 8 * self.states.as_ref().map_or(0, Vec::len)
    }
}

pub trait NeuronModel: Send + Sync + std::fmt::Debug {
    /// Short name (`if`, `lif`, `plif`, `alif`, `li`).
    fn kind(&self) -> &'static str;

    /// Whether the output is spikes (else the membrane potential, dense).
    fn is_spiking(&self) -> bool;

    /// Learnable scalars of the model (PLIF's time-constant parameter); empty for most.
    fn parameters(&self) -> Vec<f32> {
        Vec::new()
    }

    fn set_parameters(&mut self, _values: &[f32]) {}

    /// What one neuron's network time step costs, in the energy model's neuron updates (one
    /// multiply–accumulate and one add each): 1 for the LIF family.
    fn updates_per_step(&self) -> u64 {
        1
    }

    /// Runs all `T` steps from rest over input currents `[T, B, features…]`. Takes the input by
    /// value: kernels reuse its memory for what the tape keeps.
    fn forward(&self, input: Tensor, fire: FireMode, keep_tape: bool) -> (Activation, Option<NeuronTape>);

    /// BPTT: from the gradient of the loss with respect to every output, the gradient with
    /// respect to every input current and to each learnable scalar.
    /// Takes the output gradient by value and returns the input gradient in its memory.
    fn backward(&self, tape: &NeuronTape, grad_output: Tensor, fire: FireMode) -> (Tensor, Vec<f32>);
}

/// Splits a `[T, B, n]` buffer into per-sample lists of per-step rows, so a sample's whole time
/// loop can run on one thread while samples run in parallel. An empty buffer (no features, or
/// a quantity the model does not keep) gives `batch` empty lists.
pub(crate) fn rows_by_sample<E>(data: &mut [E], batch: usize, n: usize) -> Vec<Vec<&mut [E]>> {
    group_by_sample(data.chunks_mut(n.max(1)), batch)
}

pub(crate) fn read_rows_by_sample<E>(data: &[E], batch: usize, n: usize) -> Vec<Vec<&[E]>> {
    group_by_sample(data.chunks(n.max(1)), batch)
}

/// Groups the rows of a `[T, B]`-row buffer (any row iterator in step-major order) by sample.
pub(crate) fn group_by_sample<R>(rows: impl Iterator<Item = R>, batch: usize) -> Vec<Vec<R>> {
    let mut per_sample: Vec<Vec<R>> = (0..batch).map(|_| Vec::new()).collect();
    for (i, row) in rows.enumerate() {
        per_sample[i % batch].push(row);
    }
    per_sample
}

/// `(T, B, features per sample)` of a `[T, B, …]` shape.
pub(crate) fn time_batch_features(shape: &[usize]) -> (usize, usize, usize) {
    assert!(shape.len() >= 2, "neuron input must be [T, B, features…], got {shape:?}");
    (shape[0], shape[1], shape[2..].iter().product())
}

#[cfg(test)]
mod gradcheck_tests;
