//! S-MLP: BPTT against finite differences (smooth spikes), the SBP signal's contracts, learning.

use super::*;

fn tiny(bp_every: usize) -> Smlp {
    let config = SmlpConfig { layers: vec![6, 5, 3], time_steps: 4, batch_size: 2, bp_every, ..SmlpConfig::default() };
    Smlp::new(config, 4).unwrap()
}

fn spikes(t_steps: usize, rows: usize, width: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..t_steps).map(|_| (0..rows * width).map(|_| (rng.uniform() < 0.5) as u8 as f32).collect()).collect()
}

/// Every parameter's BP gradient against central differences of `loss`; returns how many
/// non-zero gradients were checked.
fn check_gradients(net: &mut Smlp, input: &[Vec<f32>], target: &[f32], loss: impl Fn(&Smlp) -> f64) -> usize {
    net.bp_gradients(input, target, None);
    let mut checked = 0;
    for p in 0..net.params.len() {
        for k in 0..net.params[p].value.len() {
            let analytic = net.params[p].grad.data()[k] as f64;
            let w = net.params[p].value.data()[k];
            let h = 1e-3f32;
            net.params[p].value.data_mut()[k] = w + h;
            let plus = loss(net);
            net.params[p].value.data_mut()[k] = w - h;
            let minus = loss(net);
            net.params[p].value.data_mut()[k] = w;
            let numeric = (plus - minus) / (2.0 * h as f64);
            assert!((analytic - numeric).abs() < 1e-3 + 2e-2 * numeric.abs(), "param {p}[{k}]: {analytic} vs {numeric}");
            checked += (numeric.abs() > 1e-5) as usize;
        }
    }
    checked
}

/// Smooth spikes and weights large enough that membranes reach the surrogate's window.
fn smooth(mut net: Smlp) -> Smlp {
    net.spike = Spike::Smooth;
    net.params.iter_mut().for_each(|p| p.value.data_mut().iter_mut().for_each(|w| *w *= 3.0));
    net
}

