//! The LIF population's own kernels: exact integration with current synapses, exponential
//! Euler with conductance synapses, refractoriness, and the threshold test, vectorised.

use super::{synaptic_time_constants, Dynamics, Population, SynapseModel};

/// Integrates one LIF population over a step, detects and resets spikes.
pub(super) fn integrate_and_fire(p: &mut Population, [tau_m, v_rest, v_threshold, v_reset, refractory]: [f64; 5], dt: f64, drive: f64, fired: &mut Vec<u32>) {
    let Dynamics::Lif { v, refractory_left } = &mut p.dynamics else { unreachable!("a LIF population") };
    let leak = (-dt / tau_m).exp();
    let (tau_e, tau_i) = synaptic_time_constants(p.spec.synapse);
    let (de, di) = ((-dt / tau_e).exp(), (-dt / tau_i).exp());
    let bias = p.spec.bias.as_deref().unwrap_or(&[]);
    match p.spec.synapse {
        SynapseModel::Current { .. } => {
            // Exact solution of the linear system over dt with ge, gi decaying exponentially.
            let (be, bi) = (tau_e / (tau_e - tau_m) * (de - leak), tau_i / (tau_i - tau_m) * (di - leak));
            // A drive held over the step shifts the resting point: E_L + drive.
            integrate_current(v, &mut p.ge, &mut p.gi, refractory_left, bias, [v_rest + drive, leak, be, bi, de, di]);
        }
        SynapseModel::Conductance { e_e, e_i, .. } => {
            integrate_conductance(v, &mut p.ge, &mut p.gi, refractory_left, bias, [v_rest + drive, dt / tau_m, e_e, e_i, de, di]);
        }
    }
    let refractory_steps = (refractory / dt).round() as u32;
    // Spikes are rare: test 8 neurons at a time (vectorised) and look closer only where one
    // crossed.
    const LANES: usize = 8;
    for (c, chunk) in v.chunks_mut(LANES).enumerate() {
        if !chunk.iter().fold(false, |any, &v| any | (v > v_threshold)) {
            continue;
        }
        for (l, v) in chunk.iter_mut().enumerate() {
            let k = c * LANES + l;
            if *v > v_threshold && refractory_left[k] == 0 {
                *v = v_reset;
                refractory_left[k] = refractory_steps;
                p.spike_counts[k] += 1;
                fired.push(k as u32);
            }
        }
    }
}

/// Current synapses, exact: v ← E_L + (v − E_L)·leak + be·ge + bi·gi (held while refractory),
/// ge ← de·ge, gi ← di·gi. `c` = [E_L, leak, be, bi, de, di]; a neuron's bias, when given,
/// adds to its E_L (a drive held over the step moves the resting point).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn integrate_current(v: &mut [f64], ge: &mut [f64], gi: &mut [f64], refractory: &mut [u32], bias: &[f64], c: [f64; 6]) {
    let [el, leak, be, bi, de, di] = c;
    let update = |v: &mut f64, ge: &mut f64, gi: &mut f64, r: &mut u32, el: f64| {
        let next = el + (*v - el) * leak + be * *ge + bi * *gi;
        *v = if *r == 0 { next } else { *v };
        *r = r.saturating_sub(1);
        *ge *= de;
        *gi *= di;
    };
    let neurons = v.iter_mut().zip(ge.iter_mut()).zip(gi.iter_mut()).zip(refractory.iter_mut());
    // Two loops rather than a per-neuron test, so the common unbiased one stays vectorised.
    if bias.is_empty() {
        neurons.for_each(|(((v, ge), gi), r)| update(v, ge, gi, r, el));
    } else {
        neurons.zip(bias).for_each(|((((v, ge), gi), r), b)| update(v, ge, gi, r, el + b));
    }
}

/// Conductance synapses, exponential Euler with the conductances frozen over the step.
/// `c` = [E_L, dt/τm, E_e, E_i, de, di]; a neuron's bias adds to its drive, as in
/// `integrate_current`.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn integrate_conductance(v: &mut [f64], ge: &mut [f64], gi: &mut [f64], refractory: &mut [u32], bias: &[f64], c: [f64; 6]) {
    let [el, rate, e_e, e_i, de, di] = c;
    let update = |v: &mut f64, ge: &mut f64, gi: &mut f64, r: &mut u32, el: f64| {
        let total = 1.0 + *ge + *gi;
        let steady = (el + *ge * e_e + *gi * e_i) / total;
        let next = steady + (*v - steady) * (-rate * total).exp();
        *v = if *r == 0 { next } else { *v };
        *r = r.saturating_sub(1);
        *ge *= de;
        *gi *= di;
    };
    let neurons = v.iter_mut().zip(ge.iter_mut()).zip(gi.iter_mut()).zip(refractory.iter_mut());
    if bias.is_empty() {
        neurons.for_each(|(((v, ge), gi), r)| update(v, ge, gi, r, el));
    } else {
        neurons.zip(bias).for_each(|((((v, ge), gi), r), b)| update(v, ge, gi, r, el + b));
    }
}
