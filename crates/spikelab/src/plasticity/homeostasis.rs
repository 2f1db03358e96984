//! Homeostatic threshold adaptation: every spike raises the neuron's firing threshold by
//! `increment`, and the raise θ relaxes back to zero with time constant τ, so a neuron that
//! fires often becomes harder to fire (the adaptive threshold θ of Diehl & Cook 2015; the
//! adaptive LIF's threshold, here as a local rule with no gradient through it). Per step of
//! length dt: θ ← θ·e^(−dt/τ) + increment·spiked, and the neuron fires above V_th + θ.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptiveThresholdParams {
    /// Raise of the threshold per spike (in the membrane's units).
    pub increment: f32,
    /// Time constant of the raise's decay (ms, the unit of the network's dt).
    pub tau: f32,
}

impl Default for AdaptiveThresholdParams {
    fn default() -> Self {
        AdaptiveThresholdParams { increment: 0.05, tau: 100.0 }
    }
}

impl AdaptiveThresholdParams {
    pub fn validate(&self, key: &str) -> Result<()> {
        if !(self.increment.is_finite() && self.increment >= 0.0) {
            return Err(Error::config(format!("{key}.increment"), format!("must be ≥ 0 and finite, got {}", self.increment)));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(Error::config(format!("{key}.tau"), format!("must be positive, got {}", self.tau)));
        }
        Ok(())
    }

    /// The per-step update for steps of `dt`.
    pub fn adaptation(&self, dt: f32) -> ThresholdAdaptation {
        ThresholdAdaptation { decay: (-dt / self.tau).exp(), increment: self.increment }
    }
}

/// One step's threshold update, θ ← θ·decay + increment·spiked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdAdaptation {
    pub decay: f32,
    pub increment: f32,
}

impl ThresholdAdaptation {
    #[inline(always)]
    pub fn next(self, theta: f32, spiked: bool) -> f32 {
        theta * self.decay + self.increment * f32::from(u8::from(spiked))
    }

    /// θ just after a spike once a neuron has fired every `period` steps for ever: the fixed
    /// point of θ ← θ·decay^period + increment, increment / (1 − decay^period).
    pub fn steady_state(self, period: u32) -> f32 {
        self.increment / (1.0 - self.decay.powi(period as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_firing_settles_at_the_closed_form() {
        let a = AdaptiveThresholdParams { increment: 0.02, tau: 5.0 }.adaptation(0.5);
        assert!((a.decay - (-0.1f32).exp()).abs() < 1e-7);
        for period in [1u32, 3, 10] {
            let mut theta = 0.0;
            for step in 1..=2000 * period {
                theta = a.next(theta, step % period == 0);
            }
            let expect = a.steady_state(period);
            assert!((theta - expect).abs() < 1e-5 * expect, "period {period}: {theta} vs {expect}");
        }
        // Silent, the raise decays geometrically.
        assert!((a.next(a.next(1.0, false), false) - a.decay * a.decay).abs() < 1e-7);
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |increment, tau| AdaptiveThresholdParams { increment, tau }.validate("snn.adaptive_threshold").unwrap_err().to_string();
        assert!(bad(-0.1, 10.0).contains("snn.adaptive_threshold.increment"));
        assert!(bad(0.1, 0.0).contains("snn.adaptive_threshold.tau"));
        assert!(bad(f32::NAN, 1.0).contains("increment"));
    }
}
