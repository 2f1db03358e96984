//! A stack of layers built from a `ModelSpec`, with every shape checked at build time.

use super::{Context, Layer, Mode, ModelSpec, Param};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Activation, Tensor};

#[derive(Debug)]
pub struct Sequential {
    pub spec: ModelSpec,
    pub layers: Vec<Box<dyn Layer>>,
    shapes: Vec<Vec<usize>>,
    /// Index of the layer before which the last forward repeated a time-constant activation
    /// over time (`layers.len()`: after the last layer); backward sums over time there.
    repeated_before: Option<usize>,
    /// Gradient checkpointing: training forwards keep only each segment's input (a segment is a
    /// learning layer and the layers up to the next one) and backward re-runs one segment at a
    /// time. Trades one more forward pass for holding one segment's state instead of all.
    pub recompute: bool,
    /// Inputs of the segments of the last training forward (with `recompute`), by first layer.
    checkpoints: Vec<(usize, Activation)>,
    /// Settings of the last training forward, for re-running segments identically.
    replay: Option<Replay>,
}

#[derive(Clone, Copy, Debug)]
struct Replay {
    fire: crate::neuron::FireMode,
    seed: u64,
    time_steps: usize,
}

impl Sequential {
    /// Builds and initialises the network; the seed fixes the initial weights.
    pub fn from_spec(spec: &ModelSpec, seed: u64) -> Result<Self> {
        if spec.input.is_empty() || spec.input.contains(&0) {
            return Err(Error::config("model.input", format!("must be a non-empty shape of positive sizes, got {:?}", spec.input)));
        }
        if spec.layers.is_empty() {
            return Err(Error::config("model.layers", "the model has no layers"));
        }
        let mut rng = Rng::derive(seed, 0x1A7E5);
        let mut shapes = vec![spec.input.clone()];
        let mut layers = Vec::with_capacity(spec.layers.len());
        for (i, layer_spec) in spec.layers.iter().enumerate() {
            let key = format!("model.layers[{i}]");
            let input = shapes.last().unwrap();
            let layer = layer_spec.build(&key, input, &mut rng, i)?;
            let out = layer.output_shape(input).map_err(|e| Error::Shape(format!("{key} ({}): {e}", layer.kind())))?;
            shapes.push(out);
            layers.push(layer);
        }
        for i in 1..layers.len() {
            if layers[i - 1].zero_output_passes_no_gradient() {
                layers[i].skip_input_grad_at_zero_inputs();
            }
        }
        Ok(Sequential { spec: spec.clone(), layers, shapes, repeated_before: None, recompute: false, checkpoints: Vec::new(), replay: None })
    }