#[test]
fn bptt_matches_finite_differences() {
    let mut net = smooth(tiny(1));
    let (input, target) = (spikes(4, 2, 6, 5), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let checked = check_gradients(&mut net, &input, &target, |net| net.loss(&input, &target));
    assert!(checked > 20, "only {checked} non-zero gradients checked");
}

/// The energy constraint's gradient (weights detached: held at their values before the
/// perturbation) against finite differences, and its value against the reference's B × B means.
#[test]
fn energy_constraint_matches_finite_differences_and_its_definition() {
    let mut net = tiny(1);
    net.config.energy_weight = 5.0;
    let mut net = smooth(net);
    let (input, target) = (spikes(4, 2, 6, 5), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let frozen: Vec<Vec<f32>> = (0..2).map(|m| net.params[2 * m].value.data().to_vec()).collect();
    let frozen_refs: Vec<&[f32]> = frozen.iter().map(Vec::as_slice).collect();
    let energy = net.loss(&input, &target) - net.loss_with_energy_weights(&input, &target, &[&[0.0; 30], &[0.0; 15]]);
    assert!(energy.abs() > 1e-4, "the constraint should matter here: {energy}");
    let checked = check_gradients(&mut net, &input, &target, |net| net.loss_with_energy_weights(&input, &target, &frozen_refs));
    assert!(checked > 20, "only {checked} non-zero gradients checked");
    // S by its definition: means over all (a, b) of o_a·Wᵀ·h_b / (in·out) and o_a·o_b / out².
    let (rows, n_in, n) = (3, 4, 2);
    let mut rng = Rng::new(9);
    let mut draw = |len: usize| (0..len).map(|_| rng.uniform() - 0.3).collect::<Vec<f32>>();
    let (h, o, w) = (draw(rows * n_in), draw(rows * n), draw(n_in * n));
    let mut s = 0.0f32;
    for a in 0..rows {
        for b in 0..rows {
            let cross: f32 = (0..n).map(|j| (0..n_in).map(|i| o[a * n + j] * w[i * n + j] * h[b * n_in + i]).sum::<f32>()).sum();
            let own: f32 = (0..n).map(|j| o[a * n + j] * o[b * n + j]).sum();
            s += cross / (n_in * n) as f32 + own / (n * n) as f32;
        }
    }
    s /= (rows * rows) as f32;
    let config = SmlpConfig { layers: vec![n_in, n], energy_weight: 1.0, ..SmlpConfig::default() };
    let one_layer = Smlp::new(config, 1).unwrap();
    let tape = LayerTape { inputs: vec![h], events: vec![None], sigmoid: Vec::new(), v: Vec::new(), o: vec![o] };
    let (value, _) = one_layer.energy(&[tape], &[&w], rows);
    assert!((value - s.abs() as f64).abs() < 1e-6, "{value} vs {}", s.abs());
    let negative = SmlpConfig { energy_weight: -0.1, ..SmlpConfig::default() };
    assert!(Smlp::new(negative, 1).err().unwrap().to_string().contains("energy_weight"));
}

/// SBP replaces the hidden gradient: zero bias gradient, and no signal at all when the output
/// is already right (σ and e vanish with the output error).
#[test]
fn sbp_signal_follows_the_output_error() {
    let mut net = tiny(0);
    let input = spikes(4, 2, 6, 6);
    let rows = 2;
    let (tapes, rate) = net.forward(&input, rows);
    net.backward(&tapes, &vec![0.0; rate.len()], None, rows, None);
    net.replace_with_sbp_signal(&tapes, &vec![0.0; rate.len()], rows, 0);
    assert!(net.params[0].grad.data().iter().all(|&g| g == 0.0));
    let target = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let d_rate: Vec<f32> = rate.iter().zip(&target).map(|(r, y)| 2.0 * (r - y) / 6.0).collect();
    net.backward(&tapes, &d_rate, None, rows, None);
    let error: Vec<f32> = target.iter().zip(&rate).map(|(y, r)| y - r).collect();
    net.replace_with_sbp_signal(&tapes, &error, rows, 0);
    assert!(net.params[1].grad.data().iter().all(|&g| g == 0.0), "hidden bias gradient is zeroed");
    assert!(net.params[0].grad.data().iter().any(|&g| g != 0.0));
}

/// The event kernels (binary sparse layer inputs) give the GEMM path's iterations — BP and SBP
/// ones — up to float rounding, on sizes that cross the kernels' tiles.
#[test]
fn event_kernels_match_the_dense_path() {
    let config = SmlpConfig { layers: vec![130, 70, 3], time_steps: 5, batch_size: 67, bp_every: 2, ..SmlpConfig::default() };
    let (mut events, mut dense) = (Smlp::new(config.clone(), 3).unwrap(), Smlp::new(config, 3).unwrap());
    dense.event_kernels = false;
    let mut rng = Rng::new(11);
    for iteration in 0..4 {
        let input: Vec<Vec<f32>> = (0..5).map(|_| (0..67 * 130).map(|_| (rng.uniform() < 0.15) as u8 as f32).collect()).collect();
        let target: Vec<f32> = (0..67 * 3).map(|k| (k % 3 == iteration % 3) as u8 as f32).collect();
        let (tapes, _) = events.forward(&input, 67);
        assert!(tapes[0].events.iter().all(Option::is_some), "the input layer should take the event path");
        assert!(dense.forward(&input, 67).0[0].events.iter().all(Option::is_none));
        events.train_batch(&input, &target, 0);
        dense.train_batch(&input, &target, 0);
        for (a, b) in events.params.iter().zip(&dense.params) {
            for (x, y) in a.value.data().iter().zip(b.value.data()) {
                assert!((x - y).abs() < 1e-5, "iteration {iteration}, {}: {x} vs {y}", a.name);
            }
        }
    }
}

/// The hidden layer's SBP gradient against the module text's formula, computed by loops.
#[test]
fn sbp_signal_matches_its_definition() {
    let (n_in, n, k, rows, t_steps) = (130, 70, 3, 9, 5);
    let config = SmlpConfig { layers: vec![n_in, n, k], time_steps: t_steps, batch_size: rows, ..SmlpConfig::default() };
    let mut net = Smlp::new(config, 5).unwrap();
    let mut rng = Rng::new(12);
    let input: Vec<Vec<f32>> = (0..t_steps).map(|_| (0..rows * n_in).map(|_| (rng.uniform() < 0.2) as u8 as f32).collect()).collect();
    let target: Vec<f32> = (0..rows * k).map(|c| (c % k == 1) as u8 as f32).collect();
    let (tapes, rate) = net.bp_gradients(&input, &target, None);
    let above = net.params[2].grad.data().to_vec();
    let error: Vec<f32> = target.iter().zip(&rate).map(|(y, r)| y - r).collect();
    net.replace_with_sbp_signal(&tapes, &error, rows, 0);
    let (x, o) = (&tapes[0].inputs, &tapes[0].o);
    let b = &net.feedback[0];
    let hebb = |i: usize, j: usize, t: usize| (0..rows).map(|r| x[t - 1][r * n_in + i] * o[t][r * n + j]).sum::<f32>();
    let mut expected = vec![0.0f32; n_in * n];
    for j in 0..n {
        let sigma = 0.01 * (0..k).map(|c| above[j * k + c].abs()).sum::<f32>() / (n * k) as f32;
        for i in 0..n_in {
            let feedback: f32 = (0..rows).map(|r| (0..k).map(|c| b[j * k + c] * error[r * k + c]).sum::<f32>() * x[t_steps - 1][r * n_in + i]).sum();
            let h = hebb(i, j, t_steps - 2) + hebb(i, j, t_steps - 1) - hebb(i, j, 1) - hebb(i, j, 2);
            expected[i * n + j] = sigma * feedback + 0.01 * sigma * h / (rows * rows) as f32;
        }
    }
    // σ makes the entries tiny, so the tolerance is relative to the largest.
    let scale = expected.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    assert!(scale > 0.0 && expected.iter().filter(|&&e| e.abs() > 1e-3 * scale).count() > n_in * n / 4);
    for (at, (got, want)) in net.params[0].grad.data().iter().zip(&expected).enumerate() {
        assert!((got - want).abs() <= 1e-5 * scale, "G[{}, {}]: {got} vs {want}", at / n, at % n);
    }
}

#[test]
fn learns_with_sbp_in_most_iterations_and_costs_as_the_table() {
    assert!((SmlpConfig::default().cost_per_epoch() - 441_650.0).abs() < 1e-6);
    let config = SmlpConfig { layers: vec![8, 16, 2], time_steps: 8, batch_size: 10, bp_every: 5, ..SmlpConfig::default() };
    let mut net = Smlp::new(config, 1).unwrap();
    let mut rng = Rng::new(9);
    let mut accuracy = 0.0;
    for epoch in 0..30 {
        let mut correct = 0;
        for _ in 0..10 {
            let labels: Vec<usize> = (0..10).map(|_| rng.below(2)).collect();
            let input: Vec<Vec<f32>> =
                (0..8).map(|_| labels.iter().flat_map(|&c| (0..8).map(move |j| ((j < 4) == (c == 0)) as u8 as f32 * 0.9)).map(|p| (rng.uniform() < p) as u8 as f32).collect()).collect();
            let target: Vec<f32> = labels.iter().flat_map(|&c| [(c == 0) as u8 as f32, (c == 1) as u8 as f32]).collect();
            let rate = net.train_batch(&input, &target, epoch);
            correct += rate.chunks(2).zip(&labels).filter(|(r, &c)| (r[1] > r[0]) == (c == 1)).count();
        }
        accuracy = correct as f64 / 100.0;
    }
    assert!(accuracy > 0.9, "{accuracy}");
}

fn per_step(layers: Vec<usize>, t_steps: usize, rows: usize, bp_every: usize) -> SmlpConfig {
    SmlpConfig { layers, time_steps: t_steps, batch_size: rows, bp_every, sbp_hook: SbpHook::PerStep, ..SmlpConfig::default() }
}

/// The per-step hook's BP steps, worked by hand for bp_every 3 and T 5: the count runs over
/// output-layer steps, last step first, and carries across iterations; the upper of two
/// hidden layers meets the count first and restarts it, so the lower never takes BP (as in
/// the released code).
#[test]
fn per_step_hook_counts_steps_across_iterations() {
    let mut net = Smlp::new(per_step(vec![6, 5, 5, 3], 5, 2, 3), 4).unwrap();
    let marked = |plan: &StepPlan| plan.bp_steps.iter().map(|layer| (0..5).filter(|&t| layer[t]).collect::<Vec<_>>()).collect::<Vec<_>>();
    assert_eq!(marked(&net.plan_steps(5)), [vec![], vec![2]]);
    assert_eq!(marked(&net.plan_steps(5)), [vec![], vec![1, 4]]);
    assert_eq!(marked(&net.plan_steps(5)), [vec![], vec![0, 3]]);
    let mut never = Smlp::new(per_step(vec![6, 5, 3], 5, 2, 0), 4).unwrap();
    assert_eq!(marked(&never.plan_steps(5)), [Vec::<usize>::new()]);
    assert!(Smlp::new(per_step(vec![6, 5, 4, 3], 5, 2, 3), 4).is_err(), "hidden widths must agree");
}

/// One per-step iteration against its definition: the hidden gradient is the BP contribution
/// of its BP step plus σ ⊙ C, σ_j = 0.01·Σ over the other steps of Σ_k |G_t[j, k]| / (n·K)
/// with G_t the output layer's step-t gradient (by loops over the tape), C the SBP signal at
/// σ = 1; the output weights keep their whole BP gradient; every bias gradient is zero.
#[test]
fn per_step_hook_matches_its_definition() {
    let (n_in, n, k, rows, t_steps) = (7, 6, 3, 4, 5);
    let config = per_step(vec![n_in, n, k], t_steps, rows, 3);
    let input = spikes(t_steps, rows, n_in, 8);
    let target: Vec<f32> = (0..rows * k).map(|c| (c % k == c / k % k) as u8 as f32).collect();
    let mut reference = Smlp::new(config.clone(), 6).unwrap();
    reference.params.iter_mut().for_each(|p| p.value.data_mut().iter_mut().for_each(|w| *w *= 3.0));
    let mut net = Smlp::new(config, 6).unwrap();
    net.params.iter_mut().zip(&reference.params).for_each(|(p, r)| p.value.data_mut().copy_from_slice(r.value.data()));

    let (tapes, rate) = reference.bp_gradients(&input, &target, None);
    let (full_hidden, full_output) = (reference.params[0].grad.data().to_vec(), reference.params[2].grad.data().to_vec());
    // The output layer's per-step gradients by its BPTT recursion, written out in loops.
    let out = &tapes[1];
    let mut step_grads = vec![vec![0.0f32; n * k]; t_steps];
    let mut d_v_next = vec![0.0f32; rows * k];
    for t in (0..t_steps).rev() {
        for r in 0..rows {
            for c in 0..k {
                let at = r * k + c;
                let (v, o, s) = (out.v[t][at], out.o[t][at], out.sigmoid[t][at]);
                let d_o = 2.0 * (rate[at] - target[at]) / (rows * k * t_steps) as f32 - 0.2 * v * d_v_next[at];
                let d_v = d_o * ((v - 0.5).abs() < 0.3) as u8 as f32 + d_v_next[at] * 0.2 * (1.0 - o);
                d_v_next[at] = d_v;
                for j in 0..n {
                    step_grads[t][j * k + c] += out.inputs[t][r * n + j] * d_v * s * (1.0 - s);
                }
            }
        }
    }
    // Each step's hidden BP contribution alone; together they make the full gradient.
    let mut step_hidden = Vec::new();
    for t in 0..t_steps {
        let mut plan = StepPlan { bp_steps: vec![(0..t_steps).map(|s| s == t).collect()], output_abs: vec![Vec::new(); t_steps] };
        reference.bp_gradients(&input, &target, Some(&mut plan));
        for (s, step) in plan.output_abs.iter().zip(&step_grads) {
            for j in 0..n {
                let want: f32 = step[j * k..(j + 1) * k].iter().map(|g| g.abs()).sum();
                assert!((s[j] - want).abs() <= 1e-6 + 1e-4 * want, "output |G_t| row {j}: {} vs {want}", s[j]);
            }
        }
        step_hidden.push(reference.params[0].grad.data().to_vec());
    }
    for (at, want) in full_hidden.iter().enumerate() {
        let sum: f32 = step_hidden.iter().map(|g| g[at]).sum();
        assert!((sum - want).abs() <= 1e-6 + 1e-4 * want.abs(), "hidden {at}: Σ_t {sum} vs {want}");
    }
    let error: Vec<f32> = target.iter().zip(&rate).map(|(y, r)| y - r).collect();
    reference.params[0].grad.data_mut().fill(0.0);
    reference.add_sbp_signal(&tapes, &error, rows, 0, &vec![1.0; n]);
    let signal = reference.params[0].grad.data().to_vec();

    net.train_batch(&input, &target, 0); // the first iteration's BP step is t = 2
    let sigma: Vec<f32> = (0..n).map(|j| 0.01 * [0, 1, 3, 4].iter().map(|&t| step_grads[t][j * k..(j + 1) * k].iter().map(|g| g.abs()).sum::<f32>()).sum::<f32>() / (n * k) as f32).collect();
    assert!(sigma.iter().all(|&s| s > 0.0) && signal.iter().any(|&c| c != 0.0) && step_hidden[2].iter().any(|&g| g != 0.0));
    for (at, got) in net.params[0].grad.data().iter().enumerate() {
        let want = step_hidden[2][at] + sigma[at % n] * signal[at];
        assert!((got - want).abs() <= 1e-7 + 1e-4 * want.abs(), "hidden {at}: {got} vs {want}");
    }
    for (got, want) in net.params[2].grad.data().iter().zip(&full_output) {
        assert!((got - want).abs() <= 1e-7 + 1e-4 * want.abs());
    }
    assert!(net.params[1].grad.data().iter().chain(net.params[3].grad.data()).all(|&g| g == 0.0));
}
