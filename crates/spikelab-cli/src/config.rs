//! Run configuration files (`experiments/*.toml`) and command-line overrides.

use serde::{Deserialize, Serialize};
use spikelab::data::{DatasetName, NoiseTest, SyntheticPixels};
use spikelab::nn::ModelSpec;
use spikelab::train::TrainSettings;
use spikelab::{Error, Result};
use std::path::{Path, PathBuf};

/// The configuration `spikelab train` uses when given none: the embedded MNIST subset.
pub const DEFAULT_CONFIG: &str = include_str!("../../../experiments/embedded-default.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Gradient training of a network (BPTT).
    Train,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub task: Task,
    /// One line on what this run reproduces or demonstrates.
    #[serde(default)]
    pub description: String,
    pub data: DataConfig,
    pub model: ModelSpec,
    pub train: TrainSettings,
    /// A noise-robustness test on the test set after training (`[noise_test]`, see
    /// `spikelab::data::NoiseTest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_test: Option<NoiseTest>,
    /// How `spikelab bench train` measures this config (ignored by training).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bench: Option<BenchConfig>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    /// Timed training batches.
    #[serde(default = "BenchConfig::default_batches")]
    pub batches: usize,
    /// Untimed batches first (allocator, caches, branch predictors).
    #[serde(default = "BenchConfig::default_warmup")]
    pub warmup: usize,
}

impl BenchConfig {
    fn default_batches() -> usize {
        20
    }
    fn default_warmup() -> usize {
        2
    }
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig { batches: Self::default_batches(), warmup: Self::default_warmup() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    #[serde(default)]
    pub dataset: DatasetName,
    /// Where MNIST/Fashion-MNIST files are (also `--data-dir` or `SPIKELAB_DATA`).
    pub data_dir: Option<PathBuf>,
    /// Use only the first N training samples.
    pub train_limit: Option<usize>,
    /// Use only the first N test samples.
    pub test_limit: Option<usize>,
    /// Batch size for evaluation (default: the training batch size).
    pub eval_batch_size: Option<usize>,
    /// Pixels of `dataset = "synthetic"` (default: full, which the rate encoder turns into
    /// Bernoulli spikes of probability `max_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<SyntheticPixels>,
}

/// A config's text as `T`, a syntax or schema error naming `origin` (usually the file).
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Other(format!("{origin}: {}", e.to_string().trim_end())))
}

impl RunConfig {
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let config: RunConfig = parse_toml(text, origin)?;
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        if let Some(n) = &self.noise_test {
            n.validate()?;
        }
        if let Some(b) = &self.bench {
            if b.batches == 0 {
                return Err(Error::config("bench.batches", "must be at least 1"));
            }
        }
        if self.data.pixels.is_some() && self.data.dataset != DatasetName::Synthetic {
            return Err(Error::config("data.pixels", "applies only to dataset = \"synthetic\""));
        }
        for (key, v) in [("data.train_limit", self.data.train_limit), ("data.test_limit", self.data.test_limit), ("data.eval_batch_size", self.data.eval_batch_size)] {
            if v == Some(0) {
                return Err(Error::config(key, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// Whether two configs describe the same training run: same data set, model and training
    /// settings. The epoch count and where the data lives may differ (resuming may extend a
    /// run; the saved config holds command-line overrides).
    pub fn same_run_as(&self, other: &RunConfig) -> bool {
        let settings = |c: &RunConfig| TrainSettings { epochs: 0, ..c.train.clone() };
        self.data.dataset == other.data.dataset && self.model == other.model && settings(self) == settings(other)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a parsed config serialises")
    }
}

/// Values given on the command line, which take precedence over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub dataset: Option<DatasetName>,
    pub data_dir: Option<PathBuf>,
    pub epochs: Option<usize>,
    pub batch_size: Option<usize>,
    pub time_steps: Option<usize>,
    pub seed: Option<u64>,
}

impl Overrides {
    pub fn apply(&self, config: &mut RunConfig) -> Result<()> {
        if let Some(d) = self.dataset {
            config.data.dataset = d;
        }
        if let Some(d) = &self.data_dir {
            config.data.data_dir = Some(d.clone());
        }
        if let Some(e) = self.epochs {
            config.train.epochs = e;
        }
        if let Some(b) = self.batch_size {
            config.train.batch_size = b;
        }
        if let Some(t) = self.time_steps {
            config.train.time_steps = t;
        }
        if let Some(s) = self.seed {
            config.train.seed = s;
        }
        config.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses() {
        let c = RunConfig::parse(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(c.data.dataset, DatasetName::Embedded);
    }

    #[test]
    fn unknown_keys_are_named_at_every_level() {
        let base = DEFAULT_CONFIG.to_string();
        for (from, to, key) in [
            ("[train]", "[train]\nepoches = 3", "epoches"),
            ("[data]", "[data]\ndataset_dir = \"x\"", "dataset_dir"),
            ("[model]", "[model]\nkind = \"mlp\"", "kind"),
            ("task = \"train\"", "task = \"train\"\ntsak = 1", "tsak"),
        ] {
            let err = RunConfig::parse(&base.replacen(from, to, 1), "cfg").unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn invalid_values_are_named() {
        let base = DEFAULT_CONFIG.to_string();
        let err = RunConfig::parse(&base.replacen("[data]", "[data]\ntrain_limit = 0", 1), "cfg").unwrap_err().to_string();
        assert!(err.contains("data.train_limit"), "{err}");
        let err = RunConfig::parse(&base.replace("dataset = \"embedded\"", "dataset = \"cifar\""), "cfg").unwrap_err().to_string();
        assert!(err.contains("cifar"), "{err}");
        let mut c = RunConfig::parse(DEFAULT_CONFIG, "d").unwrap();
        let err = Overrides { epochs: Some(0), ..Default::default() }.apply(&mut c).unwrap_err().to_string();
        assert!(err.contains("train.epochs"), "{err}");
    }
}
