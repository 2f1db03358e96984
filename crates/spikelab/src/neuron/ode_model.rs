//! Point neurons of the simulator (HH, tv-LIF2HH, Izhikevich, AdEx) as trainable layers: the
//! simulator's own model, stepped with its own integrator, differentiated exactly for BPTT.
//!
//! One network time step holds the layer's input current constant for `substeps` integration
//! steps of `dt` ms. Two kinds of spike:
//! - models whose membrane comes back by itself (HH, tv-LIF2HH) output s = H(V − θ) at the end
//!   of the step (the level form of the reference's trainable HH, not the simulator's upward
//!   crossing, so it has a surrogate gradient);
//! - models that reset at a peak (Izhikevich, AdEx) test s = H(V − θ) after every substep and
//!   move the state to its reset value, x ← x + s·(reset(x) − x), exactly as the simulator
//!   does for s = 1; the step outputs its number of spikes.
//!
//! The surrogate's parameter is in mV. Each neuron starts every sample at rest.
//!
//! Backward: the forward keeps the state at the start of every network step (N values per
//! neuron-step, f64); BPTT recomputes the substeps of one network step from there and walks
//! them in reverse with the exact Jacobian of `OdeNeuron::advance` (and of the reset), got by
//! running the same code on dual numbers. Cost: about K = N + 1 times a forward substep per
//! substep.

use super::dual::{Dual, Scalar};
use super::{read_rows_by_sample, rows_by_sample, time_batch_features, FireMode, NeuronModel, NeuronTape, Surrogate, TapeState};
use crate::tensor::{Activation, Spikes, Tensor};
use rayon::prelude::*;

/// A point neuron whose state (N values) follows smooth equations between spikes: the form both
/// the simulator and the trainable layer step.
pub trait OdeNeuron<const N: usize>: Copy + Send + Sync + std::fmt::Debug {
    fn kind(&self) -> &'static str;
    /// The state at rest under no input.
    fn rest(&self) -> [f64; N];
    /// The membrane voltage (mV) of a state.
    fn voltage<S: Scalar>(&self, x: &[S; N]) -> S;
    /// The spike level (mV): the simulator's upward-crossing detector for models whose membrane
    /// comes back by itself, the peak for models that reset.
    fn spike_threshold(&self) -> f64;
    /// One integration step of `dt` ms under `input` (in the model's current unit: µA/cm² for
    /// HH, pA for AdEx), held constant over the step.
    fn advance<S: Scalar>(&self, x: [S; N], input: S, dt: f64) -> [S; N];
    /// Whether a spike resets the state (at `spike_threshold`, the peak) rather than the
    /// membrane coming back by itself.
    fn resets(&self) -> bool {
        false
    }
    /// The state right after a spike from `x`, for models that reset.
    fn after_spike<S: Scalar>(&self, x: [S; N]) -> [S; N] {
        x
    }
    /// Arithmetic operations of one `advance` in f64, counted from the code with an `exp` as
    /// 10: what the energy estimate charges (it is an estimate, not a measurement).
    fn operations_per_advance(&self) -> u64;
}

/// A trainable layer of `OdeNeuron`s. `K` must be `N + 1` (the Jacobian's columns: the N state
/// values and the input current), written out because stable Rust cannot compute it in a type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OdeModel<M, const N: usize, const K: usize> {
    pub neuron: M,
    /// Integration step, ms.
    pub dt: f64,
    /// Integration steps per network time step.
    pub substeps: usize,
    /// θ of s = H(V − θ), mV: tested at the end of each network step, or after every substep
    /// for models that reset.
    pub threshold: f64,
    /// Input current, in the model's unit, per unit of layer input.
    pub current_scale: f64,
    /// Over V − θ in mV.
    pub surrogate: Surrogate,
}

/// The trainable Hodgkin–Huxley layer.
pub type HhModel = OdeModel<super::hh::Hh, 4, 5>;
/// The trainable tv-LIF2HH layer: four time-varying LIFs per unit, same output as `HhModel`.
pub type TvLif2HhModel = OdeModel<super::hh::TvLif2Hh, 10, 11>;

impl<M: OdeNeuron<N>, const N: usize, const K: usize> OdeModel<M, N, K> {
    /// The layer with the neuron's own spike threshold, an arctan surrogate about 5 mV wide and
    /// 10 µA/cm² per unit of input.
    pub fn new(neuron: M, dt: f64, substeps: usize) -> Self {
        assert_eq!(K, N + 1, "OdeModel: K must be N + 1");
        assert!(substeps >= 1 && dt > 0.0, "OdeModel: at least one substep of positive dt, got {substeps} × {dt}");
        OdeModel { neuron, dt, substeps, threshold: neuron.spike_threshold(), current_scale: 10.0, surrogate: Surrogate::Arctan { alpha: 0.2 } }
    }

