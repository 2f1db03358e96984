//! Event-driven kernels for spike input: work proportional to the number of spikes.
//!
//! Both kernels take the rows (the (step, sample) pairs) in blocks of `BLOCK` and first list,
//! for every input, the rows of the block where it spiked (`BlockLists`). A weight tile (or
//! weight-gradient tile) is then loaded once per input and applied to all of that input's rows
//! while the block's tile of rows sits in L1 cache; the alternative, fetching a weight row per
//! spike, is bound by L2 latency and ran 2–3× slower here. Columns go in tiles of `TILE` floats
//! held in registers. The inner functions are compiled for several SIMD levels and dispatched at
//! run time (`multiversion`), since the crate itself is built for baseline x86-64.

use super::Spikes;
use multiversion::multiversion;
use rayon::prelude::*;

/// Rows per block: row offsets fit in a byte, and a block's tile of rows (64 × 64 floats =
/// 16 KB) fits in L1.
const BLOCK: usize = 64;
/// Columns per tile: 8 AVX2 or 4 AVX-512 registers.
const TILE: usize = 64;
/// Work items per thread of the weight gradient. Each item reads nearly all of the output
/// gradient, so items should be few; two per thread keep the threads evenly loaded. (Any split
/// gives identical results: each gradient row sums its terms in the same order.)
const GRAD_ITEMS_PER_THREAD: usize = 2;

/// For one block of rows: for each input, the offsets of the rows (within the block) where the
/// input spiked, in increasing order.
struct BlockLists {
    starts: Vec<u32>,
    rows: Vec<u8>,
}

impl BlockLists {
    fn build(spikes: &Spikes, first_row: usize, rows: usize) -> Self {
        let inputs = spikes.row_len();
        let mut starts = vec![0u32; inputs + 1];
        for r in first_row..first_row + rows {
            spikes.for_each_active(r, |i| starts[i + 1] += 1);
        }
        for i in 0..inputs {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut offsets = vec![0u8; starts[inputs] as usize];
        for (k, r) in (first_row..first_row + rows).enumerate() {
            spikes.for_each_active(r, |i| {
                offsets[fill[i] as usize] = k as u8;
                fill[i] += 1;
            });
        }
        BlockLists { starts, rows: offsets }
    }

    #[inline(always)]
    fn rows_of(&self, input: usize) -> &[u8] {
        &self.rows[self.starts[input] as usize..self.starts[input + 1] as usize]
    }
}

/// A spike matrix regrouped for the event kernels: for each block of `BLOCK` rows, the rows
/// where each input spiked. Built once per layer input and shared by the forward product and
/// the weight gradient.
pub struct SpikeIndex {
    blocks: Vec<BlockLists>,
    rows: usize,
    inputs: usize,
}

impl std::fmt::Debug for SpikeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpikeIndex({} rows × {} inputs, {} bytes)", self.rows, self.inputs, self.bytes())
    }
}

impl SpikeIndex {
    pub fn new(spikes: &Spikes) -> Self {
        let rows = spikes.rows();
        let blocks = (0..rows.div_ceil(BLOCK)).into_par_iter().map(|b| BlockLists::build(spikes, b * BLOCK, BLOCK.min(rows - b * BLOCK))).collect();
        SpikeIndex { blocks, rows, inputs: spikes.row_len() }
    }

    /// Bytes held (for memory reports).
    pub fn bytes(&self) -> usize {
        self.blocks.iter().map(|b| 4 * b.starts.len() + b.rows.len()).sum()
    }
}

/// Rows per work item of the forward product. Each item streams the whole weight matrix from
/// L2/L3 once per column tile, so items should be tall; 256 rows keep their output tile
/// (256 × `TILE` floats = 64 KB) in L2.
const FORWARD_ROWS: usize = 256;

