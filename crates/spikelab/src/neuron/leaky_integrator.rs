//! LI: a non-spiking leaky integrator, the usual readout of a spiking network.
//! v[t] = α·v[t−1] + γ·x[t]; the output is v itself.

use super::{rows_by_sample, time_batch_features, Decay, FireMode, NeuronModel, NeuronTape};
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

    fn forward(&self, input: Tensor, _fire: FireMode, keep_tape: bool) -> (Activation, Option<NeuronTape>) {
        let (_, batch, n) = time_batch_features(input.shape());
        let (leak, gain) = (self.decay.leak(), self.decay.gain());
        let shape = input.shape().to_vec();
        // In place: row t holds x[t] until it becomes v[t]; row t − 1 already holds v[t − 1].
        let mut out = input;
        rows_by_sample(out.data_mut(), batch, n).into_par_iter().for_each(|mut v| {
            for t in 0..v.len() {
                let (prev, rest) = v.split_at_mut(t);
                let prev: Option<&[f32]> = prev.last().map(|r| &**r);
                for i in 0..rest[0].len() {
                    rest[0][i] = leak * prev.map_or(0.0, |p| p[i]) + gain * rest[0][i];
                }
            }
        });
        let tape = keep_tape.then(|| NeuronTape { shape, state: super::TapeState::F32(Vec::new()), adaptation: None, input: None, inhibited: None, states: None });
        (Activation::Dense(out), tape)
    }

    fn backward(&self, tape: &NeuronTape, grad_output: Tensor, _fire: FireMode) -> (Tensor, Vec<f32>) {
        let (_, batch, n) = time_batch_features(&tape.shape);
        let (leak, gain) = (self.decay.leak(), self.decay.gain());
        let mut grad_input = grad_output; // overwritten in place, step by step
        rows_by_sample(grad_input.data_mut(), batch, n).into_par_iter().for_each(|mut g_dx| {
            let mut dv = vec![0.0f32; n];
            for t in (0..g_dx.len()).rev() {
                for i in 0..n {
                    dv[i] = g_dx[t][i] + leak * dv[i];
                    g_dx[t][i] = gain * dv[i];
                }
            }
        });
        (grad_input, Vec::new())
    }
}
