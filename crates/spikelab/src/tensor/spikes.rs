//! Binary spike trains stored one bit per neuron and step.
//!
//! Rows are the leading axes ([T, B] for layer activity) and each row packs its features into
//! whole `u64` words, so a row starts on a word boundary and can be walked spike by spike
//! (`for_each_active`) without touching the silent majority.

use super::Tensor;
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Spikes {
    shape: Vec<usize>,
    row_len: usize,
    words_per_row: usize,
    bits: Vec<u64>,
}

impl Spikes {
    /// All-silent spikes of `shape`; the last `feature_axes` axes form one row.
    pub fn zeros(shape: &[usize], feature_axes: usize) -> Self {
        let row_len: usize = shape[shape.len() - feature_axes..].iter().product();
        let rows: usize = shape[..shape.len() - feature_axes].iter().product();
        let words_per_row = row_len.div_ceil(64);
        Spikes { shape: shape.to_vec(), row_len, words_per_row, bits: vec![0; rows * words_per_row] }
    }

    /// Packs a dense tensor: any value > 0.5 is a spike.
    pub fn from_dense(t: &Tensor, feature_axes: usize) -> Self {
        let mut s = Spikes::zeros(t.shape(), feature_axes);
        let (row_len, words) = (s.row_len.max(1), s.words_per_row.max(1));
        s.bits.par_chunks_mut(words).zip(t.data().par_chunks(row_len)).for_each(|(w, row)| pack_into(w, row));
        s
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn rows(&self) -> usize {
        self.bits.len() / self.words_per_row.max(1)
    }

    pub fn row_len(&self) -> usize {
        self.row_len
    }

    pub fn words_per_row(&self) -> usize {
        self.words_per_row
    }

    pub fn row_words(&self, r: usize) -> &[u64] {
        &self.bits[r * self.words_per_row..(r + 1) * self.words_per_row]
    }

    /// Mutable word slices of every row, for writers that fill rows in parallel.
    pub fn rows_mut(&mut self) -> std::slice::ChunksMut<'_, u64> {
        self.bits.chunks_mut(self.words_per_row.max(1))
    }

    /// Writes row `r` from 0/1 (or smooth) values; > 0.5 is a spike.
    pub fn pack_row(&mut self, r: usize, values: &[f32]) {
        let w = self.words_per_row;
        pack_into(&mut self.bits[r * w..(r + 1) * w], values);
    }

    pub fn get(&self, row: usize, i: usize) -> bool {
        self.bits[row * self.words_per_row + i / 64] >> (i % 64) & 1 == 1
    }

    /// Calls `f(i)` for every active feature `i` of row `r`, in increasing order.
    #[inline(always)]
    pub fn for_each_active(&self, r: usize, mut f: impl FnMut(usize)) {
        for (w, &word) in self.row_words(r).iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                f(i);
                bits &= bits - 1;
            }
        }
    }

    pub fn count_ones(&self) -> u64 {
        self.bits.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// Fraction of neuron-steps that spiked.
    pub fn density(&self) -> f64 {
        let total = self.rows() * self.row_len;
        if total == 0 {
            0.0
        } else {
            self.count_ones() as f64 / total as f64
        }
    }

    pub fn to_dense(&self) -> Tensor {
        let mut out = Tensor::zeros(&self.shape);
        self.unpack_rows(0, out.data_mut());
        out
    }

    /// Writes rows `first_row..` as 0/1 values into `out` (whole rows of `row_len` values).
    pub fn unpack_rows(&self, first_row: usize, out: &mut [f32]) {
        let row_len = self.row_len;
        if row_len == 0 {
            return;
        }
        assert!(out.len() % row_len == 0 && first_row + out.len() / row_len <= self.rows(), "unpack_rows: rows out of range");
        out.par_chunks_mut(row_len).enumerate().for_each(|(r, row)| {
            row.fill(0.0);
            self.for_each_active(first_row + r, |i| row[i] = 1.0);
        });
    }

    /// Same bits, new shape with the same row length (e.g. flattening [C,H,W] features).
    pub fn reshape(mut self, shape: &[usize]) -> Option<Self> {
        if shape.iter().product::<usize>() != self.shape.iter().product::<usize>() {
            return None;
        }
        self.shape = shape.to_vec();
        Some(self)
    }

    /// Bytes held by the bit storage.
    pub fn storage_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

/// Packs `values` (> 0.5 is a spike) into `words`, which must hold `values.len()` bits.
pub(crate) fn pack_into(words: &mut [u64], values: &[f32]) {
    for (word, chunk) in words.iter_mut().zip(values.chunks(64)) {
        let mut bits = 0u64;
        for (k, &v) in chunk.iter().enumerate() {
            bits |= ((v > 0.5) as u64) << k;
        }
        *word = bits;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_roundtrip_at_word_boundaries() {
        for n in [0usize, 1, 63, 64, 65, 130] {
            let values: Vec<f32> = (0..3 * n).map(|i| ((i * 7 + 3) % 5 == 0) as u8 as f32).collect();
            let t = Tensor::from_vec(&[3, n], values.clone()).unwrap();
            let s = Spikes::from_dense(&t, 1);
            assert_eq!(s.to_dense().data(), &values[..], "n = {n}");
            let mut seen = Vec::new();
            for r in 0..3 {
                s.for_each_active(r, |i| seen.push(r * n + i));
            }
            let expected: Vec<usize> = (0..3 * n).filter(|&i| values[i] == 1.0).collect();
            assert_eq!(seen, expected);
            assert_eq!(s.count_ones() as usize, expected.len());
        }
    }
}
