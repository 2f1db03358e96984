//! s-LIF2HH: the simplified, discrete four-LIF unit of He et al. 2024
//! (`../shared/docs/reference/internal-complexity.md` §2.4): four LIF neurons stepped at
//! dt = 1 ms with u ← decay·u + input. Neurons 1–3 take the unit's input; neuron 4 takes the sum
//! of their just-updated membranes; the unit spikes only when all four exceed the threshold,
//! and then all four reset to 0.

/// One s-LIF2HH unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SLif2HhUnit {
    pub decay: f64,
    pub threshold: f64,
    /// Membranes u₁…u₄.
    pub u: [f64; 4],
}

/// What one step produced: each neuron's threshold crossing (before any reset) and the unit's
/// spike (all four crossed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitStep {
    pub crossed: [bool; 4],
    pub spiked: bool,
}

impl SLif2HhUnit {
    /// The reference code's unit: decay 0.9, threshold 70, at rest.
    pub fn reference() -> Self {
        SLif2HhUnit { decay: 0.9, threshold: 70.0, u: [0.0; 4] }
    }

    /// One 1-ms step; `inputs` go to neurons 1–3.
    pub fn step(&mut self, inputs: [f64; 3]) -> UnitStep {
        for (u, x) in self.u[..3].iter_mut().zip(inputs) {
            *u = self.decay * *u + x;
        }
        let sum = self.u[0] + self.u[1] + self.u[2];
        self.u[3] = self.decay * self.u[3] + sum;
        let crossed = self.u.map(|u| u > self.threshold);
        let spiked = crossed.iter().all(|&c| c);
        if spiked {
            self.u = [0.0; 4];
        }
        UnitStep { crossed, spiked }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_spikes_only_when_all_four_cross_and_then_resets() {
        let mut unit = SLif2HhUnit::reference();
        // Constant input 10: u₁ = 10, 19, 27.1, …; u₄ follows their sum and crosses first.
        let mut first = None;
        for step in 0..20 {
            let r = unit.step([10.0; 3]);
            assert_eq!(r.spiked, r.crossed.iter().all(|&c| c));
            if r.crossed[3] && !r.crossed[0] {
                assert!(!r.spiked, "u₄ alone is not enough");
            }
            if r.spiked {
                first.get_or_insert(step);
                assert_eq!(unit.u, [0.0; 4]);
            }
        }
        // u₁ = 10·(1 − 0.9ⁿ)/0.1 exceeds 70 first at n = 12 (71.8), the 12th step.
        assert_eq!(first, Some(11));
    }
}
