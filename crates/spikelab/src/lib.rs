//! spikelab: spiking neuron models, gradient and local learning, sparsity and energy
//! accounting over one fast compute core. See `docs/architecture.md` for the module map.

pub mod data;
pub mod energy;
pub mod error;
pub mod io;
pub mod neuron;
pub mod nn;
pub mod rng;
pub mod tensor;

pub use error::{Error, Result};
pub mod train;
