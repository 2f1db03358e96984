//! Products with a dense input that is mostly zeros (the output of a k-winners layer): only the
//! non-zero inputs do work. y = x·W adds `x[r, i] · W[i, :]` for each non-zero; the weight
//! gradient `x^T·g` adds `x[r, i] · g[r, :]` into row i. Rows of W and g are contiguous, so each
//! step is one vectorised axpy; when instead the output gradient g is mostly zeros, the weight
//! gradient is built by output column. Results do not depend on the thread count: every
//! output row sums its terms in a fixed order.

use multiversion::multiversion;
use rayon::prelude::*;

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn axpy(out: &mut [f32], a: f32, x: &[f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o += a * v;
    }
}

/// Σ a·b with 16 partial sums, so that the loop vectorises (a plain sum is one serial chain).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..16 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Fraction of non-zero values.
pub fn nonzero_density(x: &[f32]) -> f64 {
    x.iter().filter(|&&v| v != 0.0).count() as f64 / x.len().max(1) as f64
}

/// `out[r, :] += Σ_i x[r, i] · w[i, :]` over the non-zero `x[r, i]`; `x` is `[rows, inputs]`,
/// `w` `[inputs, outputs]`, `out` `[rows, outputs]`.
pub fn zero_skipping_matmul(x: &[f32], inputs: usize, w: &[f32], out: &mut [f32], outputs: usize) {
    out.par_chunks_mut(outputs).zip(x.par_chunks(inputs)).for_each(|(o, row)| {
        for (i, &v) in row.iter().enumerate() {
            if v != 0.0 {
                axpy(o, v, &w[i * outputs..(i + 1) * outputs]);
            }
        }
    });
}

/// `dx[r, i] = g[r, :] · w[i, :]` only where `x[r, i]` is non-zero (0 elsewhere): the input
/// gradient when the layer below passes no gradient through its zero outputs (k-winners' losers,
/// ReLU's clipped units).
pub fn zero_skipping_input_grad(x: &[f32], inputs: usize, g: &[f32], w: &[f32], outputs: usize, dx: &mut [f32]) {
    dx.par_chunks_mut(inputs).zip(x.par_chunks(inputs)).zip(g.par_chunks(outputs)).for_each(|((d, row), grow)| {
        for (i, (d, &v)) in d.iter_mut().zip(row).enumerate() {
            *d = if v != 0.0 { dot(grow, &w[i * outputs..(i + 1) * outputs]) } else { 0.0 };
        }
    });
}

/// The non-zeros of a row-major `[rows, width]` matrix grouped by column, rows increasing
/// within a column: column j holds `entries[starts[j]..starts[j + 1]]` of (row, value).
fn nonzeros_by_column(m: &[f32], width: usize) -> (Vec<usize>, Vec<(u32, f32)>) {
    let mut starts = vec![0usize; width + 1];
    for row in m.chunks(width) {
        row.iter().enumerate().filter(|(_, v)| **v != 0.0).for_each(|(j, _)| starts[j + 1] += 1);
    }
    for j in 0..width {
        starts[j + 1] += starts[j];
    }
    let mut fill = starts.clone();
    let mut entries = vec![(0u32, 0.0f32); starts[width]];
    for (r, row) in m.chunks(width).enumerate() {
        for (j, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
            entries[fill[j]] = (r as u32, v);
            fill[j] += 1;
        }
    }
    (starts, entries)
}

/// `gw[i, :] += Σ_r x[r, i] · g[r, :]` over the non-zero `x[r, i]` (rows in increasing order).
pub fn zero_skipping_weight_grad(x: &[f32], inputs: usize, g: &[f32], gw: &mut [f32], outputs: usize) {
    let (starts, entries) = nonzeros_by_column(x, inputs);
    gw.par_chunks_mut(outputs).enumerate().for_each(|(i, grow)| {
        for &(r, v) in &entries[starts[i]..starts[i + 1]] {
            axpy(grow, v, &g[r as usize * outputs..(r as usize + 1) * outputs]);
        }
    });
}