    /// Runs one neuron over its input currents (one per network step, layer units), with
    /// `fire` turning V − θ into a spike, calling `emit(t, state at the start of step t, output
    /// of step t)`.
    pub fn run_neuron(&self, input: impl Iterator<Item = f64>, fire: impl Fn(f64) -> f64, mut emit: impl FnMut(usize, &[f64; N], f64)) {
        let mut x = self.neuron.rest();
        for (t, current) in input.enumerate() {
            let start = x;
            let current = current * self.current_scale;
            let mut spikes = 0.0;
            for _ in 0..self.substeps {
                let (next, s) = self.substep(x, current, &fire);
                x = next;
                spikes += s;
            }
            let output = if self.neuron.resets() { spikes } else { fire(self.neuron.voltage(&x) - self.threshold) };
            emit(t, &start, output);
        }
    }

    /// One integration step and, for a model that resets, its spike and reset: (state, spike).
    fn substep(&self, x: [f64; N], current: f64, fire: &impl Fn(f64) -> f64) -> ([f64; N], f64) {
        let y = self.neuron.advance(x, current, self.dt);
        if !self.neuron.resets() {
            return (y, 0.0);
        }
        let s = fire(self.neuron.voltage(&y) - self.threshold);
        // Whole spikes take the reset state as is, so a spiking layer steps as the simulator.
        let z = match s {
            0.0 => y,
            1.0 => self.neuron.after_spike(y),
            _ => {
                let a = self.neuron.after_spike(y);
                std::array::from_fn(|k| y[k] + s * (a[k] - y[k]))
            }
        };
        (z, s)
    }

    /// The spike function of a fire mode, over V − θ in mV. The real spike counts a NaN
    /// membrane (a diverged upswing) as a spike, as the simulator does.
    fn fire_fn(&self, fire: FireMode) -> impl Fn(f64) -> f64 + '_ {
        move |u: f64| match fire {
            FireMode::Heaviside => (!(u < 0.0)) as u8 as f64,
            FireMode::Smooth => self.surrogate.primitive(u as f32) as f64,
        }
    }

    /// Gradient of the loss with respect to one network step's input (layer units), given the
    /// step's start state, the gradient `g_out` with respect to its output and `adjoint`, the
    /// gradient with respect to its end state, which it turns into the gradient with respect to
    /// the start state. `scratch` holds the substeps.
    fn step_backward(&self, start: &[f64; N], input: f64, g_out: f64, fire: FireMode, adjoint: &mut [f64; N], scratch: &mut Vec<[f64; N]>) -> f64 {
        let current = input * self.current_scale;
        let fire_fn = self.fire_fn(fire);
        scratch.clear();
        scratch.push(*start);
        for k in 0..self.substeps - 1 {
            let (next, _) = self.substep(scratch[k], current, &fire_fn);
            scratch.push(next);
        }
        let mut d_current = 0.0;
        for (k, x) in scratch.iter().enumerate().rev() {
            let dual: [Dual<K>; N] = std::array::from_fn(|j| Dual::variable(x[j], j));
            let next = self.neuron.advance(dual, Dual::variable(current, N), self.dt);
            // The dual values are the f64 step's, bit for bit: the substep's end state.
            let end = next.map(|d| d.value);
            if self.neuron.resets() {
                self.reset_backward(end, g_out, &fire_fn, adjoint);
            } else if k == self.substeps - 1 {
                // The step's output H(V − θ) reads the last substep's end.
                let d_u = g_out * self.surrogate.grad((self.neuron.voltage(&end) - self.threshold) as f32) as f64;
                for (a, dv) in adjoint.iter_mut().zip(self.voltage_gradient(&end)) {
                    *a += d_u * dv;
                }
            }
            let mut back = [0.0; N];
            for (a, out) in adjoint.iter().zip(&next) {
                for (b, g) in back.iter_mut().zip(&out.grad) {
                    *b += a * g;
                }
                d_current += a * out.grad[N];
            }
            *adjoint = back;
        }
        d_current * self.current_scale
    }

    /// Through z = y + s·(reset(y) − y), s = fire(V(y) − θ), which also adds s to the step's
    /// output: turns the gradient with respect to z into the gradient with respect to y.
    fn reset_backward(&self, y: [f64; N], g_out: f64, fire: &impl Fn(f64) -> f64, adjoint: &mut [f64; N]) {
        let u = self.neuron.voltage(&y) - self.threshold;
        let s = fire(u);
        let dual: [Dual<N>; N] = std::array::from_fn(|j| Dual::variable(y[j], j));
        let reset = self.neuron.after_spike(dual);
        let g_s = g_out + adjoint.iter().zip(&reset).zip(&y).map(|((a, r), y)| a * (r.value - y)).sum::<f64>();
        let d_u = g_s * self.surrogate.grad(u as f32) as f64;
        let mut back: [f64; N] = std::array::from_fn(|j| (1.0 - s) * adjoint[j]);
        for (a, r) in adjoint.iter().zip(&reset) {
            for (b, g) in back.iter_mut().zip(&r.grad) {
                *b += s * a * g;
            }
        }
        for (b, dv) in back.iter_mut().zip(self.voltage_gradient(&y)) {
            *b += d_u * dv;
        }
        *adjoint = back;
    }

    /// ∂V/∂x, constant for these models (V is a sum of state values) but taken from `voltage`
    /// itself so a new model cannot get it wrong.
    fn voltage_gradient(&self, x: &[f64; N]) -> [f64; N] {
        let dual: [Dual<N>; N] = std::array::from_fn(|j| Dual::variable(x[j], j));
        self.neuron.voltage(&dual).grad
    }
}

