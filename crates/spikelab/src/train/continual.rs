//! Permuted-MNIST continual learning (Iyer et al. 2022, "domain-incremental"): task 0 is the
//! data set as it is, task t > 0 the same images under one fixed random pixel permutation;
//! the tasks are learnt one after another with one shared output head, the optimizer re-created
//! for each task, and the score is the mean test accuracy over all tasks after the last one.
//!
//! Dendritic nets get a context per sample: in training the **prototype** of the task being
//! learnt (the mean of its normalised training inputs), at test time the stored prototype
//! nearest to the sample (Euclidean), so no task label is ever given at test time.

use super::{Loss, Optimizer, OptimizerSpec};
use crate::data::{batches, Dataset};
use crate::error::{Error, Result};
use crate::nn::{Context, DendriteContext, Mode, Sequential};
use crate::rng::Rng;
use crate::tensor::{matmul, Activation, Tensor, Transpose};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContinualSettings {
    pub tasks: usize,
    pub epochs_per_task: usize,
    pub batch_size: usize,
    /// Re-created (state cleared) at the start of every task.
    pub optimizer: OptimizerSpec,
    /// Seed of the initial weights and the batch order.
    #[serde(default)]
    pub seed: u64,
    /// Seed of the permutations (the reference used 42, with torch's generator).
    #[serde(default = "default_permutation_seed")]
    pub permutation_seed: u64,
    /// Input normalisation `(x − mean) / std` on [0, 1] intensities (MNIST's by default).
    #[serde(default = "default_mean")]
    pub mean: f32,
    #[serde(default = "default_std")]
    pub std: f32,
}

fn default_permutation_seed() -> u64 {
    42
}
fn default_mean() -> f32 {
    0.130_627_55
}
fn default_std() -> f32 {
    0.308_107_8
}

impl ContinualSettings {
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("continual.tasks", self.tasks), ("continual.epochs_per_task", self.epochs_per_task), ("continual.batch_size", self.batch_size)] {
            if v == 0 {
                return Err(Error::config(key, "must be at least 1"));
            }
        }
        if !(self.std > 0.0 && self.std.is_finite() && self.mean.is_finite()) {
            return Err(Error::config("continual.std", format!("needs a finite mean and a positive std, got {} and {}", self.mean, self.std)));
        }
        self.optimizer.validate()
    }
}

