//! BPTT kernels against finite differences of a naive f64 reference forward.
//!
//! The forward runs in `FireMode::Smooth` (the surrogate's primitive instead of the step), which
//! makes the surrogate gradient the exact gradient: the analytic backward must then match
//! central differences of the same model computed independently in f64.

use super::*;
use crate::rng::Rng;

/// Spikes and thresholds of every step, frozen from an unperturbed run: a detached reset is the
/// derivative of a model whose reset term uses these constants.
type Frozen = Vec<Vec<(f64, f64)>>;

/// Naive f64 transcription of the LIF family (see lif.rs for the equations), one sample.
/// Returns the spikes and, per step and neuron, (spike, threshold) for freezing.
fn reference_forward(m: &Lif, rate: f64, x: &[Vec<f64>], frozen: Option<&Frozen>) -> (Vec<Vec<f64>>, Frozen) {
    let dec = Decay { rate: rate as f32, ..m.decay };
    let leak = match dec.discretisation {
        Discretisation::Exact => (-rate).exp(),
        Discretisation::Euler => 1.0 - rate,
    };
    let gain = if dec.decay_input { 1.0 - leak } else { 1.0 };
    let n = x[0].len();
    let (mut v, mut a, mut s_prev) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut out, mut record) = (Vec::new(), Vec::new());
    for (t, xt) in x.iter().enumerate() {
        let mut st = vec![0.0; n];
        let mut rt = Vec::new();
        let mut hs = vec![(0.0, 0.0); n];
        for i in 0..n {
            let mut th = m.threshold as f64;
            if let Some(ad) = m.adaptation {
                a[i] = ad.decay as f64 * a[i] + s_prev[i];
                th += ad.strength as f64 * a[i];
            }
            hs[i] = (leak * v[i] + gain * xt[i], th);
        }
        // Lateral inhibition: beyond the k highest potentials at or above threshold, silent.
        let mut silenced = vec![false; n];
        if let Some(k) = m.winners {
            let mut above: Vec<usize> = (0..n).filter(|&i| hs[i].0 >= hs[i].1).collect();
            above.sort_by(|&p, &q| (hs[q].0 - hs[q].1).total_cmp(&(hs[p].0 - hs[p].1)).then(p.cmp(&q)));
            above.iter().skip(k).for_each(|&i| silenced[i] = true);
        }
        for i in 0..n {
            let (h, th) = hs[i];
            let s = if silenced[i] { 0.0 } else { smooth(m.surrogate, h - th) };
            let (sr, thr) = frozen.map_or((s, th), |f| f[t][i]);
            v[i] = match m.reset {
                Reset::To(vr) => h + (vr as f64 - h) * sr,
                Reset::Subtract => h - thr * sr,
            };
            st[i] = s;
            rt.push((s, th));
        }
        s_prev = st.clone();
        out.push(st);
        record.push(rt);
    }
    (out, record)
}

fn smooth(s: Surrogate, u: f64) -> f64 {
    use std::f64::consts::PI;
    match s {
        Surrogate::Arctan { alpha } => (0.5 * PI * alpha as f64 * u).atan() / PI + 0.5,
        Surrogate::Sigmoid { alpha } => 1.0 / (1.0 + (-(alpha as f64) * u).exp()),
        Surrogate::FastSigmoid { slope } => 0.5 + u / (1.0 + slope as f64 * u.abs()),
        Surrogate::Rectangle { width } => (u / width as f64 + 0.5).clamp(0.0, 1.0),
        Surrogate::Triangle { width } => {
            let z = (u / width as f64).clamp(-1.0, 1.0);
            if z < 0.0 {
                0.5 * (1.0 + z).powi(2)
            } else {
                1.0 - 0.5 * (1.0 - z).powi(2)
            }
        }
    }
}

fn reference_loss(m: &Lif, rate: f64, x: &[Vec<f64>], w: &[Vec<f64>], frozen: Option<&Frozen>) -> f64 {
    let (out, _) = reference_forward(m, rate, x, frozen);
    out.iter().zip(w).map(|(o, w)| o.iter().zip(w).map(|(a, b)| a * b).sum::<f64>()).sum()
}

