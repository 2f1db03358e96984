//! A layer of neurons: input currents in, spikes (or membrane, for LI) out, with the whole time
//! loop in the model's fused kernel.

use super::{Context, Layer, Mode, Param};
use crate::error::Result;
use crate::neuron::{FireMode, NeuronModel, NeuronTape};
use crate::tensor::{Activation, Tensor};

#[derive(Debug)]
pub struct SpikingLayer {
    pub model: Box<dyn NeuronModel>,
    /// The model's learnable scalars (PLIF's time constant), when it has any.
    pub param: Option<Param>,
    tape: Option<NeuronTape>,
    fire: FireMode,
    activity: Option<(u64, u64)>,
}

impl SpikingLayer {
    pub fn new(model: Box<dyn NeuronModel>) -> Self {
        let values = model.parameters();
        let param = (!values.is_empty()).then(|| Param::new("tau_param", Tensor::from_vec(&[values.len()], values).unwrap(), false));
        SpikingLayer { model, param, tape: None, fire: FireMode::Heaviside, activity: None }
    }
}

impl Layer for SpikingLayer {
    fn kind(&self) -> &'static str {
        self.model.kind()
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let x = input.into_dense();
        let neuron_steps = x.len() as u64;
        self.fire = ctx.fire;
        let (out, tape) = self.model.forward(x, ctx.fire, ctx.mode == Mode::Train);
        ctx.ops.neuron_updates += neuron_steps * self.model.updates_per_step();
        self.activity = match &out {
            Activation::Spikes(s) => Some((s.count_ones(), neuron_steps)),
            Activation::Dense(_) => None,
        };
        self.tape = tape;
        out
    }

    fn backward(&mut self, grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let tape = self.tape.take().expect("neuron backward without a training forward");
        let (dx, dparams) = self.model.backward(&tape, grad_output, self.fire);
        if let Some(p) = &mut self.param {
            p.grad.data_mut().iter_mut().zip(&dparams).for_each(|(a, b)| *a += b);
        }
        need_input_grad.then_some(dx)
    }

    fn params(&self) -> Vec<&Param> {
        self.param.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.param.iter_mut().collect()
    }

    fn emits_spikes(&self) -> bool {
        self.model.is_spiking()
    }

    fn activity(&self) -> Option<(u64, u64)> {
        self.activity
    }

    fn saved_bytes(&self) -> usize {
        self.tape.as_ref().map_or(0, NeuronTape::bytes)
    }

    fn params_updated(&mut self) {
        if let Some(p) = &self.param {
            self.model.set_parameters(p.value.data());
        }
    }
}
