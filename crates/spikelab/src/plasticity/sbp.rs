//! SBP, self-backpropagation (Zhang et al. 2021; `../shared/docs/reference/sbp.md` §2.5): each
//! weight change is split into potentiation P = max(ΔW, 0) and depression D = min(ΔW, 0) and
//! re-weighted per neuron by how much that neuron's synapses changed —
//!
//!   SBP(pre):  rows (pre neuron i) scaled by 1 + λ_pre·λ_f·N(λ_p·r_i), r = row sums of P or |D|
//!   SBP(post): columns (post neuron j) of D scaled by 1 + λ_post·λ_f·N(λ_p·|c_j(D)|)
//!   SBP(bp):   the input synapses of neuron j scaled by 1 + λ_bp·λ_f·N(λ_p·R_j), R_j the row sum
//!              of the SBP(pre)-scaled P (or D) of j's output synapses in the next matrix
//!
//! combined as ΔW = (P_pre + P_bp)/2 + (D_pre + D_post + D_bp)/3, or P_pre + (D_pre + D_post)/2
//! for the last matrix, processed from the output matrix down.
//!
//! `Normalisation::Sum` is the reference code's N(v) = v / Σv (v itself when Σv = 0). Under it
//! λ_p cancels — it has no effect at all — and the factors of n neurons sum to n + λ·λ_f, so
//! with 500 neurons they average 1 + 0.2/500: SBP then barely changes the base rule.
//! `Normalisation::None` uses N(v) = v, so λ_p sets the strength of the spread; it lets one
//! study SBP without that quirk.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalisation {
    /// N(v) = v / Σv: the reference behaviour (λ_p cancels).
    #[default]
    Sum,
    /// N(v) = v: λ_p scales the summed changes directly.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SbpParams {
    pub lambda_pre: f32,
    pub lambda_post: f32,
    pub lambda_bp: f32,
    /// The fraction λ_f.
    pub lambda_f: f32,
    /// The propagation range λ_p (no effect under `Normalisation::Sum`).
    pub lambda_p: f32,
    pub normalisation: Normalisation,
}

impl Default for SbpParams {
    /// The reference defaults: λ_pre 1, λ_post 0.5, λ_bp 1, λ_f 0.2, λ_p 0.1, sum-normalised.
    fn default() -> Self {
        SbpParams { lambda_pre: 1.0, lambda_post: 0.5, lambda_bp: 1.0, lambda_f: 0.2, lambda_p: 0.1, normalisation: Normalisation::Sum }
    }
}

impl SbpParams {
    /// 1 + λ·λ_f·N(λ_p·v), one factor per entry of `v`.
    fn factors(&self, lambda: f32, v: &[f64]) -> Vec<f32> {
        let scaled: Vec<f64> = v.iter().map(|x| self.lambda_p as f64 * x).collect();
        let total: f64 = scaled.iter().sum();
        let normalised = |x: f64| match self.normalisation {
            Normalisation::Sum if total != 0.0 => x / total,
            _ => x,
        };
        scaled.iter().map(|&x| 1.0 + lambda * self.lambda_f * normalised(x) as f32).collect()
    }
}

