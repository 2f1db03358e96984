use super::*;
use crate::neuron::adaptive::{AdEx, Izhikevich, TwoVariableNeuron, TwoVariablePopulation};
use crate::neuron::hh::{Hh, HhParams, HhPopulation, Integrator, TvLif2Hh, VoltageConvention};
use crate::rng::Rng;

fn hh(integrator: Integrator) -> Hh {
    Hh::new(HhParams::standard(VoltageConvention::RestAtMinus65), integrator).unwrap()
}

/// The output of every network step, in f64, from the layer's own per-neuron loop.
fn outputs<M: OdeNeuron<N>, const N: usize, const K: usize>(m: &OdeModel<M, N, K>, x: &[f64], fire: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut out = Vec::new();
    m.run_neuron(x.iter().copied(), fire, |_, _, o| out.push(o));
    out
}

/// V − θ at the end of every network step (models that do not reset).
fn membrane<M: OdeNeuron<N>, const N: usize, const K: usize>(m: &OdeModel<M, N, K>, x: &[f64]) -> Vec<f64> {
    outputs(m, x, |u| u)
}

/// The trainable layer steps the simulator's neuron: its membrane at the end of each network
/// step is bit-for-bit an `HhPopulation` started at rest and stepped `substeps` times per step.
#[test]
fn the_layer_runs_the_simulators_neuron() {
    for integrator in [Integrator::Euler, Integrator::ExponentialEuler, Integrator::Rk4] {
        let layer: HhModel = OdeModel::new(hh(integrator), 0.02, 25);
        let drive = [0.3, 1.2, 1.2, 0.0, 2.0, 0.7, 1.5, 1.5];
        let u = membrane(&layer, &drive);
        let mut pop = HhPopulation::new(layer.neuron.params, integrator, 1).unwrap();
        [pop.v[0], pop.m[0], pop.n[0], pop.h[0]] = layer.neuron.rest();
        let mut spiked = [false];
        let mut crossings = 0;
        for (t, &x) in drive.iter().enumerate() {
            for _ in 0..layer.substeps {
                pop.step(&[x * layer.current_scale], layer.dt, &mut spiked);
                crossings += spiked[0] as usize;
            }
            assert_eq!(pop.v[0] - layer.threshold, u[t], "{integrator:?} step {t}");
        }
        assert!(crossings >= 1, "{integrator:?}: the drive should make the neuron spike");
    }
}

/// tv-LIF2HH in the layer follows HH in the layer (Euler: the same update of V term by term).
#[test]
fn tv_lif2hh_layer_follows_the_hh_layer() {
    let params = HhParams::standard(VoltageConvention::RestAtMinus65);
    let a: HhModel = OdeModel::new(hh(Integrator::Euler), 0.01, 50);
    let b: TvLif2HhModel = OdeModel::new(TvLif2Hh::new(params, Integrator::Euler).unwrap(), 0.01, 50);
    let drive = [1.0, 1.0, 1.0, 0.2, 0.2, 1.4, 1.4, 1.4, 1.4, 1.4];
    let worst = membrane(&a, &drive).iter().zip(membrane(&b, &drive)).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "max |V_tv − V_hh| = {worst} mV");
}

fn sigmoid(alpha: f64, u: f64) -> f64 {
    1.0 / (1.0 + (-alpha * u).exp())
}

/// dL/dx for L = Σ w·s over a [T, 2, n] input, against central differences of the layer's
/// own f64 forward with the smooth spike.
fn check<M: OdeNeuron<N>, const N: usize, const K: usize>(base: OdeModel<M, N, K>, seed: u64) {
    check_over(base, seed, 7, (0.4, 1.8), 1e-3);
}

/// `tolerance`: relative, on each gradient. The layer's smooth spike is the f32 surrogate, so
/// the analytic gradient follows a trajectory a rounding away from the f64 one the differences
/// take; the explosive upswing of a resetting model amplifies that (its gradients reach 10⁴).
fn check_over<M: OdeNeuron<N>, const N: usize, const K: usize>(base: OdeModel<M, N, K>, seed: u64, steps: usize, (low, high): (f32, f32), tolerance: f64) {
    let alpha = 0.3;
    let m = OdeModel { surrogate: Surrogate::Sigmoid { alpha: alpha as f32 }, ..base };
    let (batch, n) = (2, 3);
    let mut rng = Rng::new(seed);
    let x: Vec<f32> = (0..steps * batch * n).map(|_| low + (high - low) * rng.uniform()).collect();
    let w: Vec<f32> = (0..steps * batch * n).map(|_| rng.normal()).collect();
    let input = Tensor::from_vec(&[steps, batch, n], x.clone()).unwrap();
    let (out, tape) = m.forward(input, FireMode::Smooth, true);
    let (dx, _) = m.backward(&tape.unwrap(), Tensor::from_vec(&[steps, batch, n], w.clone()).unwrap(), FireMode::Smooth);

    let at = |t: usize, b: usize, i: usize| (t * batch + b) * n + i;
    let loss = |b: usize, i: usize, xs: &[f64]| -> f64 { outputs(&m, xs, |u| sigmoid(alpha, u)).iter().enumerate().map(|(t, &s)| w[at(t, b, i)] as f64 * s).sum() };
    let mut largest = 0.0f64;
    for b in 0..batch {
        for i in 0..n {
            let xs: Vec<f64> = (0..steps).map(|t| x[at(t, b, i)] as f64).collect();
            let dense = out.clone().into_dense();
            for (t, &s) in outputs(&m, &xs, |u| sigmoid(alpha, u)).iter().enumerate() {
                let got = dense.data()[at(t, b, i)] as f64;
                // The layer's smooth spike is the f32 surrogate; a reset feeds it back into the
                // state, where the quadratic or exponential upswing amplifies its rounding.
                assert!((got - s).abs() < 1e-3 * (1.0 + s), "forward {:?}: {got} vs {s}", m.neuron);
            }
            for t in 0..steps {
                let eps = 1e-5;
                let (mut up, mut down) = (xs.clone(), xs.clone());
                up[t] += eps;
                down[t] -= eps;
                let fd = (loss(b, i, &up) - loss(b, i, &down)) / (2.0 * eps);
                let got = dx.data()[at(t, b, i)] as f64;
                largest = largest.max(fd.abs());
                assert!((fd - got).abs() < tolerance * (1.0 + fd.abs()), "{} {:?}: dx[{t},{b},{i}] = {got}, finite difference {fd}", m.kind(), m.neuron);
            }
        }
    }
    assert!(largest > 0.05, "{}: the check saw no gradient worth the name ({largest})", m.kind());
}