/// The same weight gradient `gw += x^T·g` when the *output* gradient `g` is mostly zeros (the
/// layer above is k-winners: only winners pass gradient) and `x` is dense: output u's column
/// `Σ_r g[r, u] · x[r, :]` is built as a contiguous row over the non-zero `g[r, u]`, then
/// added transposed.
pub fn output_sparse_weight_grad(x: &[f32], inputs: usize, g: &[f32], gw: &mut [f32], outputs: usize) {
    let (starts, entries) = nonzeros_by_column(g, outputs);
    let mut columns = vec![0.0f32; outputs * inputs];
    columns.par_chunks_mut(inputs).enumerate().for_each(|(u, column)| {
        for &(r, v) in &entries[starts[u]..starts[u + 1]] {
            axpy(column, v, &x[r as usize * inputs..(r as usize + 1) * inputs]);
        }
    });
    gw.par_chunks_mut(outputs).enumerate().for_each(|(i, grow)| {
        for ((w, column), (&start, &end)) in grow.iter_mut().zip(columns.chunks(inputs)).zip(starts.iter().zip(&starts[1..])) {
            if end > start {
                *w += column[i];
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::tensor::{matmul, Transpose};

    #[test]
    fn equal_the_dense_products_at_boundary_densities() {
        let mut rng = Rng::new(8);
        for (rows, inputs, outputs, density) in [(5, 17, 33, 0.1), (3, 8, 1, 0.0), (4, 9, 70, 1.0), (1, 64, 16, 0.05)] {
            let x: Vec<f32> = (0..rows * inputs).map(|_| if rng.uniform() < density { rng.normal() } else { 0.0 }).collect();
            let w: Vec<f32> = (0..inputs * outputs).map(|_| rng.normal()).collect();
            let g: Vec<f32> = (0..rows * outputs).map(|_| rng.normal()).collect();
            let (mut y, mut y_ref) = (vec![0.5f32; rows * outputs], vec![0.5f32; rows * outputs]);
            zero_skipping_matmul(&x, inputs, &w, &mut y, outputs);
            matmul(&x, Transpose::No, &w, Transpose::No, &mut y_ref, (rows, outputs, inputs), true, false);
            let (mut gw, mut gw_ref) = (vec![0.25f32; inputs * outputs], vec![0.25f32; inputs * outputs]);
            zero_skipping_weight_grad(&x, inputs, &g, &mut gw, outputs);
            matmul(&x, Transpose::Yes, &g, Transpose::No, &mut gw_ref, (inputs, outputs, rows), true, false);
            // The roles swapped: x dense, the output gradient as sparse as x was.
            let sparse_g: Vec<f32> = (0..rows * outputs).map(|_| if rng.uniform() < density { rng.normal() } else { 0.0 }).collect();
            let dense_x: Vec<f32> = (0..rows * inputs).map(|_| rng.normal()).collect();
            let (mut gw_out, mut gw_out_ref) = (vec![0.25f32; inputs * outputs], vec![0.25f32; inputs * outputs]);
            output_sparse_weight_grad(&dense_x, inputs, &sparse_g, &mut gw_out, outputs);
            matmul(&dense_x, Transpose::Yes, &sparse_g, Transpose::No, &mut gw_out_ref, (inputs, outputs, rows), true, false);
            let mut dx = vec![9.0f32; rows * inputs];
            zero_skipping_input_grad(&x, inputs, &g, &w, outputs, &mut dx);
            let mut dx_ref = vec![0.0f32; rows * inputs];
            matmul(&g, Transpose::No, &w, Transpose::Yes, &mut dx_ref, (rows, inputs, outputs), false, false);
            dx_ref.iter_mut().zip(&x).for_each(|(d, &v)| {
                if v == 0.0 {
                    *d = 0.0
                }
            });
            for (a, b) in y.iter().zip(&y_ref).chain(gw.iter().zip(&gw_ref)).chain(gw_out.iter().zip(&gw_out_ref)).chain(dx.iter().zip(&dx_ref)) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}
