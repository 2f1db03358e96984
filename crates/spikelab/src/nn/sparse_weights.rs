//! Static weight sparsity (Ahmad & Scheinkman 2019): every output unit keeps a fixed random
//! subset of exactly `round(kept · fan_in)` of its inputs for the whole run; the rest of its
//! weights are zero. The mask is enforced by re-zeroing after every optimizer step (and at
//! initialisation), so gradients of removed weights are computed but never take effect.
//!
//! `kept` is the fraction of weights that **stay** (the paper's `weight_sparsity`; today's
//! nupic.torch `sparsity` is the opposite, the fraction removed). Configs name it `kept_weights`.

use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// How the kept inputs of the units are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskKind {
    /// Independently per unit, uniformly without replacement (nupic.torch `SparseWeights`).
    #[default]
    Random,
    /// Complementary (Hunter et al. 2022): consecutive groups of `⌊1/kept⌋` units split one
    /// random permutation of the fan-in between them, so their kept inputs are disjoint and the
    /// group packs into one dense kernel (`crate::tensor::PackedKernels`).
    Complementary,
    /// Complementary, with one random partition shared by each block of `PACK_LANES` groups:
    /// member m of every group in a block keeps the same inputs. A packed input row then routes
    /// whole SIMD vectors (one member per block) instead of single products — the CPU form of
    /// the packing. Fewer distinct masks: `⌈units / (N · PACK_LANES)⌉ · N` of them.
    ComplementaryBlocks,
}

/// Groups per block of `MaskKind::ComplementaryBlocks` (one AVX-512 vector of f32).
pub const PACK_LANES: usize = 16;

/// Which weights of a `[units × fan_in]` set are kept, as one sorted index list per unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightMask {
    pub units: usize,
    pub fan_in: usize,
    /// `kept[u]`: the inputs unit `u` keeps, ascending.
    pub kept: Vec<Vec<u32>>,
}

impl WeightMask {
    /// Kept inputs per unit for a fraction `kept` of `fan_in`: `round(kept · fan_in)`, at least 1.
    pub fn kept_count(kept: f32, fan_in: usize) -> usize {
        ((kept as f64 * fan_in as f64).round() as usize).clamp(1, fan_in)
    }

    /// `key` names the setting in errors (`model.layers[3].kept_weights`).
    pub fn new(units: usize, fan_in: usize, kept: f32, kind: MaskKind, rng: &mut Rng, key: &str) -> Result<Self> {
        if !(kept > 0.0 && kept <= 1.0) {
            return Err(Error::config(key, format!("is the fraction of weights kept, in (0, 1]; got {kept}")));
        }
        let count = Self::kept_count(kept, fan_in);
        let mut kept_lists = Vec::with_capacity(units);
        match kind {
            MaskKind::Random => {
                for _ in 0..units {
                    let mut order: Vec<u32> = (0..fan_in as u32).collect();
                    partial_shuffle(&mut order, count, rng);
                    kept_lists.push(order[..count].to_vec());
                }
            }
            MaskKind::Complementary | MaskKind::ComplementaryBlocks => {
                let group = fan_in / count;
                let shared = if kind == MaskKind::ComplementaryBlocks { PACK_LANES } else { 1 };
                for first in (0..units).step_by(group * shared) {
                    let mut order: Vec<u32> = (0..fan_in as u32).collect();
                    partial_shuffle(&mut order, group * count, rng);
                    // Unit u = first + g·N + m keeps chunk m of this block's partition.
                    for u in first..(first + group * shared).min(units) {
                        let member = (u - first) % group;
                        kept_lists.push(order[member * count..(member + 1) * count].to_vec());
                    }
                }
            }
        }
        kept_lists.iter_mut().for_each(|k| k.sort_unstable());
        Ok(WeightMask { units, fan_in, kept: kept_lists })
    }

    /// Fraction of all weights kept.
    pub fn kept_fraction(&self) -> f64 {
        let total: usize = self.kept.iter().map(Vec::len).sum();
        total as f64 / (self.units * self.fan_in).max(1) as f64
    }

    /// A 0/1 value per weight, unit-major (`[units, fan_in]`).
    pub fn dense(&self) -> Vec<f32> {
        let mut m = vec![0.0f32; self.units * self.fan_in];
        for (u, inputs) in self.kept.iter().enumerate() {
            for &i in inputs {
                m[u * self.fan_in + i as usize] = 1.0;
            }
        }
        m
    }
}

