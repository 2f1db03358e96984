//! Dense matrix products through the `gemm` crate (runtime-dispatched SIMD micro-kernels).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// `c = op(a) · op(b)` (or `c += …` when `accumulate`), all row-major:
/// `op(a)` is `m × k`, `op(b)` is `k × n`, `c` is `m × n`. A transposed operand is stored as the
/// row-major matrix it is the transpose of. `parallel` splits the product over the current rayon
/// pool; callers already inside a parallel loop pass `false`.
#[allow(clippy::too_many_arguments)]
pub fn matmul(a: &[f32], ta: Transpose, b: &[f32], tb: Transpose, c: &mut [f32], (m, n, k): (usize, usize, usize), accumulate: bool, parallel: bool) {
    assert_eq!(a.len(), m * k, "matmul: lhs has {} values, expected {m}×{k}", a.len());
    assert_eq!(b.len(), k * n, "matmul: rhs has {} values, expected {k}×{n}", b.len());
    assert_eq!(c.len(), m * n, "matmul: dst has {} values, expected {m}×{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let (a_rs, a_cs) = match ta {
        Transpose::No => (k as isize, 1),
        Transpose::Yes => (1, m as isize),
    };
    let (b_rs, b_cs) = match tb {
        Transpose::No => (n as isize, 1),
        Transpose::Yes => (1, k as isize),
    };
    let threads = if parallel { rayon::current_num_threads() } else { 1 };
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    // SAFETY: the asserts above bound every index gemm forms from (m, n, k) and these strides to
    // the three slices; `c` is exclusively borrowed and cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, accumulate, a.as_ptr(), a_cs, a_rs, b.as_ptr(), b_cs, b_rs, 1.0, 1.0, false, false, false, parallelism);
    }
}

/// The machine's dense single-precision GEMM rate in GFLOP/s: the best of `reps` square
/// `size³` products on the current rayon pool. The ceiling that throughput figures are set
/// against.
pub fn measure_gemm_gflops(size: usize, reps: usize) -> f64 {
    let a: Vec<f32> = (0..size * size).map(|i| (i % 17) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; size * size];
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) + 1 {
        let start = std::time::Instant::now();
        matmul(&a, Transpose::No, &a, Transpose::Yes, &mut c, (size, size, size), false, true);
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (size as f64).powi(3) / best / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn naive(a: &[f32], ta: Transpose, b: &[f32], tb: Transpose, m: usize, n: usize, k: usize) -> Vec<f32> {
        let at = |i: usize, p: usize| if ta == Transpose::No { a[i * k + p] } else { a[p * m + i] };
        let bt = |p: usize, j: usize| if tb == Transpose::No { b[p * n + j] } else { b[j * k + p] };
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) as f64 * bt(p, j) as f64).sum::<f64>() as f32;
            }
        }
        c
    }

    #[test]
    fn all_transpose_combinations_match_naive() {
        let mut rng = Rng::new(1);
        for &(m, n, k) in &[(1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 1, 9)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal()).collect();
            for ta in [Transpose::No, Transpose::Yes] {
                for tb in [Transpose::No, Transpose::Yes] {
                    let expected = naive(&a, ta, &b, tb, m, n, k);
                    let mut c = vec![1.0f32; m * n];
                    matmul(&a, ta, &b, tb, &mut c, (m, n, k), true, true);
                    for (x, y) in c.iter().zip(&expected) {
                        assert!((x - 1.0 - y).abs() < 1e-4, "{m}x{n}x{k} {ta:?} {tb:?}");
                    }
                }
            }
        }
    }
}