/// Checks dL/dx (and dL/dw of PLIF) for L = Σ w·s over a [T, 1, n] input.
fn check(m: &Lif, surrogate: Surrogate, seed: u64) {
    let m = Lif { surrogate, ..m.clone() };
    let (steps, n) = (6, 5);
    let mut rng = Rng::new(seed);
    let x: Vec<Vec<f64>> = (0..steps).map(|_| (0..n).map(|_| 0.8 * rng.normal() as f64 + 0.6).collect()).collect();
    let w: Vec<Vec<f64>> = (0..steps).map(|_| (0..n).map(|_| rng.normal() as f64).collect()).collect();
    let flat = |v: &[Vec<f64>]| v.iter().flatten().map(|&a| a as f32).collect::<Vec<f32>>();
    let input = Tensor::from_vec(&[steps, 1, n], flat(&x)).unwrap();
    let grad_out = Tensor::from_vec(&[steps, 1, n], flat(&w)).unwrap();

    let (out, tape) = m.forward(input, FireMode::Smooth, true);
    let (reference, record) = reference_forward(&m, m.decay.rate as f64, &x, None);
    let frozen = m.detach_reset.then_some(&record);
    for (a, b) in out.into_dense().data().iter().zip(reference.iter().flatten()) {
        assert!((*a as f64 - b).abs() < 1e-4, "{}: forward {a} vs reference {b}", m.kind());
    }
    let (dx, dparams) = m.backward(&tape.unwrap(), grad_out, FireMode::Smooth);

    let eps = 1e-5;
    let rate = m.decay.rate as f64;
    for t in 0..steps {
        for i in 0..n {
            let mut xp = x.clone();
            xp[t][i] += eps;
            let mut xm = x.clone();
            xm[t][i] -= eps;
            let fd = (reference_loss(&m, rate, &xp, &w, frozen) - reference_loss(&m, rate, &xm, &w, frozen)) / (2.0 * eps);
            let got = dx.data()[t * n + i] as f64;
            assert!(
                (fd - got).abs() < 2e-3 * (1.0 + fd.abs()),
                "{} {:?} reset {:?} detach {} {}: dx[{t},{i}] = {got}, finite difference {fd}",
                m.kind(),
                m.decay.discretisation,
                m.reset,
                m.detach_reset,
                surrogate.name()
            );
        }
    }
    if m.learn_tau {
        // w = logit(rate): perturb w, map back to the rate.
        let w0 = (rate / (1.0 - rate)).ln();
        let loss_at = |wv: f64| reference_loss(&m, 1.0 / (1.0 + (-wv).exp()), &x, &w, frozen);
        let fd = (loss_at(w0 + eps) - loss_at(w0 - eps)) / (2.0 * eps);
        let got = dparams[0] as f64;
        assert!((fd - got).abs() < 2e-3 * (1.0 + fd.abs()), "plif dL/dw = {got}, finite difference {fd}");
    }
}

fn variants() -> Vec<Lif> {
    let mut out = Vec::new();
    for discretisation in [Discretisation::Exact, Discretisation::Euler] {
        for decay_input in [false, true] {
            for reset in [Reset::To(0.0), Reset::To(-0.2), Reset::Subtract] {
                for detach_reset in [false, true] {
                    let mut m = Lif::new(3.0);
                    m.decay = Decay { rate: 1.0 / 3.0, discretisation, decay_input };
                    m.reset = reset;
                    m.detach_reset = detach_reset;
                    out.push(m);
                }
            }
        }
    }
    out
}

#[test]
fn lif_every_discretisation_reset_and_detach_option() {
    for (k, m) in variants().iter().enumerate() {
        check(m, Surrogate::Sigmoid { alpha: 4.0 }, k as u64);
    }
}

