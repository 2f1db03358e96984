//! Dropout with one mask per sample shared by every time step (a dropped neuron stays dropped
//! for the whole presentation, as SpikingJelly's multi-step `Dropout`), scaled by 1/(1 − p).

use super::{split_time_batch, Context, Layer, Mode};
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Activation, Tensor};

#[derive(Debug)]
pub struct Dropout {
    pub p: f32,
    /// Per (sample, feature): 0 or 1/(1 − p); empty in evaluation.
    mask: Vec<f32>,
    /// Distinguishes this layer's stream from other dropout layers in the same pass.
    stream: u64,
}

impl Dropout {
    pub fn new(p: f32, stream: u64) -> Self {
        Dropout { p, mask: Vec::new(), stream }
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "dropout"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        if ctx.mode == Mode::Eval || self.p == 0.0 {
            self.mask.clear();
            return input;
        }
        let (_, batch, features) = split_time_batch(input.shape());
        let mut rng = Rng::derive(ctx.seed, 0xD0 ^ self.stream);
        let keep = 1.0 / (1.0 - self.p);
        self.mask = (0..batch * features).map(|_| if rng.uniform() < self.p { 0.0 } else { keep }).collect();
        let mut x = input.into_dense();
        for step in x.data_mut().chunks_mut(batch * features) {
            step.iter_mut().zip(&self.mask).for_each(|(v, m)| *v *= m);
        }
        Activation::Dense(x)
    }

    fn backward(&mut self, mut grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        if !need_input_grad {
            return None;
        }
        if !self.mask.is_empty() {
            let n = self.mask.len();
            for step in grad_output.data_mut().chunks_mut(n) {
                step.iter_mut().zip(&self.mask).for_each(|(g, m)| *g *= m);
            }
        }
        Some(grad_output)
    }
}
