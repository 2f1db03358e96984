//! Element-wise, time-local layers of the non-spiking (ANN) nets: ReLU and a fixed affine
//! normalisation of the input, `(x − mean) / std` (the MNIST 0.1307 / 0.3081 of most papers).

use super::{Context, Layer, Mode};
use crate::error::{Error, Result};
use crate::tensor::{Activation, Tensor};

#[derive(Debug, Default)]
pub struct Relu {
    /// Which inputs were positive in the last training forward.
    positive: Vec<bool>,
}

impl Layer for Relu {
    fn kind(&self) -> &'static str {
        "relu"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn time_local(&self) -> bool {
        true
    }

    fn zero_output_passes_no_gradient(&self) -> bool {
        true
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let mut x = input.into_dense();
        if ctx.mode == Mode::Train {
            self.positive = x.data().iter().map(|&v| v > 0.0).collect();
        }
        x.data_mut().iter_mut().for_each(|v| *v = v.max(0.0));
        Activation::Dense(x)
    }

    fn backward(&mut self, mut grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let positive = std::mem::take(&mut self.positive);
        assert_eq!(positive.len(), grad_output.len(), "relu backward without a training forward");
        need_input_grad.then(|| {
            grad_output.data_mut().iter_mut().zip(&positive).for_each(|(g, &p)| *g = if p { *g } else { 0.0 });
            grad_output
        })
    }
}

#[derive(Debug)]
pub struct Normalize {
    pub mean: f32,
    pub std: f32,
}

impl Normalize {
    pub fn new(mean: f32, std: f32, key: &str) -> Result<Self> {
        if !mean.is_finite() {
            return Err(Error::config(format!("{key}.mean"), format!("must be finite, got {mean}")));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(Error::config(format!("{key}.std"), format!("must be positive, got {std}")));
        }
        Ok(Normalize { mean, std })
    }
}

impl Layer for Normalize {
    fn kind(&self) -> &'static str {
        "normalize"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn time_local(&self) -> bool {
        true
    }

    fn forward(&mut self, input: Activation, _ctx: &mut Context) -> Activation {
        let mut x = input.into_dense();
        let (mean, scale) = (self.mean, 1.0 / self.std);
        x.data_mut().iter_mut().for_each(|v| *v = (*v - mean) * scale);
        Activation::Dense(x)
    }

    fn backward(&mut self, mut grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        need_input_grad.then(|| {
            let scale = 1.0 / self.std;
            grad_output.data_mut().iter_mut().for_each(|g| *g *= scale);
            grad_output
        })
    }
}