#[test]
fn lateral_inhibition_limits_spikes_and_gradients_to_the_winners() {
    for (k, reset) in [(1, Reset::To(0.0)), (2, Reset::Subtract), (3, Reset::To(0.0))] {
        let m = Lif { winners: Some(k), reset, ..Lif::new(3.0) };
        check(&m, Surrogate::Sigmoid { alpha: 4.0 }, 50 + k as u64);
        // Real spikes: never more than k per sample and step, the highest potentials win.
        let mut rng = Rng::new(7);
        let (steps, batch, n) = (8, 3, 40);
        let x = Tensor::from_vec(&[steps, batch, n], (0..steps * batch * n).map(|_| 2.0 * rng.uniform()).collect()).unwrap();
        let free = Lif { winners: None, ..m.clone() };
        let (spikes, tape) = m.forward(x.clone(), FireMode::Heaviside, true);
        let spikes = spikes.into_dense();
        for row in spikes.data().chunks(n) {
            assert!(row.iter().filter(|&&s| s > 0.0).count() <= k);
        }
        // At the first step the potentials are the free model's: the winners are its top k.
        let (_, free_tape) = free.forward(x, FireMode::Heaviside, true);
        let (TapeState::F32(u), TapeState::F32(u_free)) = (&tape.unwrap().state, &free_tape.unwrap().state) else { unreachable!() };
        for b in 0..batch {
            let (u0, s0) = (&u_free[b * n..(b + 1) * n], &spikes.data()[b * n..(b + 1) * n]);
            assert_eq!(&u[b * n..(b + 1) * n], u0);
            let mut above: Vec<usize> = (0..n).filter(|&i| u0[i] >= 0.0).collect();
            above.sort_by(|&p, &q| u0[q].total_cmp(&u0[p]));
            let winners: Vec<usize> = (0..n).filter(|&i| s0[i] > 0.0).collect();
            let mut expected: Vec<usize> = above.into_iter().take(k).collect();
            expected.sort();
            assert_eq!(winners, expected);
        }
    }
}

#[test]
fn integrate_and_fire() {
    for reset in [Reset::To(0.0), Reset::Subtract] {
        let m = Lif { reset, ..Lif::integrate_and_fire() };
        assert_eq!(m.kind(), "if");
        check(&m, Surrogate::Arctan { alpha: 2.0 }, 11);
    }
}

#[test]
fn adaptive_threshold() {
    for reset in [Reset::To(0.0), Reset::Subtract] {
        for detach_reset in [false, true] {
            let m = Lif { reset, detach_reset, adaptation: Some(Adaptation { decay: 0.8, strength: 0.5 }), ..Lif::new(4.0) };
            assert_eq!(m.kind(), "alif");
            check(&m, Surrogate::Sigmoid { alpha: 3.0 }, 21);
        }
    }
}

#[test]
fn parametric_time_constant() {
    for discretisation in [Discretisation::Exact, Discretisation::Euler] {
        for decay_input in [false, true] {
            let mut m = Lif { learn_tau: true, ..Lif::new(2.5) };
            m.decay.discretisation = discretisation;
            m.decay.decay_input = decay_input;
            assert_eq!(m.kind(), "plif");
            check(&m, Surrogate::Arctan { alpha: 2.0 }, 31);
        }
    }
}

#[test]
fn every_surrogate_through_the_kernel() {
    let m = Lif { reset: Reset::Subtract, ..Lif::new(2.0) };
    for (k, s) in [Surrogate::Arctan { alpha: 2.0 }, Surrogate::Sigmoid { alpha: 4.0 }, Surrogate::FastSigmoid { slope: 5.0 }, Surrogate::Rectangle { width: 1.5 }, Surrogate::Triangle { width: 1.5 }]
        .into_iter()
        .enumerate()
    {
        check(&m, s, 40 + k as u64);
    }
}

#[test]
fn heaviside_forward_emits_spikes_matching_smooth_limit() {
    // With a very steep sigmoid the smooth forward is the step; the spike output must agree.
    let m = Lif { surrogate: Surrogate::Sigmoid { alpha: 1e4 }, ..Lif::new(2.0) };
    let mut rng = Rng::new(9);
    let data: Vec<f32> = (0..8 * 3 * 7).map(|_| rng.uniform() * 3.0).collect();
    let x = Tensor::from_vec(&[8, 3, 7], data).unwrap();
    let (spikes, _) = m.forward(x.clone(), FireMode::Heaviside, false);
    let (smooth, _) = m.forward(x, FireMode::Smooth, false);
    let Activation::Spikes(sp) = &spikes else { panic!("expected spikes") };
    assert!(sp.count_ones() > 0);
    for (a, b) in sp.to_dense().data().iter().zip(smooth.into_dense().data()) {
        assert!((a - b).abs() < 1e-3);
    }
}

