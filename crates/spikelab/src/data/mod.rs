//! Data: data sets (IDX files, the embedded MNIST subset), encoders and mini-batches.

mod dataset;
mod encoder;
mod idx;
pub mod nettalk;
mod noise;
mod synthetic;

pub use dataset::{load, Dataset, DatasetName, Split};
pub use encoder::Encoder;
pub use idx::{parse_idx, read_idx_file, IdxArray};
pub use noise::{NoiseTest, PixelNoise, MNIST_NOISE_VALUE};
pub use synthetic::{synthetic, SyntheticPixels};

use crate::rng::Rng;

/// Sample indices of each mini-batch of one epoch: shuffled with a stream derived from
/// (seed, epoch), so a resumed run sees the same order; the last batch may be smaller.
pub fn batches(len: usize, batch_size: usize, seed: u64, epoch: usize, shuffle: bool) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..len).collect();
    if shuffle {
        Rng::derive(seed, 0xBA7C_0000 + epoch as u64).shuffle(&mut order);
    }
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_sample_once_and_replay_by_seed() {
        let b = batches(10, 4, 1, 0, true);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<usize> = b.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(b, batches(10, 4, 1, 0, true));
        assert_ne!(b, batches(10, 4, 1, 1, true));
    }
}
