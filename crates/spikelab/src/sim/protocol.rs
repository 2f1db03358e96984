//! The two-layer s-LIF2HH-versus-HH protocol of the internal-complexity paper
//! (`../shared/docs/reference/internal-complexity.md` §2.4, §3): an input neuron drives an
//! output neuron, in HH (rest at 0 mV, 1-µs steps) and in s-LIF2HH (1-ms steps), and the output
//! spike times are compared.

use super::single::matched_pairs;
use super::Stimulus;
use crate::error::Result;
use crate::neuron::hh::{HhParams, HhPopulation, Integrator, VoltageConvention};
use crate::neuron::slif2hh::SLif2HhUnit;
use serde::Serialize;

/// Weight of an upstream neuron's crossing onto its downstream counterpart (reference: 1e5).
const LAYER_WEIGHT: f64 = 1e5;
/// Current into the second HH neuron while the first is above 70 mV: 1e5 · 0.001 µA/cm².
const HH_LAYER_CURRENT: f64 = 100.0;
/// Samples per 1-ms bin when averaging the input (the reference's `integral(x)/dt`).
const BIN_SAMPLES: usize = 1000;

/// Output spike times (ms) of the two-layer s-LIF2HH network: rising edges of the second
/// unit's spike train, each 1-ms bin starting at its index.
pub fn slif2hh_two_layer(stimulus: &Stimulus, duration_ms: f64) -> Vec<f64> {
    let (mut first, mut second) = (SLif2HhUnit::reference(), SLif2HhUnit::reference());
    let (mut spikes, mut before) = (Vec::new(), false);
    for bin in 0..duration_ms.round() as usize {
        let x = (0..BIN_SAMPLES).map(|s| stimulus.at(bin as f64 + (s as f64 + 0.5) / BIN_SAMPLES as f64)).sum::<f64>() / BIN_SAMPLES as f64;
        let up = first.step([x; 3]);
        let drive = |k: usize| LAYER_WEIGHT * up.crossed[k] as u8 as f64 + up.crossed[3] as u8 as f64;
        let out = second.step([drive(0), drive(1), drive(2)]);
        if out.spiked && !before {
            spikes.push(bin as f64);
        }
        before = out.spiked;
    }
    spikes
}

/// Output spike times (ms) of the two-layer HH network (rest at 0 mV): rising edges of
/// V₂ > 70 mV, the second neuron receiving 100 µA/cm² while V₁ > 70 mV.
pub fn hh_two_layer(stimulus: &Stimulus, duration_ms: f64, integrator: Integrator, dt: f64) -> Result<Vec<f64>> {
    super::check_time(dt, duration_ms)?;
    let params = HhParams::standard(VoltageConvention::RestAtZero);
    let (mut first, mut second) = (HhPopulation::new(params, integrator, 1)?, HhPopulation::new(params, integrator, 1)?);
    let (mut spikes, mut before, mut flag) = (Vec::new(), false, [false]);
    for k in 0..(duration_ms / dt).round() as usize {
        first.step(&[stimulus.at(k as f64 * dt)], dt, &mut flag);
        let drive = if first.v[0] > params.spike_threshold { HH_LAYER_CURRENT } else { 0.0 };
        second.step(&[drive], dt, &mut flag);
        let above = second.v[0] > params.spike_threshold;
        if above && !before {
            spikes.push((k + 1) as f64 * dt);
        }
        before = above;
    }
    Ok(spikes)
}

/// The reference metrics for two spike trains (`candidate` against `reference`), plus matched
/// spikes for unequal counts.
#[derive(Clone, Debug, Serialize)]
pub struct TimingError {
    pub reference_spikes: usize,
    pub candidate_spikes: usize,
    /// Relative timing error E = mean |t_c − t_r| / mean reference ISI, spikes paired in
    /// order; only for equal counts (of at least 2), as the reference code computes it.
    pub relative_error: Option<f64>,
    /// Mean-ISI difference (ms) for equal counts.
    pub mean_isi_difference_ms: Option<f64>,
    /// Spikes paired greedily within `match_window_ms`.
    pub matched: usize,
    pub match_window_ms: f64,
    /// E over the matched pairs only: defined for unequal counts too.
    pub matched_relative_error: Option<f64>,
}

pub fn timing_error(candidate: &[f64], reference: &[f64], match_window_ms: f64) -> TimingError {
    let n = reference.len();
    let mean_isi = |t: &[f64]| (t.len() >= 2).then(|| (t[t.len() - 1] - t[0]) / (t.len() - 1) as f64);
    let reference_isi = mean_isi(reference);
    let equal = candidate.len() == n && n >= 2;
    let relative_error = equal.then(|| reference_isi.map(|isi| candidate.iter().zip(reference).map(|(c, r)| (c - r).abs()).sum::<f64>() / n as f64 / isi)).flatten();
    let mean_isi_difference_ms = if equal { mean_isi(candidate).zip(reference_isi).map(|(c, r)| c - r) } else { None };
    let pairs = matched_pairs(candidate, reference, match_window_ms);
    let matched_relative_error = reference_isi.filter(|_| !pairs.is_empty()).map(|isi| pairs.iter().map(|(c, r)| (c - r).abs()).sum::<f64>() / pairs.len() as f64 / isi);
    TimingError { reference_spikes: n, candidate_spikes: candidate.len(), relative_error, mean_isi_difference_ms, matched: pairs.len(), match_window_ms, matched_relative_error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_error_follows_the_reference_definition() {
        let e = timing_error(&[1.0, 11.0, 21.0], &[2.0, 12.0, 22.0], 1.5);
        assert_eq!(e.relative_error, Some(0.1)); // 1 ms off, 10 ms ISI
        assert_eq!(e.mean_isi_difference_ms, Some(0.0));
        assert_eq!((e.matched, e.matched_relative_error), (3, Some(0.1)));
        let e = timing_error(&[1.0, 21.0], &[2.0, 12.0, 22.0], 1.5);
        assert_eq!(e.relative_error, None);
        assert_eq!((e.matched, e.matched_relative_error), (2, Some(0.1)));
    }

    /// Both two-layer networks pass spikes on: a strong constant input makes both output
    /// neurons fire, at similar rates.
    #[test]
    fn both_two_layer_networks_transmit() {
        let input = Stimulus::Constant { value: 10.0 };
        let slif = slif2hh_two_layer(&input, 80.0);
        let hh = hh_two_layer(&input, 80.0, Integrator::Euler, 0.001).unwrap();
        assert!(slif.len() >= 3 && hh.len() >= 3, "{slif:?} {hh:?}");
    }
}
