//! `Tensor` (f32, contiguous, row-major) and `Spikes` (bit-packed binary trains), with the
//! kernels every layer shares: dense matrix products, spike-driven accumulation, im2col.

mod conv;
mod event;
pub mod math;
mod matmul;
mod packed;
mod spikes;
mod zero_skip;

pub use conv::{col2im, for_each_spike_tap, im2col, ConvGeometry};
pub use event::{spike_matmul, spike_weight_grad, SpikeIndex};
pub use matmul::{matmul, measure_gemm_gflops, Transpose};
pub use packed::{PackedKernels, SparseRows};
pub(crate) use spikes::pack_into as pack_row_into;
pub use spikes::Spikes;
pub use zero_skip::{dot, nonzero_density, output_sparse_weight_grad, zero_skipping_input_grad, zero_skipping_matmul, zero_skipping_weight_grad};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    pub fn zeros(shape: &[usize]) -> Self {
        Tensor { shape: shape.to_vec(), data: vec![0.0; shape.iter().product()] }
    }

    pub fn full(shape: &[usize], value: f32) -> Self {
        Tensor { shape: shape.to_vec(), data: vec![value; shape.iter().product()] }
    }

    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::Shape(format!("shape {shape:?} holds {n} values, got {}", data.len())));
        }
        Ok(Tensor { shape: shape.to_vec(), data })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Same values, new shape with the same number of elements.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != self.data.len() {
            return Err(Error::Shape(format!("cannot reshape {:?} into {shape:?}", self.shape)));
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// `[1, …]` → `[steps, …]`, the one slice repeated.
    pub fn repeat_leading(&self, steps: usize) -> Tensor {
        assert_eq!(self.shape.first(), Some(&1), "repeat_leading needs a leading axis of 1, got {:?}", self.shape);
        let mut shape = self.shape.clone();
        shape[0] = steps;
        Tensor { shape, data: self.data.repeat(steps) }
    }

    /// `[T, …]` → `[1, …]`, summed over the leading axis in order.
    pub fn sum_leading(&self) -> Tensor {
        let slice = self.inner_size(1);
        let mut data = vec![0.0f32; slice];
        for step in self.data.chunks_exact(slice.max(1)) {
            data.iter_mut().zip(step).for_each(|(a, v)| *a += v);
        }
        let mut shape = self.shape.clone();
        shape[0] = 1;
        Tensor { shape, data }
    }

    /// Product of the dimensions from `axis` on: the row length when the leading axes are rows.
    pub fn inner_size(&self, axis: usize) -> usize {
        self.shape[axis..].iter().product()
    }

    pub fn fill(&mut self, value: f32) {
        self.data.fill(value);
    }

    pub fn add_assign(&mut self, other: &Tensor) {
        debug_assert_eq!(self.shape, other.shape);
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
        }
    }

    pub fn scale(&mut self, factor: f32) {
        self.data.iter_mut().for_each(|x| *x *= factor);
    }

    pub fn sum(&self) -> f64 {
        self.data.iter().map(|&x| x as f64).sum()
    }

    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }
}

/// What flows between layers: analog values or binary spikes, both shaped `[T, B, features…]`.
#[derive(Clone, Debug)]
pub enum Activation {
    Dense(Tensor),
    Spikes(Spikes),
}

impl Activation {
    pub fn shape(&self) -> &[usize] {
        match self {
            Activation::Dense(t) => t.shape(),
            Activation::Spikes(s) => s.shape(),
        }
    }

    /// The values as a dense tensor (spikes become 0/1).
    pub fn into_dense(self) -> Tensor {
        match self {
            Activation::Dense(t) => t,
            Activation::Spikes(s) => s.to_dense(),
        }
    }

    /// Bytes of the stored values (4 per dense value, 1 bit per spike rounded to whole words).
    pub fn storage_bytes(&self) -> usize {
        match self {
            Activation::Dense(t) => 4 * t.len(),
            Activation::Spikes(s) => s.storage_bytes(),
        }
    }

    /// The values as a dense tensor: borrowed when already dense, unpacked from spikes.
    pub fn dense(&self) -> std::borrow::Cow<'_, Tensor> {
        match self {
            Activation::Dense(t) => std::borrow::Cow::Borrowed(t),
            Activation::Spikes(s) => std::borrow::Cow::Owned(s.to_dense()),
        }
    }
}
