//! HH and tv-LIF2HH against high-accuracy references and against each other.

use super::*;

use crate::sim::{simulate, spike_time_difference as spike_time_error, NeuronSpec, Stimulus, Trace};

fn hh(convention: VoltageConvention, integrator: Integrator, input: &Stimulus, dt: f64, duration: f64) -> Trace {
    simulate(&NeuronSpec::Hh { convention, integrator }, input, dt, duration).unwrap()
}

fn tv(integrator: Integrator, input: &Stimulus, dt: f64, duration: f64) -> Trace {
    simulate(&NeuronSpec::TvLif2hh { convention: VoltageConvention::RestAtMinus65, integrator }, input, dt, duration).unwrap()
}

/// Inputs of the reference protocol (µA/cm², t in ms): constant, a step, and the sine wave.
fn inputs() -> Vec<(&'static str, Stimulus)> {
    vec![
        ("constant 10", Stimulus::Constant { value: 10.0 }),
        ("step 0 → 15 at 10 ms", Stimulus::Step { before: 0.0, after: 15.0, at: 10.0 }),
        ("sine 11.5 − 19 sin(1.2t)", Stimulus::Sine { offset: 11.5, amplitude: 19.0, omega: 1.2 }),
    ]
}

#[test]
fn rate_singularities_are_removable() {
    // α_m and α_n are 0/0 at one voltage each; the guarded form is continuous there.
    for k in [10.0, 18.0] {
        assert_eq!(ratio_over_expm1(0.0, k), k);
        for x in [1e-12, -1e-9, 1e-6, -3e-4, 2e-3] {
            let series = ratio_over_expm1(x, k);
            let quotient = x / -(-x / k).exp_m1();
            assert!((series - quotient).abs() <= 1e-9 * k, "x = {x}: {series} vs {quotient}");
        }
    }
    let p = HhParams::standard(VoltageConvention::RestAtMinus65);
    for v in [-55.0, -40.0] {
        let [at, below, above] = [v, v - 1e-7, v + 1e-7].map(|x| p.rates(x));
        for r in 0..6 {
            assert!(at[r].is_finite() && (at[r] - below[r]).abs() < 1e-6 && (at[r] - above[r]).abs() < 1e-6, "rate {r} at {v} mV");
        }
    }
}

#[test]
fn the_two_voltage_conventions_are_the_same_dynamics_shifted_by_65_mv() {
    let mut zero = HhPopulation::new(HhParams::standard(VoltageConvention::RestAtZero), Integrator::Rk4, 1).unwrap();
    let mut minus = HhPopulation::new(HhParams::standard(VoltageConvention::RestAtMinus65), Integrator::Rk4, 1).unwrap();
    // Same gates, voltages 65 mV apart.
    (zero.v[0], zero.m[0], zero.n[0], zero.h[0]) = (minus.v[0] + 65.0, minus.m[0], minus.n[0], minus.h[0]);
    let mut flags = ([false], [false]);
    let (mut spikes_zero, mut spikes_minus) = (0, 0);
    for k in 0..20_000 {
        let i = if k < 5_000 { 0.0 } else { 12.0 };
        zero.step(&[i], 0.005, &mut flags.0);
        minus.step(&[i], 0.005, &mut flags.1);
        assert!((zero.v[0] - 65.0 - minus.v[0]).abs() < 1e-6, "step {k}: {} vs {}", zero.v[0] - 65.0, minus.v[0]);
        spikes_zero += flags.0[0] as usize;
        spikes_minus += flags.1[0] as usize;
    }
    assert!(spikes_minus > 3, "the neuron fires under 12 µA/cm² ({spikes_minus} spikes)");
    // The detectors differ (70 mV above rest vs 25 mV above rest) but see the same spikes.
    assert_eq!(spikes_zero, spikes_minus);
}

#[test]
fn the_resting_state_is_a_fixed_point() {
    for convention in [VoltageConvention::RestAtZero, VoltageConvention::RestAtMinus65] {
        let p = HhParams::standard(convention);
        let rest = p.resting_state();
        assert!((rest[0] - p.convention.offset()).abs() < 0.1, "{convention:?}: rest at {} mV", rest[0]);
        let mut pop = HhPopulation::new(p, Integrator::Rk4, 1).unwrap();
        (pop.v[0], pop.m[0], pop.n[0], pop.h[0]) = (rest[0], rest[1], rest[2], rest[3]);
        let mut flag = [false];
        for _ in 0..10_000 {
            pop.step(&[0.0], 0.01, &mut flag);
            assert!(!flag[0]);
        }
        assert!((pop.v[0] - rest[0]).abs() < 1e-6, "{convention:?}: drifted to {} mV", pop.v[0]);
    }
    // The reference code's initial state is not rest: from −70 mV the neuron rebounds.
    let r = hh(VoltageConvention::RestAtMinus65, Integrator::Rk4, &Stimulus::Constant { value: 0.0 }, 0.01, 50.0);
    assert_eq!(r.spikes.len(), 1, "one rebound spike from the code's initial state");
}

