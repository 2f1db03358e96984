//! Surrogate gradients: the derivative used in place of the Heaviside step's during BPTT.
//!
//! Each is a plain value with its width/steepness parameter, and each comes with the smooth
//! function it is the derivative of (`primitive`), so gradient checks can run a smooth forward.

use serde::{Deserialize, Serialize};
use std::f32::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Surrogate {
    /// σ(x) = arctan(π/2·α·x)/π + ½ (SpikingJelly `ATan`).
    Arctan {
        #[serde(default = "two")]
        alpha: f32,
    },
    /// σ(x) = 1/(1 + e^(−α·x)).
    Sigmoid {
        #[serde(default = "four")]
        alpha: f32,
    },
    /// σ'(x) = 1/(1 + k|x|)² (SuperSpike; snnTorch `fast_sigmoid`).
    FastSigmoid {
        #[serde(default = "twenty_five")]
        slope: f32,
    },
    /// σ'(x) = 1/w on |x| < w/2, else 0.
    Rectangle {
        #[serde(default = "one")]
        width: f32,
    },
    /// σ'(x) = max(0, w − |x|)/w².
    Triangle {
        #[serde(default = "one")]
        width: f32,
    },
}

fn one() -> f32 {
    1.0
}
fn two() -> f32 {
    2.0
}
fn four() -> f32 {
    4.0
}
fn twenty_five() -> f32 {
    25.0
}

impl Default for Surrogate {
    fn default() -> Self {
        Surrogate::Arctan { alpha: 2.0 }
    }
}

impl Surrogate {
    /// The surrogate derivative at x = membrane − threshold.
    pub fn grad(&self, x: f32) -> f32 {
        let mut out = [0.0];
        self.grad_into(&[x], &mut out);
        out[0]
    }

    /// `out[i] = grad(x[i])` with the kind resolved once, so each loop vectorises.
    #[inline(always)]
    pub fn grad_into(&self, x: &[f32], out: &mut [f32]) {
        let pairs = out.iter_mut().zip(x);
        match *self {
            Surrogate::Arctan { alpha } => pairs.for_each(|(o, &x)| {
                let z = 0.5 * PI * alpha * x;
                *o = 0.5 * alpha / (1.0 + z * z);
            }),
            Surrogate::Sigmoid { alpha } => pairs.for_each(|(o, &x)| {
                let s = 1.0 / (1.0 + (-alpha * x).exp());
                *o = alpha * s * (1.0 - s);
            }),
            Surrogate::FastSigmoid { slope } => pairs.for_each(|(o, &x)| {
                let d = 1.0 + slope * x.abs();
                *o = 1.0 / (d * d);
            }),
            Surrogate::Rectangle { width } => pairs.for_each(|(o, &x)| *o = if x.abs() < 0.5 * width { 1.0 / width } else { 0.0 }),
            Surrogate::Triangle { width } => pairs.for_each(|(o, &x)| *o = (width - x.abs()).max(0.0) / (width * width)),
        }
    }

    /// The smooth function whose derivative `grad` is: a step from 0 to 1 for every surrogate
    /// but fast-sigmoid, which keeps snnTorch's unnormalised scale.
    pub fn primitive(&self, x: f32) -> f32 {
        match *self {
            Surrogate::Arctan { alpha } => (0.5 * PI * alpha * x).atan() / PI + 0.5,
            Surrogate::Sigmoid { alpha } => 1.0 / (1.0 + (-alpha * x).exp()),
            // Unnormalised like snnTorch's (peak derivative 1), so this rises by only 2/k in total.
            Surrogate::FastSigmoid { slope } => 0.5 + x / (1.0 + slope * x.abs()),
            Surrogate::Rectangle { width } => (x / width + 0.5).clamp(0.0, 1.0),
            Surrogate::Triangle { width } => {
                let z = (x / width).clamp(-1.0, 1.0);
                if z < 0.0 {
                    0.5 * (1.0 + z) * (1.0 + z)
                } else {
                    1.0 - 0.5 * (1.0 - z) * (1.0 - z)
                }
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Surrogate::Arctan { .. } => "arctan",
            Surrogate::Sigmoid { .. } => "sigmoid",
            Surrogate::FastSigmoid { .. } => "fast-sigmoid",
            Surrogate::Rectangle { .. } => "rectangle",
            Surrogate::Triangle { .. } => "triangle",
        }
    }

    /// The width/steepness parameter, which must be positive and finite.
    pub fn parameter(&self) -> f32 {
        match *self {
            Surrogate::Arctan { alpha } | Surrogate::Sigmoid { alpha } => alpha,
            Surrogate::FastSigmoid { slope } => slope,
            Surrogate::Rectangle { width } | Surrogate::Triangle { width } => width,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn all() -> [Surrogate; 5] {
        [Surrogate::Arctan { alpha: 2.0 }, Surrogate::Sigmoid { alpha: 4.0 }, Surrogate::FastSigmoid { slope: 25.0 }, Surrogate::Rectangle { width: 1.0 }, Surrogate::Triangle { width: 1.0 }]
    }

    /// grad must be the derivative of primitive; checked by central differences in f64 away
    /// from the kinks of the piecewise ones.
    #[test]
    fn grad_matches_finite_difference_of_primitive() {
        for s in all() {
            for i in -40..=40 {
                let x = i as f64 * 0.037 + 0.0011;
                let near_kink = |k: f64| (x.abs() - k).abs() < 0.01;
                if near_kink(0.5) || near_kink(1.0) || x.abs() < 0.01 {
                    continue;
                }
                let h = 1e-3;
                let fd = (s.primitive((x + h) as f32) as f64 - s.primitive((x - h) as f32) as f64) / (2.0 * h);
                let g = s.grad(x as f32) as f64;
                assert!((fd - g).abs() < 2e-3 * (1.0 + g.abs()), "{} at {x}: fd {fd} vs grad {g}", s.name());
            }
            if !matches!(s, Surrogate::FastSigmoid { .. }) {
                assert!(s.primitive(-50.0) < 0.02 && s.primitive(50.0) > 0.98, "{} is not a step", s.name());
            }
        }
    }

    #[test]
    fn parses_from_toml_with_defaults_and_rejects_unknown_keys() {
        #[derive(Deserialize)]
        struct W {
            s: Surrogate,
        }
        let w: W = toml::from_str("s = { kind = \"fast-sigmoid\" }").unwrap();
        assert_eq!(w.s, Surrogate::FastSigmoid { slope: 25.0 });
        let err = toml::from_str::<W>("s = { kind = \"arctan\", alpah = 3.0 }").err().unwrap().to_string();
        assert!(err.contains("alpah"), "{err}");
    }
}
