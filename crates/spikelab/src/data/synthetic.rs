//! Generated data for benchmarks: fixed-size images with random labels, so throughput and
//! memory are measured on exactly the input statistics a config names, with no files.

use super::Dataset;
use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticPixels {
    /// Every pixel 255: the rate encoder with `max_rate = r` then gives Bernoulli(r) spikes,
    /// fresh for every sample, input and step.
    #[default]
    Full,
    /// Pixels uniform in 0..=255 (for direct input).
    Uniform,
}

/// `samples` images of `sample_shape` with labels uniform over `classes`, from `seed`.
pub fn synthetic(name: &str, sample_shape: &[usize], samples: usize, classes: usize, pixels: SyntheticPixels, seed: u64) -> Result<Dataset> {
    if classes == 0 || classes > 256 {
        return Err(Error::config("classes", format!("{classes} is not in 1..=256")));
    }
    let len: usize = sample_shape.iter().product();
    let mut rng = Rng::derive(seed, 0x5E7_DA7A);
    let images = match pixels {
        SyntheticPixels::Full => vec![255; samples * len],
        SyntheticPixels::Uniform => (0..samples * len).map(|_| (rng.next_u64() >> 56) as u8).collect(),
    };
    let labels = (0..samples).map(|_| (rng.next_u64() % classes as u64) as u8).collect();
    Ok(Dataset { name: name.to_string(), images, labels, sample_shape: sample_shape.to_vec(), classes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_data_has_the_asked_shape_and_label_range() {
        let d = synthetic("s", &[2, 3], 50, 10, SyntheticPixels::Uniform, 1).unwrap();
        assert_eq!((d.len(), d.sample_len(), d.images.len()), (50, 6, 300));
        assert!(d.labels.iter().all(|&l| l < 10));
        assert!(d.images.iter().any(|&p| p != d.images[0]), "uniform pixels vary");
        let full = synthetic("s", &[4], 3, 2, SyntheticPixels::Full, 1).unwrap();
        assert!(full.images.iter().all(|&p| p == 255));
        assert!(synthetic("s", &[4], 3, 0, SyntheticPixels::Full, 1).is_err());
    }
}
