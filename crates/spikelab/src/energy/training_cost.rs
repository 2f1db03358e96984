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

/// One method of a comparison: its per-epoch cost and its seeds' error curves.
#[derive(Clone, Copy)]
pub struct Method<'a> {
    pub cost_per_epoch: f64,
    pub curves: &'a Curves,
}

/// Every method's cost over the levels of the whole comparison (the levels are in each cost).
/// The paper compares a group of methods at once (its plasticity-based group: Diehl, SOM, BBT
/// and SNN-SBP), so a method added to the group can move the levels and with them every cost.
pub fn joint_costs(methods: &[Method], cap: f64) -> Vec<TrainingCost> {
    let curves: Vec<&Curves> = methods.iter().map(|m| m.curves).collect();
    let levels = error_levels(&curves, cap);
    methods.iter().map(|m| training_cost(m.cost_per_epoch, m.curves, levels)).collect()
}

/// The cost ratio first / second of a comparison of `methods` (at least two): each method's
/// mean cost over its seeds, over the levels of all of them.
pub fn cost_ratio(methods: &[Method], cap: f64) -> f64 {
    assert!(methods.len() >= 2, "a cost ratio needs two methods");
    let costs = joint_costs(methods, cap);
    costs[0].mean / costs[1].mean
}

/// How far the cost ratio moves with the seeds: the 2.5th and 97.5th percentiles of
/// [`cost_ratio`] over `resamples` draws of every method's seeds with replacement (the levels
/// are recomputed for every draw, as they would be for a new set of runs). With five seeds a
/// side this says whether a published ratio lies within the spread of the seeds drawn; it is no
/// guarantee about seeds not drawn. Deterministic for a given `seed`. Each resampling draws
/// the methods in order; a third method's draws therefore shift the first two's in the
/// resamplings after, while two methods draw as pairs always have.
pub fn ratio_interval(methods: &[Method], cap: f64, resamples: usize, seed: u64) -> (f64, f64) {
    assert!(resamples > 0 && methods.len() >= 2 && methods.iter().all(|m| !m.curves.is_empty()), "a bootstrap needs resamples, two methods and seeds in each");
    let mut rng = crate::rng::Rng::derive(seed, 0xB007);
    let mut draw = |curves: &Curves| -> Vec<Vec<f64>> { (0..curves.len()).map(|_| curves[rng.below(curves.len())].clone()).collect() };
    let mut ratios: Vec<f64> = (0..resamples)
        .map(|_| {
            let drawn: Vec<Vec<Vec<f64>>> = methods.iter().map(|m| draw(m.curves)).collect();
            let resampled: Vec<Method> = methods.iter().zip(&drawn).map(|(m, d)| Method { curves: d, ..*m }).collect();
            cost_ratio(&resampled, cap)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
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

    /// A third method in the comparison moves the levels for all: with C (0.4, 0.16) beside the
    /// A and B above, the best errors are 0.10, 0.06 and 0.16, so the levels run from 0.16 to
    /// the cap 0.2 by 0.01. A reaches them at epochs 4, 4, 4, 4, 3 (mean 3.8), B and C each at
    /// epoch 2: costs 380, 200, 200, and the ratio A / B is 1.9 instead of the pair's 420 / 220.
    #[test]
    fn a_third_method_moves_the_levels() {
        let a = vec![vec![0.5, 0.3, 0.2, 0.15, 0.1]];
        let b = vec![vec![0.3, 0.12, 0.06]];
        let c = vec![vec![0.4, 0.16]];
        let [ma, mb, mc] = [&a, &b, &c].map(|curves| Method { cost_per_epoch: 100.0, curves });
        let costs = joint_costs(&[ma, mb, mc], 0.2);
        for (l, e) in costs[0].levels.iter().zip([0.16, 0.17, 0.18, 0.19, 0.2]) {
            assert!((l - e).abs() < 1e-12, "{:?}", costs[0].levels);
        }
        let means: Vec<f64> = costs.iter().map(|c| c.mean).collect();
        assert!(means.iter().zip([380.0, 200.0, 200.0]).all(|(m, e)| (m - e).abs() < 1e-9), "{means:?}");
        assert!((cost_ratio(&[ma, mb, mc], 0.2) - 1.9).abs() < 1e-12);
        assert!((cost_ratio(&[ma, mb], 0.2) - 420.0 / 220.0).abs() < 1e-12);
        // One seed each: every draw is the runs themselves.
        assert_eq!(ratio_interval(&[ma, mb, mc], 0.2, 50, 3), (1.9, 1.9));
    }

    /// Seeds that agree leave nothing to resample: the interval is the ratio itself (420 / 220
    /// from the example above). Seeds that disagree spread it around the ratio, the same way for
    /// the same bootstrap seed.
    #[test]
    fn bootstrap_interval_of_the_ratio() {
        let a = vec![vec![0.5, 0.3, 0.2, 0.15, 0.1]; 3];
        let b = vec![vec![0.3, 0.12, 0.06]; 4];
        let (ma, mb) = (Method { cost_per_epoch: 100.0, curves: &a }, Method { cost_per_epoch: 100.0, curves: &b });
        let (lo, hi) = ratio_interval(&[ma, mb], 0.2, 200, 1);
        assert!((lo - 420.0 / 220.0).abs() < 1e-12 && (hi - lo).abs() < 1e-12, "{lo} {hi}");
        let slow = vec![vec![0.5, 0.3, 0.2, 0.15, 0.1], vec![0.5, 0.45, 0.4, 0.3, 0.25, 0.2, 0.1]];
        let ms = Method { cost_per_epoch: 100.0, curves: &slow };
        let ratio = cost_ratio(&[ms, mb], 0.2);
        let (lo, hi) = ratio_interval(&[ms, mb], 0.2, 500, 7);
        assert!(lo < ratio && ratio < hi, "{lo} {ratio} {hi}");
        // Drawing the fast seed twice gives 420 / 220; the slow one twice, its epochs 7, 7, 7, 7, 6
        // (mean 6.8) over the same levels: 680 / 220.
        assert!((lo - 420.0 / 220.0).abs() < 1e-12 && (hi - 680.0 / 220.0).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(ratio_interval(&[ms, mb], 0.2, 500, 7), (lo, hi));
    }
}
