#![doc = include_str!("../../../README.md")]
// The README above is the crate's front page, and its Rust example runs as a doctest.
// Checks written `!(x > 0.0)` are meant to fail on NaN too; `partial_cmp` would hide that.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod alloc;
pub mod data;
pub mod energy;
pub mod error;
pub mod io;
pub mod neuron;
pub mod nn;
pub mod plasticity;
pub mod rng;
pub mod sim;
pub mod tensor;

pub use error::{Error, Result};
pub mod train;
