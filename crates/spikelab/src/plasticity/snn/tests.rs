//! The SBP SNN against its own contracts: it learns, SBP with λ_f = 0 is the base rule, and the
//! cost statistic matches the reference's example.

use super::*;
use crate::plasticity::sbp::Normalisation;

/// Two classes of 16-d inputs in [0, 1] (class k lights the k-th half brighter), noisy.
fn toy(n: usize, seed: u64) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * 16);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let label = rng.below(2) as u8;
        for j in 0..16 {
            let bright = (j / 8) as u8 == label;
            x.push((if bright { 0.7 } else { 0.2 } + 0.3 * rng.uniform()).min(1.0));
        }
        y.push(label);
    }
    (x, y)
}

fn small(sbp: Option<SbpParams>, rule: BaseRule) -> SnnConfig {
    SnnConfig { layers: vec![16, 12, 2], batch_size: 10, duration: 2.0, sbp, rule, learning_rates: vec![0.1, 0.05], ..SnnConfig::default() }
}

fn one_hot(y: &[u8]) -> Vec<f32> {
    y.iter().flat_map(|&k| [(k == 0) as u8 as f32, (k == 1) as u8 as f32]).collect()
}

fn train(net: &mut SbpSnn, x: &[f32], y: &[u8], epochs: usize) {
    for _ in 0..epochs {
        for (xb, yb) in x.chunks(160).zip(y.chunks(10)) {
            net.train_batch(xb, &one_hot(yb));
        }
    }
}

fn accuracy(net: &mut SbpSnn, x: &[f32], y: &[u8]) -> f64 {
    let correct: usize = x.chunks(160).zip(y.chunks(10)).map(|(xb, yb)| net.evaluate_batch(xb, yb.len()).output.chunks(2).zip(yb).filter(|(o, &k)| (o[1] > o[0]) == (k == 1)).count()).sum();
    correct as f64 / y.len() as f64
}

#[test]
fn learns_a_separable_task_with_and_without_sbp() {
    let (x, y) = toy(400, 1);
    let (xt, yt) = toy(200, 2);
    for (sbp, rule) in [(Some(SbpParams::default()), BaseRule::PostDifference), (None, BaseRule::Symmetric)] {
        let mut net = SbpSnn::new(small(sbp, rule), 3).unwrap();
        let before = accuracy(&mut net, &xt, &yt);
        train(&mut net, &x, &y, 5);
        let after = accuracy(&mut net, &xt, &yt);
        assert!(after > 0.95 && after > before, "{rule:?} sbp {}: {before} → {after}", sbp.is_some());
    }
}

/// With λ_f = 0 every SBP factor is 1 and the modulated change is the base change itself.
#[test]
fn sbp_with_zero_fraction_is_the_base_rule() {
    let (x, y) = toy(100, 4);
    let off = SbpParams { lambda_f: 0.0, normalisation: Normalisation::None, ..SbpParams::default() };
    let mut a = SbpSnn::new(small(Some(off), BaseRule::PostDifference), 5).unwrap();
    let mut b = SbpSnn::new(small(None, BaseRule::PostDifference), 5).unwrap();
    train(&mut a, &x, &y, 2);
    train(&mut b, &x, &y, 2);
    for (wa, wb) in a.weights.iter().zip(&b.weights) {
        for (p, q) in wa.iter().zip(wb) {
            assert!((p - q).abs() <= 1e-6 * (1.0 + q.abs()), "{p} vs {q}");
        }
    }
}

/// A last batch shorter than the batch size uses the first slots, STP included.
#[test]
fn short_batches_work_with_stp() {
    let (x, y) = toy(15, 8);
    let mut config = small(Some(SbpParams::default()), BaseRule::PostDifference);
    config.stp = Some(crate::plasticity::stp::StpParams::default());
    let mut net = SbpSnn::new(config, 2).unwrap();
    net.train_batch(&x[..160], &one_hot(&y[..10]));
    let out = net.train_batch(&x[160..], &one_hot(&y[10..]));
    assert_eq!(out.output.len(), 5 * 2);
    assert_eq!(net.evaluate_batch(&x[..48], 3).output.len(), 3 * 2);
}

#[test]
fn cost_per_epoch_and_bad_configs() {
    // The reference's example: SNN-SBP on MNIST costs 397,500 per epoch (784·500 + 500·10 + 500).
    assert_eq!(SnnConfig::default().cost_per_epoch(), 397_500.0);
    let bbt = SnnConfig { rule: BaseRule::Symmetric, sbp: None, ..SnnConfig::default() };
    assert_eq!(bbt.cost_per_epoch(), 398_284.0);
    let bad = SnnConfig { learning_rates: vec![0.1], ..SnnConfig::default() };
    assert!(SbpSnn::new(bad, 1).err().unwrap().to_string().contains("learning_rates"));
}