impl<M: OdeNeuron<N>, const N: usize, const K: usize> NeuronModel for OdeModel<M, N, K> {
    fn kind(&self) -> &'static str {
        self.neuron.kind()
    }

    fn is_spiking(&self) -> bool {
        true
    }

    /// A neuron update per multiply–add pair of the integration.
    fn updates_per_step(&self) -> u64 {
        (self.substeps as u64 * self.neuron.operations_per_advance()).div_ceil(2)
    }

    fn forward(&self, input: Tensor, fire: FireMode, keep_tape: bool) -> (Activation, Option<NeuronTape>) {
        let (steps, batch, n) = time_batch_features(input.shape());
        let shape = input.shape().to_vec();
        let mut out = Tensor::zeros(&shape);
        let mut kept = vec![0.0f64; if keep_tape { input.len() * N } else { 0 }];
        let inputs = read_rows_by_sample(input.data(), batch, n);
        let outputs = rows_by_sample(out.data_mut(), batch, n);
        let tapes = rows_by_sample(&mut kept, batch, n * N);
        inputs.into_par_iter().zip(outputs).zip(tapes).for_each(|((x, mut s), mut tape)| {
            for i in 0..n {
                self.run_neuron((0..steps).map(|t| x[t][i] as f64), self.fire_fn(fire), |t, start, output| {
                    if keep_tape {
                        tape[t][i * N..(i + 1) * N].copy_from_slice(start);
                    }
                    s[t][i] = output as f32;
                });
            }
        });
        let output = match fire {
            // A resetting model can fire twice within a long network step: then the counts.
            FireMode::Heaviside if out.data().iter().all(|&c| c <= 1.0) => Activation::Spikes(Spikes::from_dense(&out, shape.len() - 2)),
            FireMode::Heaviside => Activation::Dense(out),
            FireMode::Smooth => Activation::Dense(out),
        };
        let tape = keep_tape.then(|| NeuronTape { shape, state: TapeState::F32(Vec::new()), adaptation: None, input: Some(input.into_vec()), inhibited: None, states: Some(kept) });
        (output, tape)
    }

    fn backward(&self, tape: &NeuronTape, grad_output: Tensor, fire: FireMode) -> (Tensor, Vec<f32>) {
        let (steps, batch, n) = time_batch_features(&tape.shape);
        let input = tape.input.as_ref().expect("point-neuron tape keeps its input");
        let kept = tape.states.as_ref().expect("point-neuron tape keeps its states");
        let mut grad_input = grad_output;
        let inputs = read_rows_by_sample(input, batch, n);
        let states = read_rows_by_sample(kept, batch, n * N);
        rows_by_sample(grad_input.data_mut(), batch, n).into_par_iter().zip(inputs).zip(states).for_each(|((mut g, x), kept)| {
            let mut scratch = Vec::with_capacity(self.substeps);
            for i in 0..n {
                let mut adjoint = [0.0f64; N];
                for t in (0..steps).rev() {
                    let start: [f64; N] = kept[t][i * N..(i + 1) * N].try_into().unwrap();
                    g[t][i] = self.step_backward(&start, x[t][i] as f64, g[t][i] as f64, fire, &mut adjoint, &mut scratch) as f32;
                }
            }
        });
        (grad_input, Vec::new())
    }
}

#[cfg(test)]
mod tests;