/// Spike times against RK4 at dt = 1 µs for each integrator and step, on every input; the
/// table prints with `cargo test --release -p spikelab integrator_accuracy -- --nocapture`.
/// Every method must find the reference's spikes; the default (RK4, dt = 0.01 ms) within
/// 0.1 ms, as must Euler at 0.01 ms and exponential Euler at 2.5 µs (first order, with a
/// large constant: the gates lag the upstroke).
#[test]
fn integrator_accuracy() {
    for (name, input) in inputs() {
        let reference = hh(VoltageConvention::RestAtMinus65, Integrator::Rk4, &input, 0.001, 60.0);
        assert!(reference.spikes.len() >= 2, "{name}: {} spikes", reference.spikes.len());
        for integrator in [Integrator::Euler, Integrator::ExponentialEuler, Integrator::Rk4] {
            for dt in [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05] {
                let r = hh(VoltageConvention::RestAtMinus65, integrator, &input, dt, 60.0);
                let err = spike_time_error(&r.spikes, &reference.spikes);
                println!("{name:>26} | {integrator:>16?} | dt {dt:<6} | spikes {}/{} | max error {:.5} ms", r.spikes.len(), reference.spikes.len(), err.unwrap_or(f64::NAN));
                let err = err.unwrap_or_else(|| panic!("{name}, {integrator:?} dt {dt}: {:?} vs {:?}", r.spikes, reference.spikes));
                let required = match integrator {
                    Integrator::Rk4 | Integrator::Euler => dt <= 0.01,
                    Integrator::ExponentialEuler => dt <= 0.0025,
                };
                assert!(!required || err <= 0.1, "{name}, {integrator:?} dt {dt}: {err} ms");
            }
        }
    }
}

/// With forward Euler, the tv-LIF2HH update of V is HH's Euler update term by term: the two
/// voltages agree to rounding over a whole run.
#[test]
fn tv_lif2hh_with_euler_is_hh_with_euler() {
    for (name, input) in inputs() {
        let a = hh(VoltageConvention::RestAtMinus65, Integrator::Euler, &input, 0.001, 40.0);
        let b = tv(Integrator::Euler, &input, 0.001, 40.0);
        let max_dv = a.v.iter().zip(&b.v).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(max_dv < 1e-6, "{name}: max |ΔV| = {max_dv} mV");
        assert_eq!(a.spikes.len(), b.spikes.len(), "{name}");
    }
}

/// tv-LIF2HH stepped on its own (gates from its own V) with RK4 against HH with RK4: the same
/// voltage to far below a millivolt at dt = 1 µs and 10 µs, the same spikes.
#[test]
fn tv_lif2hh_matches_hh() {
    for (name, input) in inputs() {
        for dt in [0.001, 0.01] {
            let a = hh(VoltageConvention::RestAtMinus65, Integrator::Rk4, &input, dt, 40.0);
            let b = tv(Integrator::Rk4, &input, dt, 40.0);
            let max_dv = a.v.iter().zip(&b.v).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(max_dv < 1e-3, "{name}, dt {dt}: max |ΔV| = {max_dv} mV");
            let err = spike_time_error(&a.spikes, &b.spikes);
            assert!(err.is_some_and(|e| e < 1e-4), "{name}, dt {dt}: {:?} vs {:?}", a.spikes, b.spikes);
        }
    }
}

#[test]
fn bad_parameters_are_named() {
    let mut p = HhParams::standard(VoltageConvention::RestAtZero);
    p.g_k = -1.0;
    assert!(HhPopulation::new(p, Integrator::Rk4, 1).unwrap_err().to_string().contains("g_k"));
    let mut p = HhParams::standard(VoltageConvention::RestAtZero);
    p.c = 2.0;
    assert!(TvLif2HhPopulation::new(p, Integrator::Euler, 1).unwrap_err().to_string().contains('c'));
    let p = HhParams::standard(VoltageConvention::RestAtZero);
    assert!(TvLif2HhPopulation::new(p, Integrator::ExponentialEuler, 1).unwrap_err().to_string().contains("integrator"));
}
