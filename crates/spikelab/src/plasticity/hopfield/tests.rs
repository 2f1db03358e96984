//! The Hopfield ("RBM") network against its energies, written out here from the reference's
//! formulas for three layers: relaxation steps are gradient steps of E (and of E + βC), the
//! update is −α·∂[(E(sᵝ) − E(s⁰))/β]/∂W, and the network learns.

use super::*;

/// E for layers (x, h, o) per the reference text, summed over the batch.
fn energy(net: &HopfieldNet, s: &[Vec<f32>], rows: usize) -> f64 {
    let l = &net.config.layers;
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>();
    let bilinear = |m: usize, r: usize| {
        let (pre, post) = (&s[m][r * l[m]..(r + 1) * l[m]], &s[m + 1][r * l[m + 1]..(r + 1) * l[m + 1]]);
        (0..l[m]).map(|i| (0..l[m + 1]).map(|j| pre[i] as f64 * net.weights[m][i * l[m + 1] + j] as f64 * post[j] as f64).sum::<f64>()).sum::<f64>()
    };
    (0..rows)
        .map(|r| {
            let row = |k: usize| &s[k][r * l[k]..(r + 1) * l[k]];
            let b = |k: usize| dot(row(k), &net.biases[k]);
            match net.config.energy {
                Energy::Hopfield => (0..3).map(|k| 0.5 * dot(row(k), row(k)) - b(k)).sum::<f64>() - bilinear(0, r) - bilinear(1, r),
                Energy::Sbp { theta } => {
                    let t = theta as f64;
                    bilinear(0, r) + dot(row(0), row(0)) + t * (bilinear(1, r) + dot(row(1), row(1))) + b(0) + b(1) + b(1) + b(2)
                }
            }
        })
        .sum()
}

fn random_net(energy: Energy) -> HopfieldNet {
    let config = HopfieldConfig { layers: vec![5, 4, 3], energy, epsilon: 1e-3, learning_rates: vec![0.1, 0.05], ..HopfieldConfig::default() };
    let mut net = HopfieldNet::new(config, 1).unwrap();
    let mut rng = Rng::new(2);
    net.biases.iter_mut().flatten().for_each(|b| *b = rng.uniform() - 0.5);
    net
}

fn interior_states(rows: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(3);
    [5, 4, 3].iter().map(|&n| (0..rows * n).map(|_| 0.2 + 0.6 * rng.uniform()).collect()).collect()
}

/// With a small ε and states inside (0, 1), one relaxation step moves each state by −ε·∂E/∂s;
/// ∂E/∂s is checked against central differences of the energy written out above.
#[test]
fn relaxation_descends_the_written_out_energies() {
    for energy_kind in [Energy::Hopfield, Energy::Sbp { theta: 0.5 }] {
        let mut net = random_net(energy_kind);
        let rows = 2;
        let s0 = interior_states(rows);
        let mut s1 = s0.clone();
        net.relax(&mut s1, rows, 1, None);
        for l in 1..3 {
            for k in 0..s0[l].len() {
                let h = 1e-3f32;
                let mut plus = s0.clone();
                plus[l][k] += h;
                let mut minus = s0.clone();
                minus[l][k] -= h;
                let numeric = (energy(&net, &plus, rows) - energy(&net, &minus, rows)) / (2.0 * h as f64);
                let analytic = ((s0[l][k] - s1[l][k]) / net.config.epsilon) as f64;
                assert!((numeric - analytic).abs() < 2e-3 * (1.0 + numeric.abs()), "{energy_kind:?} layer {l}[{k}]: {analytic} vs {numeric}");
            }
        }
        assert!(energy(&net, &s1, rows) < energy(&net, &s0, rows), "{energy_kind:?}: a step lowers E");
    }
}

/// The weight update equals −α·∂[(E(sᵝ) − E(s⁰))/β]/∂W / B, by central differences in W.
#[test]
fn update_is_the_energy_difference_gradient() {
    for energy_kind in [Energy::Hopfield, Energy::Sbp { theta: 0.5 }] {
        let net = random_net(energy_kind);
        let rows = 2;
        let (free, nudged) = (interior_states(rows), interior_states(rows).into_iter().map(|v| v.into_iter().map(|x| x * 0.9 + 0.05).collect()).collect::<Vec<Vec<f32>>>());
        let beta = 0.2f32;
        let (_, _, c_w) = net.config.coefficients();
        for m in 0..2 {
            let delta = BaseRule::Symmetric.delta(Phases { free: &free[m], nudged: &nudged[m] }, Phases { free: &free[m + 1], nudged: &nudged[m + 1] }, rows, beta);
            for k in [0, 3, 7] {
                let objective = |w: f32| {
                    let mut n = random_net(energy_kind);
                    n.weights[m][k] = w;
                    (energy(&n, &nudged, rows) - energy(&n, &free, rows)) / (beta as f64 * rows as f64)
                };
                let w = net.weights[m][k];
                let numeric = (objective(w + 1e-2) - objective(w - 1e-2)) / 2e-2;
                let update = -c_w[m] * delta[k];
                assert!((update as f64 + numeric).abs() < 1e-3, "{energy_kind:?} W{m}[{k}]: update {update} vs −gradient {}", -numeric);
            }
        }
    }
}

#[test]
fn learns_a_separable_task() {
    let mut rng = Rng::new(7);
    let (n, d) = (300, 8);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let label = rng.below(2);
        (0..d).for_each(|j| x.push(if (j < d / 2) == (label == 0) { 0.8 } else { 0.1 } + 0.2 * rng.uniform()));
        y.extend([(label == 0) as u8 as f32, (label == 1) as u8 as f32]);
    }
    let config = HopfieldConfig { layers: vec![d, 10, 2], energy: Energy::Hopfield, batch_size: 10, epsilon: 0.5, beta: 0.5, ..HopfieldConfig::default() };
    let mut net = HopfieldNet::new(config.clone(), 1).unwrap();
    let mut particles = Particles::new(&config, n);
    let mut correct = 0;
    for epoch in 0..10 {
        correct = 0;
        for start in (0..n).step_by(10) {
            let idx: Vec<usize> = (start..start + 10).collect();
            let mut p = particles.gather(&idx);
            let out = net.train_batch(&x[start * d..(start + 10) * d], &y[start * 2..(start + 10) * 2], &mut p);
            particles.scatter(&idx, &p);
            if epoch == 9 {
                correct += out.chunks(2).zip(y[start * 2..].chunks(2)).filter(|(o, t)| (o[1] > o[0]) == (t[1] > t[0])).count();
            }
        }
    }
    assert!(correct as f64 / n as f64 > 0.95, "{correct}/{n}");
}
