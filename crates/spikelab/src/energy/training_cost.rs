//! The training-cost statistic of the SBP paper (`../shared/docs/reference/sbp.md` §6):
//! cost = C_iter × mean over a ∈ A of e(a), where C_iter is a per-epoch cost from the layer
//! sizes, e(a) the first epoch (1-based) at which the test error is ≤ a, and A five error levels
//! spaced evenly from the largest of the compared methods' best errors to the smallest of their
//! worst errors (capped: 0.2 for the SNN, 0.4 for the RBM; never below the best error). Computed per seed; reported as
//! mean ± std over seeds. The levels depend on every method in the comparison, so a method's
//! cost is only comparable within one comparison.

use serde::Serialize;

/// One method's test-error curves (fractions), one per seed, one value per epoch.
pub type Curves = [Vec<f64>];

fn mean_curve(curves: &Curves) -> Vec<f64> {
    let epochs = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..epochs).map(|e| curves.iter().map(|c| c[e]).sum::<f64>() / curves.len() as f64).collect()
}

/// The five error levels A for a comparison of `methods`.
pub fn error_levels(methods: &[&Curves], cap: f64) -> [f64; 5] {
    let means: Vec<Vec<f64>> = methods.iter().map(|m| mean_curve(m)).collect();
    let best = means.iter().map(|c| c.iter().cloned().fold(f64::INFINITY, f64::min)).fold(f64::NEG_INFINITY, f64::max);
    // When even the cap lies below some method's best error, every level is that best error
    // (the spacing would otherwise run backwards).
    let worst = means.iter().map(|c| c.iter().cloned().fold(f64::NEG_INFINITY, f64::max)).fold(f64::INFINITY, f64::min).min(cap).max(best);
    std::array::from_fn(|k| best + (worst - best) * k as f64 / 4.0)
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainingCost {
    pub cost_per_epoch: f64,
    pub levels: [f64; 5],
    /// C_iter × mean_a e(a), per seed.
    pub per_seed: Vec<f64>,
    pub mean: f64,
    pub std: f64,
    /// Levels a seed never reached within its epochs; each counts as one epoch past the end.
    pub unreached: usize,
}

pub fn training_cost(cost_per_epoch: f64, curves: &Curves, levels: [f64; 5]) -> TrainingCost {
    let mut unreached = 0;
    let per_seed: Vec<f64> = curves
        .iter()
        .map(|curve| {
            let epochs: f64 = levels
                .iter()
                .map(|&a| match curve.iter().position(|&e| e <= a + 1e-12) {
                    Some(k) => (k + 1) as f64,
                    None => {
                        unreached += 1;
                        (curve.len() + 1) as f64
                    }
                })
                .sum();
            cost_per_epoch * epochs / levels.len() as f64
        })
        .collect();
    let n = per_seed.len().max(1) as f64;
    let mean = per_seed.iter().sum::<f64>() / n;
    let std = (per_seed.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n).sqrt();
    TrainingCost { cost_per_epoch, levels, per_seed, mean, std, unreached }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two methods, one seed each: A's best 0.10, worst 0.50; B's best 0.06, worst 0.30 (cap
    /// 0.2): levels from 0.10 to 0.20 by 0.025. A (0.5, 0.3, 0.2, 0.15, 0.1) reaches them at
    /// epochs 3, 4, 4, 5, 5 (mean 4.2); B (0.3, 0.12, 0.06) at 3, 2, 2, 2, 2 (mean 2.2).
    #[test]
    fn levels_and_epochs_by_hand() {
        let a = vec![vec![0.5, 0.3, 0.2, 0.15, 0.1]];
        let b = vec![vec![0.3, 0.12, 0.06]];
        let levels = error_levels(&[&a, &b], 0.2);
        for (l, e) in levels.iter().zip([0.10, 0.125, 0.15, 0.175, 0.2]) {
            assert!((l - e).abs() < 1e-12, "{levels:?}");
        }
        let ca = training_cost(100.0, &a, levels);
        assert!((ca.mean - 420.0).abs() < 1e-9 && ca.unreached == 0, "{ca:?}");
        let cb = training_cost(100.0, &b, levels);
        assert!((cb.mean - 220.0).abs() < 1e-9, "{cb:?}");
        // A level never reached counts as one epoch past the end, and is reported.
        let short = training_cost(100.0, &[vec![0.5, 0.3]], levels);
        assert_eq!((short.unreached, short.mean), (5, 300.0));
        // Errors all above the cap: the five levels collapse onto the best error.
        assert_eq!(error_levels(&[&[vec![0.6, 0.4]]], 0.2), [0.4; 5]);
    }
}
