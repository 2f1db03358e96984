//! The BPTT trainer: encode a mini-batch, run the network over all steps, take the loss on the
//! output over time, backpropagate through time, update.

use super::{Loss, Optimizer, OptimizerSpec, Schedule};
use crate::data::{batches, Dataset, Encoder, NoiseTest, PixelNoise};
use crate::energy::OpCounts;
use crate::error::{Error, Result};
use crate::nn::{Context, Mode, Sequential};
use crate::rng::Rng;
use crate::tensor::Activation;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How to train: everything besides the model and the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub time_steps: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub loss: Loss,
    #[serde(default)]
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub encoder: Encoder,
    /// Batch size of the first epoch only (Ahmad & Scheinkman train their first epoch with
    /// batch 4 "to stabilise the duty cycles"); default: `batch_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_epoch_batch_size: Option<usize>,
    /// Gradient checkpointing: keep only each learning layer's input in the forward pass and
    /// recompute the rest during backward (less memory for deep nets, one more forward pass).
    #[serde(default)]
    pub recompute: bool,
}

impl TrainSettings {
    pub fn validate(&self) -> Result<()> {
        if self.first_epoch_batch_size == Some(0) {
            return Err(Error::config("train.first_epoch_batch_size", "must be at least 1"));
        }
        for (key, v) in [("train.epochs", self.epochs), ("train.batch_size", self.batch_size), ("train.time_steps", self.time_steps)] {
            if v == 0 {
                return Err(Error::config(key, "must be at least 1"));
            }
        }
        self.loss.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        self.encoder.validate()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub lr: f32,
    pub seconds: f64,
    pub samples: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EvalReport {
    pub accuracy: f64,
    pub loss: f64,
    pub samples: usize,
    pub seconds: f64,
    /// Operation counts of the whole evaluation (divide by `samples` for per sample).
    pub ops: OpCounts,
    /// Fraction of neuron-steps that spiked, per spiking layer.
    pub spike_rates: Vec<f64>,
}

/// Progress of one batch, for progress bars.
pub struct BatchProgress {
    pub batch: usize,
    pub batches: usize,
    pub samples_done: usize,
    pub loss: f64,
}

pub struct Trainer {
    pub net: Sequential,
    pub optimizer: Optimizer,
    pub settings: TrainSettings,
    pub epochs_done: usize,
    /// Largest number of bytes the layers held for backward at once.
    pub peak_saved_bytes: usize,
}

/// Label of the evaluation stream: evaluation noise never depends on how far training got.
const EVAL_STREAM: u64 = u64::MAX;

impl Trainer {
    pub fn new(mut net: Sequential, settings: TrainSettings) -> Result<Self> {
        settings.validate()?;
        let optimizer = Optimizer::new(settings.optimizer.clone());
        net.recompute = settings.recompute;
        Ok(Trainer { net, optimizer, settings, epochs_done: 0, peak_saved_bytes: 0 })
    }

    fn encode(&self, data: &Dataset, indices: &[usize], stream: u64) -> Activation {
        self.encode_noisy(data, indices, stream, None).expect("no noise, nothing to refuse")
    }

    /// `encode` with replacement noise on the direct encoding's [0, 1] values (before any
    /// normalisation layer), seeded per sample index.
    fn encode_noisy(&self, data: &Dataset, indices: &[usize], stream: u64, noise: Option<&PixelNoise>) -> Result<Activation> {
        let images: Vec<&[u8]> = indices.iter().map(|&i| data.image(i)).collect();
        let seeds: Vec<u64> = indices.iter().map(|&i| Rng::derive(self.settings.seed ^ stream.wrapping_mul(0x9E37), i as u64).next_u64()).collect();
        let input_shape = self.net.input_shape().to_vec();
        // A time-constant encoding is made for one step; the network repeats it (see
        // `Sequential::forward`).
        let steps = if self.settings.encoder.is_time_constant() { 1 } else { self.settings.time_steps };
        let mut x = self.settings.encoder.encode(&images, &data.sample_shape, steps, &seeds);
        if let Some(noise) = noise {
            let Activation::Dense(values) = &mut x else {
                return Err(Error::Other(format!("the noise test replaces input values; it needs encoder = \"direct\", not \"{}\"", self.settings.encoder.name())));
            };
            for (row, &i) in values.data_mut().chunks_mut(data.sample_len()).zip(indices.iter().cycle()) {
                noise.apply(row, i as u64);
            }
        }
        // Let a flat model input ([784]) take image data ([1, 28, 28]).
        let mut shape = vec![steps, indices.len()];
        shape.extend_from_slice(&input_shape);
        Ok(match x {
            Activation::Dense(t) => Activation::Dense(t.reshape(&shape).expect("same size")),
            Activation::Spikes(s) => Activation::Spikes(s.reshape(&shape).expect("same size")),
        })
    }

    fn check_data(&self, data: &Dataset) -> Result<()> {
        let need: usize = self.net.input_shape().iter().product();
        if data.sample_len() != need {
            return Err(Error::Shape(format!(
                "data set {} has samples of shape {:?} ({} values); the model input {:?} needs {need}",
                data.name,
                data.sample_shape,
                data.sample_len(),
                self.net.input_shape()
            )));
        }
        let out: usize = self.net.output_shape().iter().product();
        if out != data.classes {
            return Err(Error::Shape(format!("the model has {out} outputs but the data set has {} classes", data.classes)));
        }
        Ok(())
    }

    /// One epoch over `data`, shuffled by (seed, epoch). Stops with an error on a NaN or
    /// infinite loss (before the update that would spread it) or parameter; the trainer's
    /// state is then unusable, and the caller falls back to its last checkpoint.
    pub fn train_epoch(&mut self, data: &Dataset, mut on_batch: impl FnMut(&BatchProgress)) -> Result<EpochReport> {
        self.check_data(data)?;
        let epoch = self.epochs_done;
        let s = &self.settings;
        let batch_size = if epoch == 0 { s.first_epoch_batch_size.unwrap_or(s.batch_size) } else { s.batch_size };
        let plan = batches(data.len(), batch_size, s.seed, epoch, true);
        let (epochs, base_lr) = (s.epochs, s.optimizer.lr);
        let schedule = s.schedule;
        let loss_fn = s.loss;
        let start = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut lr = base_lr;
        for (b, indices) in plan.iter().enumerate() {
            let x = self.encode(data, indices, epoch as u64);
            let labels: Vec<u8> = indices.iter().map(|&i| data.labels[i]).collect();
            let mut ctx = Context::new(Mode::Train, Rng::derive(self.settings.seed, ((epoch as u64) << 32) | b as u64).next_u64());
            ctx.time_steps = self.settings.time_steps;
            let out = self.net.forward(x, &mut ctx)?.into_dense();
            let value = loss_fn.compute(&out, &labels);
            let stopped = |what: String| Error::NonFinite(format!("training stopped: {what} at epoch {}, batch {} of {} (try a lower learning rate)", epoch + 1, b + 1, plan.len()));
            if !value.loss.is_finite() {
                return Err(stopped(format!("the loss became {}", value.loss)));
            }
            correct += value.correct(&labels);
            self.peak_saved_bytes = self.peak_saved_bytes.max(self.net.saved_bytes());
            self.net.zero_grad();
            self.net.backward(value.grad);
            lr = schedule.lr(base_lr, epoch, b as f64 / plan.len() as f64, epochs);
            let mut params = self.net.params_mut();
            self.optimizer.step(&mut params, lr);
            // A spiking readout's loss is bounded (spike counts), so diverging weights need
            // their own check: a non-finite weight would otherwise train on silently.
            // (Names are built only on failure: this runs every batch.)
            if self.net.layers.iter().any(|l| l.params().iter().any(|p| !p.updated_values_finite())) {
                let named = self.net.named_params();
                let (name, _) = named.iter().find(|(_, p)| !p.updated_values_finite()).expect("found above");
                return Err(stopped(format!("parameter {name} became NaN or infinite")));
            }
            self.net.params_updated();
            loss_sum += value.loss * indices.len() as f64;
            seen += indices.len();
            on_batch(&BatchProgress { batch: b + 1, batches: plan.len(), samples_done: seen, loss: loss_sum / seen as f64 });
        }
        self.epochs_done += 1;
        self.net.end_epoch();
        Ok(EpochReport {
            epoch: self.epochs_done,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            lr,
            seconds: start.elapsed().as_secs_f64(),
            samples: seen,
        })
    }

    /// Accuracy, loss, operation counts and spike rates over `data` (no learning).
    pub fn evaluate(&mut self, data: &Dataset, batch_size: usize) -> Result<EvalReport> {
        self.evaluate_noisy(data, batch_size, None)
    }

    /// Correct answers on `data` at each level of a noise test (`NoiseTest`).
    pub fn noise_test(&mut self, data: &Dataset, batch_size: usize, test: &NoiseTest) -> Result<Vec<usize>> {
        test.validate()?;
        (0..test.levels.len()).map(|i| self.evaluate_noisy(data, batch_size, Some(&test.level(i))).map(|r| (r.accuracy * r.samples as f64).round() as usize)).collect()
    }

    /// `evaluate` with the inputs under replacement noise.
    pub fn evaluate_noisy(&mut self, data: &Dataset, batch_size: usize, noise: Option<&PixelNoise>) -> Result<EvalReport> {
        self.check_data(data)?;
        let start = Instant::now();
        let mut report = EvalReport::default();
        let mut activity: Vec<(u64, u64)> = Vec::new();
        let mut loss_sum = 0.0;
        let mut correct = 0;
        for indices in batches(data.len(), batch_size, 0, 0, false) {
            let x = self.encode_noisy(data, &indices, EVAL_STREAM, noise)?;
            let labels: Vec<u8> = indices.iter().map(|&i| data.labels[i]).collect();
            let mut ctx = Context::new(Mode::Eval, 0);
            ctx.time_steps = self.settings.time_steps;
            let out = self.net.forward(x, &mut ctx)?.into_dense();
            let value = self.settings.loss.compute(&out, &labels);
            loss_sum += value.loss * indices.len() as f64;
            correct += value.correct(&labels);
            report.ops.add(&ctx.ops);
            let layer_activity = self.net.activity();
            activity.resize(layer_activity.len(), (0, 0));
            for (acc, (s, n)) in activity.iter_mut().zip(layer_activity) {
                acc.0 += s;
                acc.1 += n;
            }
            report.samples += indices.len();
        }
        report.accuracy = correct as f64 / report.samples.max(1) as f64;
        report.loss = loss_sum / report.samples.max(1) as f64;
        report.spike_rates = activity.iter().map(|&(s, n)| s as f64 / n.max(1) as f64).collect();
        report.seconds = start.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Output spikes of every spiking layer for one sample, `[layer][step][neuron]`, for rasters.
    pub fn record_sample(&mut self, data: &Dataset, index: usize) -> Result<Vec<(String, Vec<Vec<bool>>)>> {
        self.check_data(data)?;
        let names = self.net.spiking_layer_names();
        let mut x = self.encode(data, &[index], EVAL_STREAM);
        if x.shape()[0] != self.settings.time_steps {
            x = Activation::Dense(x.into_dense().repeat_leading(self.settings.time_steps));
        }
        let mut rasters = Vec::new();
        if let Activation::Spikes(s) = &x {
            rasters.push(("input".to_string(), raster(s)));
        }
        let mut names = names.into_iter();
        let mut ctx = Context::new(Mode::Eval, 0);
        for layer in self.net.layers.iter_mut() {
            x = layer.forward(x, &mut ctx);
            if let (true, Activation::Spikes(s)) = (layer.emits_spikes(), &x) {
                rasters.push((names.next().expect("one name per spiking layer"), raster(s)));
            }
        }
        Ok(rasters)
    }
}

/// Spikes of a one-sample `[T, 1, …]` activation as `[step][neuron]`.
fn raster(s: &crate::tensor::Spikes) -> Vec<Vec<bool>> {
    (0..s.shape()[0]).map(|t| (0..s.row_len()).map(|i| s.get(t, i)).collect()).collect()
}
