//! Encoders: how an 8-bit image becomes `T` steps of network input `[T, B, features]`.

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Activation, Spikes, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Encoder {
    /// The intensity in [0, 1] as an analog input current at every step.
    #[default]
    Direct,
    /// Bernoulli spikes, probability intensity × `max_rate` per step, independent across steps
    /// (the discrete-time Poisson encoder of snnTorch and SpikingJelly). The probability is
    /// resolved to 1/65536.
    Rate {
        #[serde(default = "one")]
        max_rate: f32,
    },
    /// Time to first spike: one spike at step round((1 − x)·(T − 1)), brighter earlier; pixels
    /// below `threshold` stay silent.
    Latency {
        #[serde(default = "latency_threshold")]
        threshold: f32,
    },
    /// Send-on-delta: the image fades in linearly over the T steps and a pixel spikes whenever
    /// its signal has risen by `threshold` since its last spike (at most once per step).
    Delta {
        #[serde(default = "delta_threshold")]
        threshold: f32,
    },
}

fn one() -> f32 {
    1.0
}
fn latency_threshold() -> f32 {
    0.2
}
fn delta_threshold() -> f32 {
    0.1
}

impl Encoder {
    pub fn validate(&self) -> Result<()> {
        let (key, v, ok) = match *self {
            Encoder::Direct => return Ok(()),
            Encoder::Rate { max_rate } => ("max_rate", max_rate, max_rate > 0.0 && max_rate <= 1.0),
            Encoder::Latency { threshold } => ("threshold", threshold, (0.0..1.0).contains(&threshold)),
            Encoder::Delta { threshold } => ("threshold", threshold, threshold > 0.0 && threshold <= 1.0),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::config(format!("data.encoder.{key}"), format!("out of range: {v}")))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Encoder::Direct => "direct",
            Encoder::Rate { .. } => "rate",
            Encoder::Latency { .. } => "latency",
            Encoder::Delta { .. } => "delta",
        }
    }

    /// Encodes a batch of images for `steps` steps. `shape` is one sample's shape; `seeds`
    /// gives each sample its own random stream, so encoding is independent of batching and
    /// thread count.
    /// Whether every step of the encoding is the same (direct input): it is then made for
    /// one step and repeated by the network where it matters.
    pub fn is_time_constant(&self) -> bool {
        matches!(self, Encoder::Direct)
    }

    pub fn encode(&self, images: &[&[u8]], shape: &[usize], steps: usize, seeds: &[u64]) -> Activation {
        let batch = images.len();
        let features: usize = shape.iter().product();
        let mut full_shape = vec![steps, batch];
        full_shape.extend_from_slice(shape);
        let intensity = |p: u8| p as f32 / 255.0;
        if let Encoder::Direct = self {
            let mut x = Tensor::zeros(&full_shape);
            for step in x.data_mut().chunks_mut(batch * features) {
                for (row, image) in step.chunks_mut(features).zip(images) {
                    row.iter_mut().zip(image.iter()).for_each(|(v, &p)| *v = intensity(p));
                }
            }
            return Activation::Dense(x);
        }
        let mut spikes = Spikes::zeros(&full_shape, shape.len());
        // Rows are (step, sample); give each sample its T rows so samples encode in parallel.
        let mut per_sample: Vec<Vec<&mut [u64]>> = (0..batch).map(|_| Vec::with_capacity(steps)).collect();
        for (r, row) in spikes.rows_mut().enumerate() {
            per_sample[r % batch.max(1)].push(row);
        }
        let encoder = *self;
        per_sample.into_par_iter().zip(images.par_iter()).zip(seeds.par_iter()).for_each(|((mut rows, image), &seed)| {
            let mut rng = Rng::new(seed);
            let mut row = vec![0.0f32; features];
            let mut sent = vec![0.0f32; features];
            // Rate: spike when a 16-bit random number is below p·2¹⁶, four draws per u64.
            let thresholds: Vec<u32> = match encoder {
                Encoder::Rate { max_rate } => image.iter().map(|&p| (intensity(p) * max_rate * 65536.0).round() as u32).collect(),
                _ => Vec::new(),
            };
            for (t, words) in rows.iter_mut().enumerate() {
                if let Encoder::Rate { .. } = encoder {
                    // Straight into the bit words: this is the hot path of rate-coded training.
                    for (word, th) in words.iter_mut().zip(thresholds.chunks(64)) {
                        let mut bits = 0u64;
                        for (q, quad) in th.chunks(4).enumerate() {
                            let draw = rng.next_u64();
                            for (k, &th) in quad.iter().enumerate() {
                                bits |= ((((draw >> (16 * k)) & 0xFFFF) < th as u64) as u64) << (4 * q + k);
                            }
                        }
                        *word = bits;
                    }
                    continue;
                }
                for (i, &p) in image.iter().enumerate() {
                    let x = intensity(p);
                    row[i] = match encoder {
                        Encoder::Rate { .. } => unreachable!("handled above"),
                        Encoder::Latency { threshold } => {
                            let fire_at = ((1.0 - x) * (steps - 1) as f32).round() as usize;
                            (x >= threshold && fire_at == t) as u8 as f32
                        }
                        Encoder::Delta { threshold } => {
                            let signal = x * (t + 1) as f32 / steps as f32;
                            // `sent` counts spikes; the level is recomputed, not summed, so
                            // rounding cannot drift (1e-6 absorbs the rounding of `signal`).
                            let spike = signal + 1e-6 >= (sent[i] + 1.0) * threshold;
                            if spike {
                                sent[i] += 1.0;
                            }
                            spike as u8 as f32
                        }
                        Encoder::Direct => unreachable!(),
                    };
                }
                crate::tensor::pack_row_into(words, &row);
            }
        });
        Activation::Spikes(spikes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(e: Encoder, image: &[u8], steps: usize) -> Tensor {
        e.encode(&[image], &[image.len()], steps, &[42]).into_dense()
    }

    #[test]
    fn direct_repeats_intensity() {
        let x = encode(Encoder::Direct, &[0, 255, 51], 3);
        assert_eq!(x.data(), &[0.0, 1.0, 0.2, 0.0, 1.0, 0.2, 0.0, 1.0, 0.2]);
    }

    #[test]
    fn rate_matches_probability_and_is_seeded() {
        let image = vec![51u8; 1000]; // p = 0.2
        let x = encode(Encoder::Rate { max_rate: 1.0 }, &image, 50);
        let mean = x.sum() / x.len() as f64;
        assert!((mean - 0.2).abs() < 0.01, "{mean}");
        assert_eq!(x, encode(Encoder::Rate { max_rate: 1.0 }, &image, 50));
        let half = encode(Encoder::Rate { max_rate: 0.5 }, &image, 50);
        assert!((half.sum() / half.len() as f64 - 0.1).abs() < 0.01);
    }

    #[test]
    fn latency_fires_once_brighter_earlier() {
        let x = encode(Encoder::Latency { threshold: 0.2 }, &[255, 128, 10], 5);
        let first = |i: usize| (0..5).find(|&t| x.data()[t * 3 + i] == 1.0);
        assert_eq!((first(0), first(1), first(2)), (Some(0), Some(2), None));
        assert_eq!(x.sum(), 2.0);
    }

    #[test]
    fn delta_spike_count_follows_intensity() {
        let x = encode(Encoder::Delta { threshold: 0.1 }, &[255, 128, 0], 20);
        let count = |i: usize| (0..20).map(|t| x.data()[t * 3 + i]).sum::<f32>();
        assert_eq!((count(0), count(1), count(2)), (10.0, 5.0, 0.0));
    }
}
