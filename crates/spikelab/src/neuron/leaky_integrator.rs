//! LI: a non-spiking leaky integrator, the usual readout of a spiking network.
//! v[t] = α·v[t−1] + γ·x[t]; the output is v itself.

use super::{read_rows_by_sample, rows_by_sample, time_batch_features, Decay, FireMode, NeuronModel, NeuronTape};
use crate::tensor::{Activation, Tensor};
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct LeakyIntegrator {
    pub decay: Decay,
}

impl NeuronModel for LeakyIntegrator {
    fn kind(&self) -> &'static str {
        "li"
    }

    fn is_spiking(&self) -> bool {
        false
    }

    fn forward(&self, input: &Tensor, _fire: FireMode, keep_tape: bool) -> (Activation, Option<NeuronTape>) {
        let (_, batch, n) = time_batch_features(input.shape());
        let (leak, gain) = (self.decay.leak(), self.decay.gain());
        let mut out = Tensor::zeros(input.shape());
        let x = read_rows_by_sample(input.data(), batch, n);
        let v = rows_by_sample(out.data_mut(), batch, n);
        x.into_par_iter().zip(v).for_each(|(x, mut v)| {
            for t in 0..x.len() {
                let (prev, rest) = v.split_at_mut(t);
                let prev: Option<&[f32]> = prev.last().map(|r| &**r);
                for i in 0..x[t].len() {
                    rest[0][i] = leak * prev.map_or(0.0, |p| p[i]) + gain * x[t][i];
                }
            }
        });
        let tape = keep_tape.then(|| NeuronTape {
            shape: input.shape().to_vec(),
            state: Vec::new(),
            adaptation: None,
            input: None,
        });
        (Activation::Dense(out), tape)
    }

    fn backward(&self, tape: &NeuronTape, grad_output: &Tensor, _fire: FireMode) -> (Tensor, Vec<f32>) {
        let (_, batch, n) = time_batch_features(&tape.shape);
        let (leak, gain) = (self.decay.leak(), self.decay.gain());
        let mut grad_input = Tensor::zeros(&tape.shape);
        let g = read_rows_by_sample(grad_output.data(), batch, n);
        let dx = rows_by_sample(grad_input.data_mut(), batch, n);
        g.into_par_iter().zip(dx).for_each(|(g, mut dx)| {
            let mut dv = vec![0.0f32; n];
            for t in (0..g.len()).rev() {
                for i in 0..n {
                    dv[i] = g[t][i] + leak * dv[i];
                    dx[t][i] = gain * dv[i];
                }
            }
        });
        (grad_input, Vec::new())
    }
}