/// Modulates the weight changes of a layered network in place. `deltas[m]` is ΔW of the
/// matrix from layer m to m + 1, `sizes[m] × sizes[m + 1]` row-major (pre × post).
pub fn modulate(deltas: &mut [Vec<f32>], sizes: &[usize], p: &SbpParams) {
    assert_eq!(sizes.len(), deltas.len() + 1, "sbp: one size per layer, one change per pair of layers");
    // Row sums of the SBP(pre)-scaled P and D of the matrix above the current one.
    let mut above: Option<(Vec<f64>, Vec<f64>)> = None;
    for m in (0..deltas.len()).rev() {
        let (n_pre, n_post) = (sizes[m], sizes[m + 1]);
        let delta = &mut deltas[m];
        assert_eq!(delta.len(), n_pre * n_post, "sbp: change {m} is not {n_pre} × {n_post}");
        let (mut rows_p, mut rows_d, mut cols_d) = (vec![0.0f64; n_pre], vec![0.0f64; n_pre], vec![0.0f64; n_post]);
        for i in 0..n_pre {
            for (j, &d) in delta[i * n_post..(i + 1) * n_post].iter().enumerate() {
                if d > 0.0 {
                    rows_p[i] += d as f64;
                } else if d < 0.0 {
                    rows_d[i] += d as f64;
                    cols_d[j] += d as f64;
                }
            }
        }
        let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
        let pre_p = p.factors(p.lambda_pre, &rows_p);
        let pre_d = p.factors(p.lambda_pre, &abs(&rows_d));
        let post_d = p.factors(p.lambda_post, &abs(&cols_d));
        let bp = above.as_ref().map(|(r_plus, r_minus)| (p.factors(p.lambda_bp, r_plus), p.factors(p.lambda_bp, r_minus)));
        for i in 0..n_pre {
            for j in 0..n_post {
                let d = delta[i * n_post + j];
                let (pos, neg) = (d.max(0.0), d.min(0.0));
                let combined = match &bp {
                    None => pre_p[i] * pos + (pre_d[i] * neg + neg * post_d[j]) / 2.0,
                    Some((bp_p, bp_d)) => (pre_p[i] * pos + pos * bp_p[j]) / 2.0 + (pre_d[i] * neg + neg * post_d[j] + neg * bp_d[j]) / 3.0,
                };
                delta[i * n_post + j] = if combined.is_nan() { 0.0 } else { combined };
            }
        }
        // The downstream terms are the SBP(pre)-scaled changes, not the final combined ones.
        above = Some((rows_p.iter().zip(&pre_p).map(|(r, f)| r * *f as f64).collect(), rows_d.iter().zip(&pre_d).map(|(r, f)| r * *f as f64).collect()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worked(p: &SbpParams) -> Vec<Vec<f32>> {
        let mut deltas = vec![vec![0.3, -0.4], vec![0.2, -0.1]];
        modulate(&mut deltas, &[1, 2, 1], p);
        deltas
    }

    /// Layers 1-2-1. Output matrix [0.2, −0.1]ᵀ: P rows [0.2, 0] → factors [1.2, 1]; |D| rows
    /// [0, 0.1] → [1, 1.2]; D column 0.1 → 1.1; so [1.2·0.2, (1.2·(−0.1) − 0.1·1.1)/2] =
    /// [0.24, −0.115]. Its scaled row sums R⁺ = [0.24, 0], R⁻ = [0, −0.12] give the hidden
    /// neurons' bp factors [1.2, 1] and [1, 1.2]. Input matrix [0.3, −0.4]: P entry →
    /// (1.2·0.3 + 0.3·1.2)/2 = 0.36; D entry → (1.2·(−0.4) − 0.4·1.1 − 0.4·1.2)/3 = −1.4/3.
    #[test]
    fn worked_example_by_hand() {
        let out = worked(&SbpParams::default());
        let expected = [[0.36, -1.4 / 3.0], [0.24, -0.115]];
        for (m, row) in expected.iter().enumerate() {
            for (k, e) in row.iter().enumerate() {
                assert!((out[m][k] - e).abs() < 1e-6, "matrix {m}[{k}]: {} vs {e}", out[m][k]);
            }
        }
    }

    /// λ_p cancels under the reference normalisation and matters without it.
    #[test]
    fn lambda_p_cancels_only_under_sum_normalisation() {
        let with = |lambda_p, normalisation| worked(&SbpParams { lambda_p, normalisation, ..SbpParams::default() });
        assert_eq!(with(0.1, Normalisation::Sum), with(5.0, Normalisation::Sum));
        assert_ne!(with(0.1, Normalisation::None), with(5.0, Normalisation::None));
        // Without normalisation and λ_f = 0 every factor is 1: the base rule comes back, with
        // LTD averaged over its terms (still the same D).
        let plain = worked(&SbpParams { lambda_f: 0.0, normalisation: Normalisation::None, ..SbpParams::default() });
        assert_eq!(plain, vec![vec![0.3, -0.4], vec![0.2, -0.1]]);
    }
}