    pub fn input_shape(&self) -> &[usize] {
        &self.shapes[0]
    }

    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().unwrap()
    }

    /// Per-sample shape after each layer.
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes[1..]
    }

    /// Runs every layer. With `ctx.time_steps = T > 1` and an input of one time step (the same
    /// at every step), the time-local layers in front run once and their output is repeated
    /// over the T steps where the first stateful layer needs it.
    pub fn forward(&mut self, input: Activation, ctx: &mut Context) -> Result<Activation> {
        let shape = input.shape();
        if shape.len() < 2 || shape[2..] != self.shapes[0][..] {
            return Err(Error::Shape(format!("network expects input [T, B, {:?}], got {shape:?}", self.shapes[0])));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if let Some(len) = layer.context_len() {
                let fits = ctx.dendrite_context.as_ref().is_some_and(|c| {
                    let contexts = c.vectors.len() / len.max(1);
                    c.vectors.shape().last() == Some(&len) && c.of_sample.len() == shape[1] && c.of_sample.iter().all(|&k| (k as usize) < contexts)
                });
                if !fits {
                    return Err(super::dendrites::missing_context(i, len));
                }
            }
        }
        let steps = if ctx.time_steps == 0 { shape[0] } else { ctx.time_steps };
        if shape[0] != steps && shape[0] != 1 {
            return Err(Error::Shape(format!("input has {} time steps, the pass {steps}", shape[0])));
        }
        self.repeated_before = None;
        self.checkpoints.clear();
        let checkpointing = self.recompute && ctx.mode == Mode::Train;
        self.replay = checkpointing.then_some(Replay { fire: ctx.fire, seed: ctx.seed, time_steps: steps });
        let starts = if checkpointing { self.segment_starts() } else { Vec::new() };
        let mut x = input;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            if x.shape()[0] != steps && !layer.time_local() {
                x = repeat_over_time(x, steps);
                self.repeated_before = Some(i);
            }
            if starts.contains(&i) {
                self.checkpoints.push((i, x.clone()));
            }
            // Checkpointed segments run as in training (dropout on) but keep nothing.
            let mode = ctx.mode;
            if checkpointing && starts.first().is_some_and(|&f| i >= f) {
                ctx.mode = Mode::TrainDiscard;
            }
            x = layer.forward(x, ctx);
            ctx.mode = mode;
        }
        if x.shape()[0] != steps {
            x = repeat_over_time(x, steps);
            self.repeated_before = Some(self.layers.len());
        }
        Ok(x)
    }

    /// Index of the first layer with parameters: backward stops there, since nothing below it
    /// learns (the input gradient of that layer is never computed).
    fn first_learning_layer(&self) -> Option<usize> {
        self.layers.iter().position(|l| !l.params().is_empty())
    }

    /// First layers of the checkpointed segments: every learning layer (the layers before the
    /// first one never run backward).
    fn segment_starts(&self) -> Vec<usize> {
        self.layers.iter().enumerate().filter(|(_, l)| !l.params().is_empty()).map(|(i, _)| i).collect()
    }

    /// Backpropagates dL/d(output) through every layer (after a training forward). With
    /// checkpoints, each segment is first re-run from its saved input, keeping its state.
    pub fn backward(&mut self, grad_output: Tensor) {
        let Some(first) = self.first_learning_layer() else { return };
        let repeated_before = self.repeated_before;
        let checkpoints = std::mem::take(&mut self.checkpoints);
        let mut grad = Some(grad_output);
        let mut end = self.layers.len();
        // One segment per checkpoint, last first; without checkpoints one segment of all.
        let mut segments: Vec<(usize, Option<Activation>)> = checkpoints.into_iter().map(|(i, x)| (i, Some(x))).collect();
        if segments.is_empty() {
            segments.push((first, None));
        }
        while let Some((start, saved)) = segments.pop() {
            if let (Some(x), Some(replay)) = (saved, self.replay) {
                self.rerun(start, end, x, replay);
            }
            for i in (start..end).rev() {
                let mut g = grad.take().expect("every layer above the first learning one returns an input gradient");
                if repeated_before == Some(i + 1) {
                    g = g.sum_leading(); // the adjoint of repeating over time
                }
                grad = self.layers[i].backward(g, i > first);
            }
            end = start;
        }
    }

    /// Re-runs layers `start..end` in training mode from their saved input, so that they keep
    /// what backward needs; the same seed and settings reproduce the first pass exactly.
    fn rerun(&mut self, start: usize, end: usize, input: Activation, replay: Replay) {
        let mut ctx = Context::new(Mode::Train, replay.seed);
        (ctx.fire, ctx.time_steps) = (replay.fire, replay.time_steps);
        let mut x = input;
        for (i, layer) in self.layers[start..end].iter_mut().enumerate() {
            if x.shape()[0] != replay.time_steps && !layer.time_local() {
                debug_assert_eq!(self.repeated_before, Some(start + i));
                x = repeat_over_time(x, replay.time_steps);
            }
            x = layer.forward(x, &mut ctx);
        }
    }

    /// Floating-point operations of one training sample-step if every synaptic product were
    /// dense: forward, weight gradient, and input gradient for all but the first learning
    /// layer (2 per multiply-accumulate). The yardstick for dense-equivalent throughput.
    pub fn dense_training_flops_per_step(&self) -> u64 {
        let first = self.first_learning_layer().unwrap_or(0);
        let products = |i: usize| if i > first { 3 } else { 2 };
        self.layers.iter().zip(&self.shapes).enumerate().map(|(i, (l, input))| 2 * products(i) * l.dense_macs_per_step(input)).sum()
    }

    /// Every parameter with its stable name (`layers.{i}.{name}`), in layer order.
    pub fn named_params(&self) -> Vec<(String, &Param)> {
        self.layers.iter().enumerate().flat_map(|(i, l)| l.params().into_iter().map(move |p| (format!("layers.{i}.{}", p.name), p))).collect()
    }

    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }

    pub fn zero_grad(&mut self) {
        for p in self.params_mut() {
            p.zero_grad();
        }
    }

    pub fn params_updated(&mut self) {
        self.layers.iter_mut().for_each(|l| l.params_updated());
    }

    pub fn end_epoch(&mut self) {
        self.layers.iter_mut().for_each(|l| l.end_epoch());
    }

    /// Every layer's buffers as `layers.{i}.{name}` (the naming of `named_params`).
    pub fn named_buffers(&self) -> Vec<(String, Tensor)> {
        self.layers.iter().enumerate().flat_map(|(i, l)| l.buffers().into_iter().map(move |(n, t)| (format!("layers.{i}.{n}"), t))).collect()
    }

    /// Restores a buffer named as in `named_buffers`.
    pub fn set_buffer(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let bad = || Error::Other(format!("the model has no buffer {name}"));
        let rest = name.strip_prefix("layers.").ok_or_else(bad)?;
        let (index, buffer) = rest.split_once('.').ok_or_else(bad)?;
        let layer = index.parse::<usize>().ok().and_then(|i| self.layers.get_mut(i)).ok_or_else(bad)?;
        layer.set_buffer(buffer, value)
    }

    pub fn parameter_count(&self) -> usize {
        self.named_params().iter().map(|(_, p)| p.value.len()).sum()
    }

    /// Bytes held for backward across all layers and checkpoints (call between forward and
    /// backward).
    pub fn saved_bytes(&self) -> usize {
        let checkpoints: usize = self.checkpoints.iter().map(|(_, x)| x.storage_bytes()).sum();
        checkpoints + self.layers.iter().map(|l| l.saved_bytes()).sum::<usize>()
    }

    /// Names of the spiking layers (`layers.{i}.{kind}`), in the order `activity` reports them.
    pub fn spiking_layer_names(&self) -> Vec<String> {
        self.layers.iter().enumerate().filter(|(_, l)| l.emits_spikes()).map(|(i, l)| format!("layers.{i}.{}", l.kind())).collect()
    }

    /// (spikes, neuron-steps) of each spiking layer in the last forward.
    pub fn activity(&self) -> Vec<(u64, u64)> {
        self.layers.iter().filter(|l| l.emits_spikes()).map(|l| l.activity().unwrap_or((0, 0))).collect()
    }
}

fn repeat_over_time(x: Activation, steps: usize) -> Activation {
    match x {
        Activation::Dense(t) => Activation::Dense(t.repeat_leading(steps)),
        // Only dense (direct) input arrives with one time step; spikes are always per step.
        Activation::Spikes(s) => Activation::Dense(s.to_dense().repeat_leading(steps)),
    }
}