#[test]
fn hh_backward_matches_finite_differences_for_every_integrator() {
    for (k, integrator) in [Integrator::Euler, Integrator::ExponentialEuler, Integrator::Rk4].into_iter().enumerate() {
        check::<_, 4, 5>(OdeModel::new(hh(integrator), 0.05, 20), 3 + k as u64);
    }
    let rest_at_zero = Hh::new(HhParams::standard(VoltageConvention::RestAtZero), Integrator::Rk4).unwrap();
    check::<_, 4, 5>(OdeModel::new(rest_at_zero, 0.05, 20), 9);
}

#[test]
fn tv_lif2hh_backward_matches_finite_differences() {
    let params = HhParams::standard(VoltageConvention::RestAtMinus65);
    for (k, integrator) in [Integrator::Euler, Integrator::Rk4].into_iter().enumerate() {
        check::<_, 10, 11>(OdeModel::new(TvLif2Hh::new(params, integrator).unwrap(), 0.025, 40), 20 + k as u64);
    }
}

/// Real spikes: H(V − θ) of the same membrane, packed as spikes.
#[test]
fn heaviside_output_is_the_membrane_above_threshold() {
    let m: HhModel = OdeModel::new(hh(Integrator::Rk4), 0.05, 10);
    let (steps, n) = (30, 4);
    let x: Vec<f32> = (0..steps * n).map(|k| [0.0, 0.8, 1.5, 3.0][k % n]).collect();
    let (out, tape) = m.forward(Tensor::from_vec(&[steps, 1, n], x.clone()).unwrap(), FireMode::Heaviside, false);
    assert!(tape.is_none());
    let s = out.into_dense();
    for i in 0..n {
        let u = membrane(&m, &(0..steps).map(|t| x[t * n + i] as f64).collect::<Vec<_>>());
        for (t, &u) in u.iter().enumerate() {
            assert_eq!(s.data()[t * n + i], (u >= 0.0) as u8 as f32);
        }
    }
    let silent: f32 = (0..steps).map(|t| s.data()[t * n]).sum();
    let driven: f32 = (0..steps).map(|t| s.data()[t * n + 3]).sum();
    assert_eq!(silent, 0.0, "no input, no spike");
    assert!(driven >= 2.0, "30 µA/cm² for 15 ms fires repeatedly, got {driven} steps above θ");
}

/// Izhikevich in the layer spikes and resets at the same substeps as the simulator's
/// population, and the step's output is its spike count.
#[test]
fn a_resetting_layer_runs_the_simulators_neuron() {
    let neuron = TwoVariableNeuron::new(Izhikevich::REGULAR_SPIKING, Integrator::Rk4).unwrap();
    let layer: OdeModel<_, 2, 3> = OdeModel::new(neuron, 0.1, 10);
    let drive: Vec<f64> = (0..60).map(|t| if t < 40 { 1.5 } else { 0.2 }).collect();
    let counts = outputs(&layer, &drive, |u| (!(u < 0.0)) as u8 as f64);
    let mut pop = TwoVariablePopulation::new(Izhikevich::REGULAR_SPIKING, Integrator::Rk4, 1).unwrap();
    let mut spiked = [false];
    for (t, &x) in drive.iter().enumerate() {
        let mut fired = 0.0;
        for _ in 0..layer.substeps {
            pop.step(&[x * layer.current_scale], layer.dt, &mut spiked);
            fired += spiked[0] as u8 as f64;
        }
        assert_eq!(fired, counts[t], "step {t}");
    }
    assert!(counts.iter().sum::<f64>() >= 3.0, "{counts:?}");
}

/// The smooth model of a resetting neuron applies a fraction of the reset at every substep;
/// past the first spike that makes it chaotic (two roundings apart, its outputs differ by 10 %
/// two spikes later), and RK4's stages cross the derivative's clamp at the peak, so the check
/// runs over the first spike with Euler. RK4's Jacobian is checked through HH above.
#[test]
fn izhikevich_and_adex_backward_matches_finite_differences() {
    let izhikevich = TwoVariableNeuron::new(Izhikevich::REGULAR_SPIKING, Integrator::Euler).unwrap();
    check_over::<_, 2, 3>(OdeModel::new(izhikevich, 0.1, 10), 30, 4, (1.5, 3.0), 5e-3);
    let adex = TwoVariableNeuron::new(AdEx::BRETTE_GERSTNER, Integrator::Euler).unwrap();
    let layer = OdeModel { current_scale: 400.0, ..OdeModel::new(adex, 0.1, 10) };
    check_over::<_, 2, 3>(layer, 40, 12, (1.0, 3.0), 5e-3);
}