/// Fisher–Yates for the first `n` positions: `order[..n]` becomes a uniform random subset.
fn partial_shuffle(order: &mut [u32], n: usize, rng: &mut Rng) {
    for i in 0..n.min(order.len()) {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
}

/// Zero applied to a weight matrix stored unit-major (`[units, fan_in]`, convolutions) or
/// input-major (`[fan_in, units]`, `Linear`); `zeros` holds the flat positions to clear.
#[derive(Clone, Debug)]
pub struct MaskedWeights {
    pub mask: WeightMask,
    zeros: Vec<u32>,
}

impl MaskedWeights {
    pub fn new(mask: WeightMask, unit_major: bool) -> Self {
        let dense = mask.dense();
        let (units, fan_in) = (mask.units, mask.fan_in);
        let zeros = (0..units * fan_in)
            .filter(|&p| {
                let (u, i) = if unit_major { (p / fan_in, p % fan_in) } else { (p % units, p / units) };
                dense[u * fan_in + i] == 0.0
            })
            .map(|p| p as u32)
            .collect();
        MaskedWeights { mask, zeros }
    }

    pub fn apply(&self, weights: &mut [f32]) {
        for &p in &self.zeros {
            weights[p as usize] = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_keeps_exactly_its_count() {
        let mut rng = Rng::new(3);
        for (fan_in, kept) in [(1024, 0.3), (25, 0.5), (784, 0.05), (10, 1.0), (7, 0.01)] {
            let m = WeightMask::new(13, fan_in, kept, MaskKind::Random, &mut rng, "k").unwrap();
            let count = WeightMask::kept_count(kept, fan_in);
            for inputs in &m.kept {
                assert_eq!(inputs.len(), count);
                assert!(inputs.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
                assert!(inputs.iter().all(|&i| (i as usize) < fan_in));
            }
        }
        assert_eq!(WeightMask::kept_count(0.3, 1024), 307);
    }

    #[test]
    fn complementary_groups_are_disjoint() {
        let mut rng = Rng::new(5);
        let m = WeightMask::new(10, 100, 0.3, MaskKind::Complementary, &mut rng, "k").unwrap();
        // ⌊100 / 30⌋ = 3 units per group.
        for group in m.kept.chunks(3) {
            let mut all: Vec<u32> = group.iter().flatten().copied().collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), n, "a group's units share no input");
        }
        assert!(m.kept.iter().all(|k| k.len() == 30));
        // Blocks: member m of each of 16 groups keeps the same inputs; the next block differs.
        let b = WeightMask::new(100, 100, 0.3, MaskKind::ComplementaryBlocks, &mut rng, "k").unwrap();
        assert!(b.kept.iter().all(|k| k.len() == 30));
        for u in 0..48 {
            assert_eq!(b.kept[u], b.kept[u % 3], "unit {u}");
        }
        assert_ne!(b.kept[48], b.kept[0]);
        // Random masks of the same units overlap (with overwhelming probability).
        let r = WeightMask::new(2, 100, 0.5, MaskKind::Random, &mut rng, "k").unwrap();
        assert!(r.kept[0].iter().any(|i| r.kept[1].contains(i)));
    }

    #[test]
    fn layouts_zero_the_same_weights() {
        let mut rng = Rng::new(9);
        let mask = WeightMask::new(4, 6, 0.5, MaskKind::Random, &mut rng, "k").unwrap();
        let dense = mask.dense();
        let mut unit_major = vec![1.0f32; 24];
        MaskedWeights::new(mask.clone(), true).apply(&mut unit_major);
        assert_eq!(unit_major, dense);
        let mut input_major = vec![1.0f32; 24];
        MaskedWeights::new(mask, false).apply(&mut input_major);
        for u in 0..4 {
            for i in 0..6 {
                assert_eq!(input_major[i * 4 + u], dense[u * 6 + i]);
            }
        }
    }

    #[test]
    fn bad_fractions_are_named() {
        let mut rng = Rng::new(1);
        for kept in [0.0, -0.1, 1.5, f32::NAN] {
            let err = WeightMask::new(2, 4, kept, MaskKind::Random, &mut rng, "model.layers[2].kept_weights").unwrap_err().to_string();
            assert!(err.contains("model.layers[2].kept_weights") && err.contains("kept"), "{err}");
        }
    }
}