/// `out[r] += Σ_{i active in row r} weight[i]`, weight `[inputs, width]` row-major,
/// out `[rows, width]`, straight from the spike bits.
///
/// Each 64-bit word of a row names the active inputs among 64 consecutive ones. For a tile of
/// columns, the kernel takes those 64 weight rows (64 × `TILE` floats = 16 KB, resident in L1
/// while every row of the work item visits them), sums the rows a word selects in registers and
/// adds the sum to the output once: one L1 load per weight value used and one output
/// update per non-zero word, instead of an output load and store per spike. Summation order is
/// fixed by the bit layout, so results do not depend on the thread count.
pub fn spike_matmul(spikes: &Spikes, weight: &[f32], out: &mut [f32], width: usize) {
    assert_eq!(out.len(), spikes.rows() * width, "spike_matmul: output size");
    assert_eq!(weight.len(), spikes.row_len() * width, "spike_matmul: weight size");
    if width == 0 || spikes.row_len() == 0 {
        return;
    }
    out.par_chunks_mut(width * FORWARD_ROWS).enumerate().for_each(|(item, y)| {
        add_selected_weight_rows(spikes, item * FORWARD_ROWS, weight, y, width);
    });
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn add_selected_weight_rows(spikes: &Spikes, first_row: usize, weight: &[f32], y: &mut [f32], width: usize) {
    let words = spikes.words_per_row();
    for start in (0..width).step_by(TILE) {
        let n = TILE.min(width - start);
        for w in 0..words {
            for (k, yr) in y.chunks_exact_mut(width).enumerate() {
                let word = spikes.row_words(first_row + k)[w];
                if word == 0 {
                    continue;
                }
                let out = &mut yr[start..start + n];
                if n == TILE {
                    let mut acc = [0.0f32; TILE];
                    for_each_bit(word, |bit| {
                        let row = &weight[(w * 64 + bit) * width + start..][..TILE];
                        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                    });
                    out.iter_mut().zip(&acc).for_each(|(o, a)| *o += a);
                } else {
                    for_each_bit(word, |bit| {
                        let row = &weight[(w * 64 + bit) * width + start..][..n];
                        out.iter_mut().zip(row).for_each(|(o, v)| *o += v);
                    });
                }
            }
        }
    }
}

/// Calls `f` with the position of every set bit of `word`, lowest first.
#[inline(always)]
fn for_each_bit(mut word: u64, mut f: impl FnMut(usize)) {
    while word != 0 {
        f(word.trailing_zeros() as usize);
        word &= word - 1;
    }
}

/// `grad_w[i] += Σ_{rows r where input i spiked} grad_out[r]`: the weight gradient Xᵀ·dY
/// for binary X. Work items own disjoint ranges of inputs, so every gradient row has one
/// writer and the sums run in row order whatever the thread count.
pub fn spike_weight_grad(index: &SpikeIndex, grad_out: &[f32], grad_w: &mut [f32], width: usize) {
    assert_eq!(grad_out.len(), index.rows * width, "spike_weight_grad: gradient size");
    assert_eq!(grad_w.len(), index.inputs * width, "spike_weight_grad: weight size");
    if width == 0 {
        return;
    }
    let per_item = index.inputs.div_ceil(rayon::current_num_threads() * GRAD_ITEMS_PER_THREAD).max(1);
    grad_w.par_chunks_mut(width * per_item).enumerate().for_each(|(chunk, gw)| {
        add_gradient_rows(&index.blocks, chunk * per_item, grad_out, gw, width);
    });
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn add_gradient_rows(blocks: &[BlockLists], first_input: usize, grad_out: &[f32], gw: &mut [f32], width: usize) {
    for start in (0..width).step_by(TILE) {
        let n = TILE.min(width - start);
        for (b, lists) in blocks.iter().enumerate() {
            let dy = &grad_out[b * BLOCK * width..];
            let rows_of = |k: usize| lists.rows_of(first_input + k);
            if n < TILE {
                for (k, row) in gw.chunks_mut(width).enumerate() {
                    for &r in rows_of(k) {
                        for (a, v) in row[start..start + n].iter_mut().zip(&dy[r as usize * width + start..][..n]) {
                            *a += v;
                        }
                    }
                }
                continue;
            }
            // Two inputs at a time: two independent chains of adds hide the add latency that a
            // single accumulator chain (≈13 dependent adds per input and block) would expose.
            let mut pairs = gw.chunks_mut(width).enumerate();
            while let Some((k, row_a)) = pairs.next() {
                let (list_a, mut acc_a) = (rows_of(k), [0.0f32; TILE]);
                acc_a.copy_from_slice(&row_a[start..start + TILE]);
                match pairs.next() {
                    Some((k_b, row_b)) => {
                        let (list_b, mut acc_b) = (rows_of(k_b), [0.0f32; TILE]);
                        acc_b.copy_from_slice(&row_b[start..start + TILE]);
                        let common = list_a.len().min(list_b.len());
                        for (&ra, &rb) in list_a[..common].iter().zip(&list_b[..common]) {
                            let (va, vb) = (&dy[ra as usize * width + start..][..TILE], &dy[rb as usize * width + start..][..TILE]);
                            for j in 0..TILE {
                                acc_a[j] += va[j];
                                acc_b[j] += vb[j];
                            }
                        }
                        add_rows(&mut acc_a, dy, &list_a[common..], width, start);
                        add_rows(&mut acc_b, dy, &list_b[common..], width, start);
                        row_b[start..start + TILE].copy_from_slice(&acc_b);
                    }
                    None => add_rows(&mut acc_a, dy, list_a, width, start),
                }
                row_a[start..start + TILE].copy_from_slice(&acc_a);
            }
        }
    }
}

#[inline(always)]
fn add_rows(acc: &mut [f32; TILE], source: &[f32], rows: &[u8], width: usize, start: usize) {
    for &r in rows {
        for (a, v) in acc.iter_mut().zip(&source[r as usize * width + start..][..TILE]) {
            *a += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::tensor::Tensor;

    fn random_spikes(rows: usize, inputs: usize, density: f32, rng: &mut Rng) -> (Spikes, Vec<f32>) {
        let dense: Vec<f32> = (0..rows * inputs).map(|_| (rng.uniform() < density) as u8 as f32).collect();
        (Spikes::from_dense(&Tensor::from_vec(&[rows, inputs], dense.clone()).unwrap(), 1), dense)
    }

    /// Against the naive dense products, at boundary sizes: no spikes, one spike, all spikes,
    /// widths and row counts that are not multiples of the tiles or SIMD width.
    #[test]
    fn kernels_match_naive_products_at_boundary_sizes() {
        let mut rng = Rng::new(8);
        for &(rows, inputs, width, density) in &[(1, 1, 1, 1.0), (3, 5, 7, 0.0), (33, 65, 129, 0.1), (70, 130, 200, 1.0), (5, 64, 17, 0.5)] {
            let (spikes, x) = random_spikes(rows, inputs, density, &mut rng);
            let w: Vec<f32> = (0..inputs * width).map(|_| rng.normal()).collect();
            let index = SpikeIndex::new(&spikes);
            let mut out = vec![0.5f32; rows * width];
            spike_matmul(&spikes, &w, &mut out, width);
            for r in 0..rows {
                for j in 0..width {
                    let expected = 0.5 + (0..inputs).map(|i| x[r * inputs + i] * w[i * width + j]).sum::<f32>();
                    assert!((out[r * width + j] - expected).abs() < 1e-4, "forward {rows}×{inputs}×{width}");
                }
            }
            let g: Vec<f32> = (0..rows * width).map(|_| rng.normal()).collect();
            let mut gw = vec![0.25f32; inputs * width];
            spike_weight_grad(&index, &g, &mut gw, width);
            for i in 0..inputs {
                for j in 0..width {
                    let expected = 0.25 + (0..rows).map(|r| x[r * inputs + i] * g[r * width + j]).sum::<f32>();
                    assert!((gw[i * width + j] - expected).abs() < 1e-3, "weight grad {rows}×{inputs}×{width}");
                }
            }
        }
        // A single spike adds exactly one weight row.
        let mut one = Spikes::zeros(&[2, 70], 1);
        let mut row = vec![0.0; 70];
        row[66] = 1.0;
        one.pack_row(1, &row);
        let w: Vec<f32> = (0..70 * 3).map(|v| v as f32).collect();
        let mut out = vec![0.0; 6];
        spike_matmul(&one, &w, &mut out, 3);
        assert_eq!(out, vec![0.0, 0.0, 0.0, 198.0, 199.0, 200.0]);
    }
}