#[test]
fn dale_step_keeps_the_sign_by_hand() {
    // Away from zero: the plain step α·Δ.
    assert_eq!(dale_step(0.5, 0.2, 0.1, 0.1), 0.5 + 0.1 * 0.2);
    assert_eq!(dale_step(-0.3, -0.4, 0.1, 0.1), -0.3 + 0.1 * -0.4);
    // Towards zero, however large the change: a tenth of the way there (−η·w).
    assert_eq!(dale_step(0.5, -100.0, 0.1, 0.1), 0.5 - 0.1 * 0.5);
    assert_eq!(dale_step(-0.3, 0.4, 0.1, 0.1), -0.3 + 0.1 * 0.3);
    // A zero weight takes the plain step either way (w·Δ = 0), as in the reference.
    assert_eq!(dale_step(0.0, -1.0, 0.1, 0.1), -0.1);
}

#[test]
fn dale_keeps_each_neurons_sign_and_still_learns() {
    let (x, y) = toy(400, 1);
    let (xt, yt) = toy(200, 2);
    for strict in [false, true] {
        let dale = DaleParams { strict, ..DaleParams::default() };
        let mut net = SbpSnn::new(SnnConfig { dale: Some(dale), ..small(Some(SbpParams::default()), BaseRule::PostDifference) }, 3).unwrap();
        for (layer, &n) in net.inhibitory.iter().zip(&net.config.layers) {
            assert_eq!(layer.iter().filter(|&&i| i).count(), n.div_ceil(2), "⌈n/2⌉ inhibitory");
        }
        let sign_ok = |w: &[f32], inhibitory: &[bool]| w.chunks(w.len() / inhibitory.len()).zip(inhibitory).all(|(row, &inh)| row.iter().all(|&v| if inh { v <= 0.0 } else { v >= 0.0 }));
        for (w, inh) in net.weights.iter().zip(&net.inhibitory) {
            assert!(sign_ok(w, inh), "initial weights follow their neuron's sign");
        }
        let before: Vec<f32> = net.weights[1].clone();
        train(&mut net, &x, &y, 5);
        // The guarded matrix: a weight that had a sign keeps it.
        assert!(before.iter().zip(&net.weights[1]).all(|(&b, &a)| b * a > 0.0 || b == 0.0), "strict {strict}");
        if strict {
            for (w, inh) in net.weights.iter().zip(&net.inhibitory) {
                assert!(sign_ok(w, inh), "strict keeps every matrix on its neurons' signs");
            }
        }
        let after = accuracy(&mut net, &xt, &yt);
        assert!(after > 0.9, "strict {strict}: {after}");
    }
    // Half the hidden neurons inhibitory changes the membrane (V_I): another trajectory.
    let plain = |v_i: f32| {
        let dale = DaleParams { v_i, ..DaleParams::default() };
        let mut net = SbpSnn::new(SnnConfig { dale: Some(dale), ..small(None, BaseRule::Symmetric) }, 5).unwrap();
        net.evaluate_batch(&x[..160], 10).output
    };
    assert_ne!(plain(0.1), plain(0.2));
}

#[test]
fn bad_dale_settings_are_named() {
    let with = |d: DaleParams| SnnConfig { dale: Some(d), ..SnnConfig::default() }.validate().unwrap_err().to_string();
    assert!(with(DaleParams { inhibitory_fraction: vec![0.5; 2], ..Default::default() }).contains("dale.inhibitory_fraction"));
    assert!(with(DaleParams { inhibitory_fraction: vec![0.5, 1.5, 0.5], ..Default::default() }).contains("dale.inhibitory_fraction"));
    assert!(with(DaleParams { eta: 0.0, ..Default::default() }).contains("dale.eta"));
}

/// Spikes and the largest threshold raise over `epochs` of the toy task.
fn spikes_and_raise(net: &mut SbpSnn, x: &[f32], y: &[u8], epochs: usize) -> (u64, f32) {
    let mut spikes = 0;
    for _ in 0..epochs {
        for (xb, yb) in x.chunks(160).zip(y.chunks(10)) {
            spikes += net.train_batch(xb, &one_hot(yb)).spikes;
        }
    }
    (spikes, net.theta.iter().flatten().fold(0.0f32, |m, &t| m.max(t)))
}

