//! Single-neuron runs of the biophysical models and the comparisons of the internal-complexity
//! experiments: tv-LIF2HH against HH (`tvlif2hh-vs-hh`) and HH integrators against a fine RK4
//! reference (`hh-accuracy`).

use super::point::{NeuronSpec, SpikeShape};
use super::Stimulus;
use crate::error::{Error, Result};
use serde::Serialize;

/// Voltage per step (after the step) and spike times of one run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub dt: f64,
    pub v: Vec<f64>,
    /// Upward threshold crossings, ms, interpolated linearly within their step.
    pub spikes: Vec<f64>,
    pub threshold: f64,
}

/// Checks a step and a duration (ms).
pub fn check_time(dt: f64, duration: f64) -> Result<()> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::config("dt", format!("must be a positive number of ms, got {dt}")));
    }
    if !(duration.is_finite() && duration >= dt) {
        return Err(Error::config("duration", format!("must be at least one step ({dt} ms), got {duration}")));
    }
    Ok(())
}

/// Runs one neuron of `model` (any model but LIF) from its initial state for `duration` ms.
/// Spike times of models whose spike is a threshold crossing (HH, tv-LIF2HH) are interpolated
/// linearly within their step; those of reset models are the end of their step.
pub fn simulate(model: &NeuronSpec, stimulus: &Stimulus, dt: f64, duration: f64) -> Result<Trace> {
    check_time(dt, duration)?;
    let mut neuron = model.build(1, "model")?;
    let steps = (duration / dt).round() as usize;
    let shape = neuron.spike_shape();
    let mut trace = Trace { dt, v: Vec::with_capacity(steps), spikes: Vec::new(), threshold: shape.level() };
    let mut flag = [false];
    let mut before = neuron.voltage(0);
    for k in 0..steps {
        let t = k as f64 * dt;
        neuron.step(t, &[stimulus.at(t)], dt, &mut flag);
        let after = neuron.voltage(0);
        if flag[0] {
            trace.spikes.push(match shape {
                SpikeShape::Crossing(level) => t + dt * (level - before) / (after - before),
                SpikeShape::Reset(_) => t + dt,
            });
        }
        trace.v.push(after);
        before = after;
    }
    Ok(trace)
}

/// How closely two runs on the same grid agree.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    pub max_abs_dv_mv: f64,
    pub spikes_a: usize,
    pub spikes_b: usize,
    /// Largest |t_a − t_b| over spikes paired in order (ms); `None` when the counts differ.
    pub max_spike_time_difference_ms: Option<f64>,
    /// Spikes of `a` with a spike of `b` within `match_window_ms`, each used once (for
    /// unequal counts).
    pub matched_spikes: usize,
    pub match_window_ms: f64,
    /// Fraction of steps on which both runs agree whether V is above the spike threshold.
    pub above_threshold_agreement: f64,
}

/// Compares two runs of the same length and step.
pub fn agreement(a: &Trace, b: &Trace, match_window_ms: f64) -> Agreement {
    assert_eq!(a.v.len(), b.v.len(), "traces on the same grid");
    let max_abs_dv_mv = a.v.iter().zip(&b.v).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    let same = a.v.iter().zip(&b.v).filter(|(x, y)| (**x > a.threshold) == (**y > b.threshold)).count();
    Agreement {
        max_abs_dv_mv,
        spikes_a: a.spikes.len(),
        spikes_b: b.spikes.len(),
        max_spike_time_difference_ms: spike_time_difference(&a.spikes, &b.spikes),
        matched_spikes: matched_spikes(&a.spikes, &b.spikes, match_window_ms),
        match_window_ms,
        above_threshold_agreement: same as f64 / a.v.len().max(1) as f64,
    }
}

/// Largest difference of spikes paired in order, when the counts agree.
pub fn spike_time_difference(a: &[f64], b: &[f64]) -> Option<f64> {
    (a.len() == b.len()).then(|| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max))
}

/// Greedy matching of two sorted spike trains within `window` ms, each spike used once.
pub fn matched_spikes(a: &[f64], b: &[f64], window: f64) -> usize {
    matched_pairs(a, b, window).len()
}

/// The pairs of that matching, (a, b) times.
pub(crate) fn matched_pairs(a: &[f64], b: &[f64], window: f64) -> Vec<(f64, f64)> {
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if (a[i] - b[j]).abs() <= window {
            pairs.push((a[i], b[j]));
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuron::hh::{Integrator, VoltageConvention};

    #[test]
    fn spike_matching_handles_unequal_counts() {
        assert_eq!(matched_spikes(&[1.0, 5.0, 9.0], &[1.05, 9.2], 0.1), 1);
        assert_eq!(matched_spikes(&[1.0, 5.0, 9.0], &[1.05, 9.2], 0.5), 2);
        assert_eq!(spike_time_difference(&[1.0, 2.0], &[1.5]), None);
    }

    #[test]
    fn bad_steps_and_durations_are_named() {
        let s = Stimulus::Constant { value: 1.0 };
        let hh = NeuronSpec::Hh { convention: VoltageConvention::RestAtMinus65, integrator: Integrator::Rk4 };
        assert!(simulate(&hh, &s, -0.01, 10.0).unwrap_err().to_string().contains("dt"));
        assert!(simulate(&hh, &s, 0.01, 0.0).unwrap_err().to_string().contains("duration"));
        let tv = NeuronSpec::TvLif2hh { convention: VoltageConvention::RestAtMinus65, integrator: Integrator::ExponentialEuler };
        assert!(simulate(&tv, &s, 0.01, 1.0).unwrap_err().to_string().contains("integrator"));
        let lif = NeuronSpec::Lif { tau_m: 10.0, v_rest: 0.0, v_threshold: 1.0, v_reset: 0.0, refractory: 0.0 };
        assert!(simulate(&lif, &s, 0.01, 1.0).unwrap_err().to_string().contains("network"));
    }
}
