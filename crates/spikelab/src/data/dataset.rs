//! Image classification data sets: MNIST and Fashion-MNIST from a directory, and the embedded
//! MNIST subset compiled into the library so `spikelab train` works with no set-up.

use super::idx::{parse_idx, read_idx_file, IdxArray};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Labelled 8-bit images, one after another.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    /// Shape of one sample, e.g. `[1, 28, 28]`.
    pub sample_shape: Vec<usize>,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.sample_len();
        &self.images[i * n..(i + 1) * n]
    }

    /// A copy of samples `start..start + n`.
    pub fn slice(&self, start: usize, n: usize) -> Dataset {
        let len = self.sample_len();
        Dataset {
            name: self.name.clone(),
            images: self.images[start * len..(start + n) * len].to_vec(),
            labels: self.labels[start..start + n].to_vec(),
            sample_shape: self.sample_shape.clone(),
            classes: self.classes,
        }
    }

    /// The first `n` samples (all if fewer).
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.images.truncate(n * self.sample_len());
        self.labels.truncate(n);
    }
}

pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// The MNIST subset inside the binary: 24,000 training and 4,000 held-out test images.
    #[default]
    Embedded,
    Mnist,
    FashionMnist,
    /// Generated images (see [`synthetic`]), for benchmarks: the model's input shape, random
    /// labels, no files.
    Synthetic,
}

impl DatasetName {
    pub fn as_str(&self) -> &'static str {
        match self {
            DatasetName::Embedded => "embedded",
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Synthetic => "synthetic",
        }
    }
}

const EMBEDDED: [(&str, &[u8]); 4] = [
    ("train-images-idx3-ubyte.gz", include_bytes!("../../../../data/embedded-mnist/train-images-idx3-ubyte.gz")),
    ("train-labels-idx1-ubyte.gz", include_bytes!("../../../../data/embedded-mnist/train-labels-idx1-ubyte.gz")),
    ("t10k-images-idx3-ubyte.gz", include_bytes!("../../../../data/embedded-mnist/t10k-images-idx3-ubyte.gz")),
    ("t10k-labels-idx1-ubyte.gz", include_bytes!("../../../../data/embedded-mnist/t10k-labels-idx1-ubyte.gz")),
];

/// Loads a data set. `data_dir` is searched for MNIST-format files directly and in a
/// sub-folder named after the data set (`mnist/`, `fashion-mnist/`).
pub fn load(name: DatasetName, data_dir: Option<&Path>) -> Result<Split> {
    if name == DatasetName::Synthetic {
        return Err(Error::Other("synthetic data has no files; build it with data::synthetic from the model's input shape".into()));
    }
    let read = |stem: &str| -> Result<IdxArray> {
        match name {
            DatasetName::Embedded => {
                let file = format!("{stem}.gz");
                let bytes = EMBEDDED.iter().find(|(f, _)| *f == file).expect("embedded file").1;
                parse_idx(bytes, &Path::new("<embedded>").join(file))
            }
            _ => read_idx_file(&locate(name, data_dir, stem)?),
        }
    };
    let split = |prefix: &str| -> Result<Dataset> {
        let images = read(&format!("{prefix}-images-idx3-ubyte"))?;
        let labels = read(&format!("{prefix}-labels-idx1-ubyte"))?;
        assemble(name, prefix, images, labels)
    };
    Ok(Split { train: split("train")?, test: split("t10k")? })
}

fn assemble(name: DatasetName, prefix: &str, images: IdxArray, labels: IdxArray) -> Result<Dataset> {
    let what = format!("{} {prefix}", name.as_str());
    if images.dims.len() != 3 || labels.dims.len() != 1 {
        return Err(Error::Other(format!("{what}: expected 3-D images and 1-D labels, got {:?} and {:?}", images.dims, labels.dims)));
    }
    if images.dims[0] != labels.dims[0] {
        return Err(Error::Other(format!("{what}: {} images but {} labels", images.dims[0], labels.dims[0])));
    }
    if let Some(bad) = labels.data.iter().position(|&l| l >= 10) {
        return Err(Error::Other(format!("{what}: label {} at index {bad} is not a class 0–9", labels.data[bad])));
    }
    Ok(Dataset { name: name.as_str().to_string(), images: images.data, labels: labels.data, sample_shape: vec![1, images.dims[1], images.dims[2]], classes: 10 })
}

/// Finds the file `stem` or `stem.gz` of a data set on disk.
fn locate(name: DatasetName, data_dir: Option<&Path>, stem: &str) -> Result<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let env_dir = std::env::var_os("SPIKELAB_DATA").map(PathBuf::from);
    if let Some(dir) = data_dir.map(Path::to_path_buf).or(env_dir) {
        roots.push(dir.join(name.as_str()));
        roots.push(dir);
    }
    if name == DatasetName::FashionMnist {
        roots.push(PathBuf::from("/usr/share/datasets/fashion-mnist")); // Debian's dataset-fashion-mnist
    }
    for root in &roots {
        for file in [stem.to_string(), format!("{stem}.gz")] {
            let candidate = root.join(file);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let looked: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    Err(Error::Other(format!(
        "{} file {stem}(.gz) not found (looked in: {}); pass --data-dir DIR or set SPIKELAB_DATA",
        name.as_str(),
        if looked.is_empty() { "nowhere: no data directory given".to_string() } else { looked.join(", ") }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_subset_is_stratified_and_held_out() {
        let split = load(DatasetName::Embedded, None).unwrap();
        assert_eq!((split.train.len(), split.test.len()), (24_000, 4_000));
        assert_eq!(split.train.sample_shape, vec![1, 28, 28]);
        for c in 0..10u8 {
            assert_eq!(split.train.labels.iter().filter(|&&l| l == c).count(), 2400);
            assert_eq!(split.test.labels.iter().filter(|&&l| l == c).count(), 400);
        }
    }

    #[test]
    fn missing_data_set_says_where_it_looked() {
        let err = load(DatasetName::Mnist, Some(Path::new("/nonexistent-dir"))).err().unwrap().to_string();
        assert!(err.contains("/nonexistent-dir") && err.contains("--data-dir"), "{err}");
    }
}