#[test]
fn leaky_integrator_gradient() {
    for decay_input in [false, true] {
        let m = LeakyIntegrator { decay: Decay { rate: 0.3, discretisation: Discretisation::Exact, decay_input } };
        let mut rng = Rng::new(2);
        let (steps, batch, n) = (5, 2, 3);
        let x: Vec<f32> = (0..steps * batch * n).map(|_| rng.normal()).collect();
        let w: Vec<f32> = (0..steps * batch * n).map(|_| rng.normal()).collect();
        let shape = [steps, batch, n];
        let loss = |x: &[f32]| -> f64 {
            let (out, _) = m.forward(Tensor::from_vec(&shape, x.to_vec()).unwrap(), FireMode::Heaviside, false);
            out.into_dense().data().iter().zip(&w).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
        };
        let (_, tape) = m.forward(Tensor::from_vec(&shape, x.clone()).unwrap(), FireMode::Heaviside, true);
        let (dx, _) = m.backward(&tape.unwrap(), Tensor::from_vec(&shape, w.clone()).unwrap(), FireMode::Heaviside);
        // LI is linear, so an f32 forward differentiates exactly up to rounding.
        for k in 0..x.len() {
            let mut xp = x.clone();
            xp[k] += 1e-2;
            let mut xm = x.clone();
            xm[k] -= 1e-2;
            let fd = (loss(&xp) - loss(&xm)) / 2e-2;
            assert!((fd - dx.data()[k] as f64).abs() < 1e-3, "li dx[{k}] {} vs {fd}", dx.data()[k]);
        }
    }
}

/// The bf16 tape gives the f32 tape's gradient to within bf16's rounding, for the Heaviside
/// forward training uses (PLIF, so the previous-step read-back is exercised too), and saves two
/// bytes per neuron-step.
#[test]
fn bf16_tape_matches_f32_tape_within_its_rounding() {
    let mut rng = Rng::new(31);
    let (steps, batch, n) = (6, 3, 37);
    let x: Vec<f32> = (0..steps * batch * n).map(|_| 1.5 * rng.normal()).collect();
    let g: Vec<f32> = (0..steps * batch * n).map(|_| rng.normal()).collect();
    let run = |tape: TapePrecision| {
        let m = Lif { tape, learn_tau: true, reset: Reset::Subtract, ..Lif::new(3.0) };
        let input = Tensor::from_vec(&[steps, batch, n], x.clone()).unwrap();
        let (out, kept) = m.forward(input, FireMode::Heaviside, true);
        let kept = kept.unwrap();
        let (dx, dp) = m.backward(&kept, Tensor::from_vec(&[steps, batch, n], g.clone()).unwrap(), FireMode::Heaviside);
        (out.into_dense(), dx, dp[0], kept.bytes())
    };
    let (out32, dx32, dp32, bytes32) = run(TapePrecision::F32);
    let (out16, dx16, dp16, bytes16) = run(TapePrecision::Bf16);
    assert_eq!(out32.data(), out16.data(), "the tape does not change the forward pass");
    assert_eq!(bytes32 - bytes16, 2 * steps * batch * n, "2 bytes saved per neuron-step");
    let scale = dx32.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (a, b) in dx32.data().iter().zip(dx16.data()) {
        assert!((a - b).abs() <= 0.02 * scale, "{a} vs {b}");
    }
    assert!((dp32 - dp16).abs() <= 0.02 * dp32.abs().max(1e-3), "{dp32} vs {dp16}");
    assert_ne!(dx32.data(), dx16.data(), "the bf16 tape is really used");
}

#[test]
fn bf16_rounds_to_nearest_even() {
    for x in [0.0f32, 1.0, -2.5, 1.0 + 1.0 / 256.0, std::f32::consts::PI, 1e-30, 6.5e4] {
        let back = from_bf16(to_bf16(x));
        assert!((back - x).abs() <= x.abs() / 256.0, "{x} -> {back}");
    }
    // 1 + 2⁻⁸ is halfway between two bf16 values; ties go to the even one (1.0).
    assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0)), 1.0);
    assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
}