#[test]
fn adaptive_thresholds_fire_less_stay_bounded_and_still_learn() {
    use crate::plasticity::homeostasis::AdaptiveThresholdParams;
    let (x, y) = toy(400, 1);
    let (xt, yt) = toy(200, 2);
    let with = |params: Option<AdaptiveThresholdParams>| SnnConfig { adaptive_threshold: params, ..small(Some(SbpParams::default()), BaseRule::PostDifference) };
    let mut fixed = SbpSnn::new(with(None), 3).unwrap();
    let (fixed_spikes, fixed_raise) = spikes_and_raise(&mut fixed, &x, &y, 5);
    assert!(fixed_spikes > 0 && fixed_raise == 0.0);
    // A zero raise is the fixed threshold, bit for bit.
    let mut zero = SbpSnn::new(with(Some(AdaptiveThresholdParams { increment: 0.0, tau: 5.0 })), 3).unwrap();
    assert_eq!(spikes_and_raise(&mut zero, &x, &y, 5), (fixed_spikes, 0.0));
    assert_eq!(zero.weights, fixed.weights);
    // Raised thresholds: fewer spikes; θ never above its ceiling under firing at every step.
    let params = AdaptiveThresholdParams { increment: 0.02, tau: 5.0 };
    let mut adaptive = SbpSnn::new(with(Some(params)), 3).unwrap();
    let (spikes, raise) = spikes_and_raise(&mut adaptive, &x, &y, 5);
    let ceiling = params.adaptation(adaptive.config.dt).steady_state(1);
    assert!(spikes < fixed_spikes * 9 / 10, "{spikes} vs {fixed_spikes}");
    assert!(raise > 0.0 && raise <= ceiling * (1.0 + 1e-5), "{raise} vs ceiling {ceiling}");
    assert!(accuracy(&mut adaptive, &xt, &yt) > 0.95);
    let bad = with(Some(AdaptiveThresholdParams { increment: -1.0, tau: 5.0 }));
    assert!(SbpSnn::new(bad, 1).err().unwrap().to_string().contains("adaptive_threshold.increment"));
}

/// One relaxation sweep of a 2-2-1 net by hand: the reference's sequential sweep lets the output
/// see the hidden layer's new state; the simultaneous sweep, its old one.
#[test]
fn relaxation_sweeps_by_hand() {
    let sweep = |relaxation: Relaxation| {
        let config = SnnConfig { layers: vec![2, 2, 1], batch_size: 1, relaxation, learning_rates: vec![0.1, 0.1], ..SnnConfig::default() };
        let mut net = SbpSnn::new(config, 1).unwrap();
        net.weights = vec![vec![0.5, -1.0, 2.0, 0.25], vec![1.5, -0.5]];
        net.biases = vec![vec![0.1, -0.2], vec![0.3]];
        let x_drive = net.drive(&[1.0, 0.5], 0, 1);
        let mut states = vec![vec![0.2, -0.4], vec![0.6]];
        net.relax(&x_drive, &mut states, 1, 1, None);
        states
    };
    let (eps, rho) = (0.5f32, |z: f32| 2.0 / (1.0 + (-z).exp()) - 1.0);
    // x·W0 + b1 = (1·0.5 + 0.5·2 + 0.1, 1·−1 + 0.5·0.25 − 0.2) = (1.6, −1.075); from above, s2·W1ᵀ.
    let net1 = [1.6 + 0.6 * 1.5, -1.075 + 0.6 * -0.5];
    let s1 = [rho(0.2 - eps * (0.2 - net1[0])), rho(-0.4 - eps * (-0.4 - net1[1]))];
    let output = |h: [f32; 2]| (0.6 - eps * (0.6 - (h[0] * 1.5 + h[1] * -0.5 + 0.3))).max(0.0);
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-6);
    let sequential = sweep(Relaxation::Sequential);
    let simultaneous = sweep(Relaxation::Simultaneous);
    assert!(close(&sequential[0], &s1) && close(&simultaneous[0], &s1), "{sequential:?} {simultaneous:?} vs {s1:?}");
    assert!(close(&sequential[1], &[output(s1)]), "{:?} vs {}", sequential[1], output(s1));
    assert!(close(&simultaneous[1], &[output([0.2, -0.4])]), "{:?} vs {}", simultaneous[1], output([0.2, -0.4]));
    assert!((sequential[1][0] - simultaneous[1][0]).abs() > 0.05);
}

/// A config that leaves `sbp` out runs the rule alone, although the struct's default (the
/// reference's network) has SBP: the without-SBP twins once got SBP this way.
#[test]
fn a_config_without_sbp_runs_the_rule_alone() {
    let without: SnnConfig = toml::from_str("rule = \"symmetric\"").unwrap();
    assert_eq!(without.sbp, None);
    assert_eq!(SnnConfig { sbp: None, rule: BaseRule::Symmetric, ..SnnConfig::default() }, without);
    let with: SnnConfig = toml::from_str("sbp = { lambda_f = 0.2 }").unwrap();
    assert_eq!(with.sbp, SnnConfig::default().sbp);
}
