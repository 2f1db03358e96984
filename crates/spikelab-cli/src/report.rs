//! The end-of-run report: printed for people, and as one JSON object for scripts.

use crate::host::Host;
use serde::Serialize;
use spikelab::energy::{EnergyModel, OpCounts};
use spikelab::train::EvalReport;
use spikelab::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Serialize)]
pub struct RunReport {
    pub dataset: String,
    pub test_accuracy: f64,
    pub test_loss: f64,
    pub test_samples: usize,
    pub epochs: usize,
    /// Seconds spent in training epochs in this invocation (evaluation excluded).
    pub train_seconds: f64,
    /// Training samples per second over those epochs.
    pub samples_per_second: f64,
    /// Fraction of neuron-steps that spiked on the test set, per spiking layer.
    pub spike_rates: BTreeMap<String, f64>,
    /// Operations per test sample (inference).
    pub ops: OpCounts,
    /// Estimated inference energy per test sample from `energy_model`.
    pub energy_pj_per_sample: f64,
    pub energy_model: EnergyModel,
    /// Package energy over the test evaluation from the machine's counter, where it has one.
    pub measured_energy_joules: Option<f64>,
    pub parameters: usize,
    /// Most bytes the layers held for the backward pass at once.
    pub peak_backward_bytes: usize,
    pub threads: usize,
    /// The machine, C library and compiler the run used.
    pub host: Host,
    /// The noise-robustness test, when the config asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_test: Option<NoiseReport>,
    /// The epoch of highest test accuracy, when `[noise_test] best_epoch` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_epoch: Option<BestEpochReport>,
}

/// The epoch of highest test accuracy and its noise test: the reference's selection, made on
/// the test set, so reported beside the last epoch's figures.
#[derive(Serialize)]
pub struct BestEpochReport {
    pub epoch: usize,
    pub test_accuracy: f64,
    pub noise_test: NoiseReport,
}

/// Test answers under replacement noise (`spikelab::data::NoiseTest`).
#[derive(Clone, Serialize)]
pub struct NoiseReport {
    pub levels: Vec<f64>,
    /// Correct test samples per level.
    pub correct: Vec<usize>,
    pub accuracy: Vec<f64>,
    /// Correct answers summed over the levels (Ahmad & Scheinkman's noise score).
    pub score: usize,
}

impl NoiseReport {
    pub fn new(levels: &[f64], correct: Vec<usize>, samples: usize) -> Self {
        let accuracy = correct.iter().map(|&c| c as f64 / samples.max(1) as f64).collect();
        NoiseReport { levels: levels.to_vec(), score: correct.iter().sum(), correct, accuracy }
    }
}

impl RunReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dataset: &str,
        eval: &EvalReport,
        layer_names: &[String],
        epochs: usize,
        train_seconds: f64,
        trained_samples: usize,
        parameters: usize,
        peak_backward_bytes: usize,
        measured_energy_joules: Option<f64>,
    ) -> Self {
        let energy_model = EnergyModel::default();
        let samples = eval.samples.max(1);
        RunReport {
            dataset: dataset.to_string(),
            test_accuracy: eval.accuracy,
            test_loss: eval.loss,
            test_samples: eval.samples,
            epochs,
            train_seconds,
            samples_per_second: if train_seconds > 0.0 { trained_samples as f64 / train_seconds } else { 0.0 },
            spike_rates: layer_names.iter().cloned().zip(eval.spike_rates.iter().copied()).collect(),
            ops: eval.ops.per(samples as u64),
            energy_pj_per_sample: energy_model.picojoules(&eval.ops) / samples as f64,
            energy_model,
            measured_energy_joules,
            parameters,
            peak_backward_bytes,
            threads: rayon::current_num_threads(),
            host: Host::current(),
            noise_test: None,
            best_epoch: None,
        }
    }

    pub fn human(&self) -> String {
        let mut s = String::new();
        let mut line = |l: String| {
            s.push_str(&l);
            s.push('\n');
        };
        line(format!("test accuracy      {:.2}% ({} samples of {})", 100.0 * self.test_accuracy, self.test_samples, self.dataset));
        if self.train_seconds > 0.0 {
            line(format!("training           {} epochs, {:.1} s, {:.0} samples/s on {} threads", self.epochs, self.train_seconds, self.samples_per_second, self.threads));
        }
        for (name, rate) in &self.spike_rates {
            line(format!("spike rate         {name}: {:.4}", rate));
        }
        line(format!("ops per sample     {} dense MAC, {} spike-driven AC, {} neuron updates", self.ops.dense_mac, self.ops.sparse_ac, self.ops.neuron_updates));
        line(format!(
            "energy per sample  {:.1} nJ estimated ({} pJ/MAC, {} pJ/AC, {} pJ/neuron update; 45 nm figures)",
            self.energy_pj_per_sample / 1000.0,
            self.energy_model.pj_per_mac,
            self.energy_model.pj_per_ac,
            self.energy_model.pj_per_neuron_update
        ));
        match self.measured_energy_joules {
            Some(j) => line(format!("measured energy    {j:.2} J for the test pass (RAPL package counter)")),
            None => line("measured energy    unavailable: no readable powercap/RAPL counter on this machine".to_string()),
        }
        if let Some(n) = &self.noise_test {
            let per_level: Vec<String> = n.levels.iter().zip(&n.accuracy).map(|(l, a)| format!("{l:.2}: {:.2}%", 100.0 * a)).collect();
            line(format!("noise score        {} ({})", n.score, per_level.join(", ")));
        }
        if let Some(b) = &self.best_epoch {
            line(format!(
                "best epoch         {}: test accuracy {:.2}%, noise score {} (highest test accuracy of the epochs: a selection on the test set)",
                b.epoch,
                100.0 * b.test_accuracy,
                b.noise_test.score
            ));
        }
        line(format!("parameters         {}; peak backward memory {:.1} MiB", self.parameters, self.peak_backward_bytes as f64 / (1 << 20) as f64));
        line(format!("host               {}", self.host.human()));
        s
    }
}

/// A `/proc/self/status` figure in bytes (`VmRSS` now, `VmHWM` the peak).
pub fn process_memory(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| Error::io(Path::new("/proc/self/status"), e))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| Error::Other(format!("/proc/self/status has no {field} line (peak memory needs Linux)")))
}

/// Prints a command's result: the human summary on stdout, or, with `json`, the summary on
/// stderr and the report as one JSON line, the last on stdout.
pub fn emit(report: &impl serde::Serialize, human: &str, json: bool) {
    if json {
        eprint!("{human}");
        println!("{}", serde_json::to_string(report).expect("reports serialise"));
    } else {
        print!("{human}");
    }
}
