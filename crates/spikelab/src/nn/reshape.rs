//! Flatten `[T, B, C, H, W]` to `[T, B, C·H·W]`: a change of shape only, spikes stay spikes.

use super::{Context, Layer};
use crate::error::Result;
use crate::tensor::{Activation, Tensor};

#[derive(Debug, Default)]
pub struct Flatten {
    input_shape: Vec<usize>,
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "flatten"
    }

    fn time_local(&self) -> bool {
        true
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![input.iter().product()])
    }

    fn forward(&mut self, input: Activation, _ctx: &mut Context) -> Activation {
        let shape = input.shape().to_vec();
        let flat = [shape[0], shape[1], shape[2..].iter().product()];
        self.input_shape = shape;
        match input {
            Activation::Dense(t) => Activation::Dense(t.reshape(&flat).expect("same size")),
            // A spike row is one (step, sample): all its features, whatever their shape.
            Activation::Spikes(s) => Activation::Spikes(s.reshape(&flat).expect("same size")),
        }
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        need_input_grad.then(|| grad_output.reshape(&self.input_shape).expect("same size"))
    }
}