/// The pixel order of every task: identity for task 0, seeded random permutations after.
pub fn permutations(tasks: usize, pixels: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = Rng::new(seed);
    (0..tasks)
        .map(|t| {
            let mut p: Vec<u32> = (0..pixels as u32).collect();
            if t > 0 {
                rng.shuffle(&mut p);
            }
            p
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub task: usize,
    pub train_seconds: f64,
    pub final_train_loss: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ContinualReport {
    /// Test accuracy of each task after the last task was learnt.
    pub task_accuracy: Vec<f64>,
    pub mean_accuracy: f64,
    /// Fraction of test samples whose nearest prototype was their own task's (dendritic nets).
    pub context_accuracy: Option<f64>,
    pub tasks: Vec<TaskReport>,
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

/// One task's view of a data set: permuted, normalised samples.
struct TaskData<'a> {
    data: &'a Dataset,
    permutation: &'a [u32],
    mean: f32,
    std: f32,
}

impl TaskData<'_> {
    fn sample(&self, i: usize, out: &mut [f32]) {
        let image = self.data.image(i);
        for (o, &p) in out.iter_mut().zip(self.permutation) {
            *o = (image[p as usize] as f32 / 255.0 - self.mean) / self.std;
        }
    }

    fn batch(&self, indices: &[usize]) -> Tensor {
        let n = self.permutation.len();
        let mut x = Tensor::zeros(&[1, indices.len(), n]);
        for (row, &i) in x.data_mut().chunks_mut(n).zip(indices) {
            self.sample(i, row);
        }
        x
    }

    /// The mean of every normalised sample: the task's prototype context.
    fn prototype(&self) -> Vec<f32> {
        let n = self.permutation.len();
        let mut sum = vec![0.0f64; n];
        let mut row = vec![0.0f32; n];
        for i in 0..self.data.len() {
            self.sample(i, &mut row);
            sum.iter_mut().zip(&row).for_each(|(s, &v)| *s += v as f64);
        }
        sum.iter().map(|s| (s / self.data.len().max(1) as f64) as f32).collect()
    }
}

/// Index of the nearest prototype (Euclidean) of every row of `x` (`[rows, n]`).
fn nearest_prototypes(x: &[f32], prototypes: &Tensor, n: usize) -> Vec<u32> {
    let count = prototypes.len() / n;
    let rows = x.len() / n;
    // ‖x − p‖² = ‖x‖² − 2 x·p + ‖p‖²; ‖x‖² is the same for every p.
    let mut dots = vec![0.0f32; rows * count];
    matmul(x, Transpose::No, prototypes.data(), Transpose::Yes, &mut dots, (rows, count, n), false, true);
    let norms: Vec<f32> = prototypes.data().chunks(n).map(|p| p.iter().map(|v| v * v).sum()).collect();
    dots.chunks(count).map(|d| (0..count).map(|k| (k, norms[k] - 2.0 * d[k])).fold((0, f32::INFINITY), |best, (k, v)| if v < best.1 { (k, v) } else { best }).0 as u32).collect()
}

/// Learns the tasks in order and tests on all of them; `on_task` sees each finished task.
pub fn permuted_tasks(net: &mut Sequential, settings: &ContinualSettings, train: &Dataset, test: &Dataset, mut on_task: impl FnMut(&TaskReport)) -> Result<ContinualReport> {
    settings.validate()?;
    let n = train.sample_len();
    if net.input_shape().iter().product::<usize>() != n {
        return Err(Error::Shape(format!("the model takes {:?} but the samples have {n} values", net.input_shape())));
    }
    let dendritic = net.layers.iter().any(|l| l.context_len().is_some());
    let perms = permutations(settings.tasks, n, settings.permutation_seed);
    let task_data = |data, t: usize| TaskData { data, permutation: &perms[t], mean: settings.mean, std: settings.std };
    let loss = Loss::RateCe;
    let mut prototypes: Vec<f32> = Vec::new();
    let mut reports = Vec::new();
    let start = Instant::now();
    for t in 0..settings.tasks {
        let task_start = Instant::now();
        let data = task_data(train, t);
        let context = dendritic.then(|| {
            let p = data.prototype();
            prototypes.extend_from_slice(&p);
            Tensor::from_vec(&[1, n], p).expect("sized")
        });
        let mut optimizer = Optimizer::new(settings.optimizer.clone());
        let mut last_loss = 0.0;
        for epoch in 0..settings.epochs_per_task {
            let plan = batches(train.len(), settings.batch_size, settings.seed ^ ((t as u64) << 20), epoch, true);
            let (mut loss_sum, mut seen) = (0.0, 0usize);
            for indices in &plan {
                let x = data.batch(indices);
                let labels: Vec<u8> = indices.iter().map(|&i| train.labels[i]).collect();
                let mut ctx = Context::new(Mode::Train, 0);
                ctx.dendrite_context = context.as_ref().map(|c| Arc::new(DendriteContext { vectors: c.clone(), of_sample: vec![0; indices.len()] }));
                let out = net.forward(Activation::Dense(x), &mut ctx)?.into_dense();
                let value = loss.compute(&out, &labels);
                if !value.loss.is_finite() {
                    return Err(Error::NonFinite(format!("task {t}, epoch {}: the loss became {} (try a lower learning rate)", epoch + 1, value.loss)));
                }
                net.zero_grad();
                net.backward(value.grad);
                optimizer.step(&mut net.params_mut(), settings.optimizer.lr);
                net.params_updated();
                loss_sum += value.loss * indices.len() as f64;
                seen += indices.len();
            }
            last_loss = loss_sum / seen.max(1) as f64;
        }
        let report = TaskReport { task: t, train_seconds: task_start.elapsed().as_secs_f64(), final_train_loss: last_loss };
        on_task(&report);
        reports.push(report);
    }
    let train_seconds = start.elapsed().as_secs_f64();
    let eval_start = Instant::now();
    let prototypes = dendritic.then(|| Tensor::from_vec(&[settings.tasks, n], prototypes).expect("one per task"));
    let (mut task_accuracy, mut own_context) = (Vec::new(), 0usize);
    for t in 0..settings.tasks {
        let data = task_data(test, t);
        let mut correct = 0;
        for indices in batches(test.len(), 1000, 0, 0, false) {
            let x = data.batch(&indices);
            let mut ctx = Context::new(Mode::Eval, 0);
            if let Some(p) = &prototypes {
                let nearest = nearest_prototypes(x.data(), p, n);
                own_context += nearest.iter().filter(|&&k| k as usize == t).count();
                ctx.dendrite_context = Some(Arc::new(DendriteContext { vectors: p.clone(), of_sample: nearest }));
            }
            let out = net.forward(Activation::Dense(x), &mut ctx)?.into_dense();
            let labels: Vec<u8> = indices.iter().map(|&i| test.labels[i]).collect();
            correct += loss.compute(&out, &labels).correct(&labels);
        }
        task_accuracy.push(correct as f64 / test.len().max(1) as f64);
    }
    let mean_accuracy = task_accuracy.iter().sum::<f64>() / task_accuracy.len() as f64;
    let context_accuracy = dendritic.then(|| own_context as f64 / (test.len() * settings.tasks).max(1) as f64);
    Ok(ContinualReport { task_accuracy, mean_accuracy, context_accuracy, tasks: reports, train_seconds, eval_seconds: eval_start.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_zero_is_unpermuted_and_the_others_are_seeded_permutations() {
        let p = permutations(3, 50, 42);
        assert_eq!(p[0], (0..50).collect::<Vec<u32>>());
        for q in &p[1..] {
            let mut sorted = q.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, p[0], "a permutation");
            assert_ne!(q, &p[0]);
        }
        assert_ne!(p[1], p[2]);
        assert_eq!(p, permutations(3, 50, 42));
    }

    #[test]
    fn nearest_prototype_by_euclidean_distance() {
        let protos = Tensor::from_vec(&[3, 2], vec![0.0, 0.0, 10.0, 0.0, 0.0, 10.0]).unwrap();
        let x = [1.0, 1.0, 9.0, 2.0, 1.0, 8.0, -3.0, -3.0];
        assert_eq!(nearest_prototypes(&x, &protos, 2), vec![0, 1, 2, 0]);
    }
}
