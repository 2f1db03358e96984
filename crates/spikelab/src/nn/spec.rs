//! The declarative form of a network, as written in experiment configs:
//!
//! ```toml
//! [model]
//! input = [784]
//! layers = [
//!   { type = "linear", out = 800 },
//!   { type = "lif", decay = 0.9, reset = "subtract" },
//!   { type = "linear", out = 10 },
//!   { type = "lif", decay = 0.9, reset = "subtract" },
//! ]
//! ```
//! Unknown keys are rejected by serde; `validate`/`build` reject bad values, naming the key.

use super::{Conv2d, Dropout, Flatten, Layer, Linear, Pool2d, PoolKind, SpikingLayer};
use crate::error::{Error, Result};
use crate::neuron::{Adaptation, Decay, Discretisation, LeakyIntegrator, Lif, NeuronModel, Reset, Surrogate, TapePrecision};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Per-sample input shape: `[784]` for vectors, `[1, 28, 28]` for images.
    pub input: Vec<usize>,
    pub layers: Vec<LayerSpec>,
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LayerSpec {
    Linear {
        out: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    Conv2d {
        out_channels: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Stride defaults to the kernel size.
    MaxPool2d { kernel: usize, stride: Option<usize> },
    AvgPool2d { kernel: usize, stride: Option<usize> },
    Flatten,
    Dropout { p: f32 },
    If(NeuronSpec),
    Lif(NeuronSpec),
    Plif(NeuronSpec),
    Alif(NeuronSpec),
    Li(NeuronSpec),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetSpec {
    /// Set the membrane to `v_reset` after a spike.
    Hard,
    /// Subtract the threshold after a spike.
    Subtract,
}

/// Neuron settings; every field is optional and defaults follow SpikingJelly's `LIFNode`
/// (τ = 2 steps, Euler, decayed input, hard reset to 0, threshold 1, arctan surrogate α = 2).
/// Giving `decay` (the leak factor α per step, snnTorch's β) instead of `tau` switches the
/// input-decay default to snnTorch's (input not decayed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronSpec {
    /// Membrane time constant in time steps (> 0; ≥ 1 with Euler).
    pub tau: Option<f32>,
    /// Leak factor per step, in (0, 1]; alternative to `tau`.
    pub decay: Option<f32>,
    pub discretisation: Option<Discretisation>,
    pub decay_input: Option<bool>,
    pub threshold: Option<f32>,
    pub reset: Option<ResetSpec>,
    pub v_reset: Option<f32>,
    pub detach_reset: Option<bool>,
    pub surrogate: Option<Surrogate>,
    /// How the surrogate's argument is kept for BPTT: `f32` (default) or `bf16` (half the
    /// memory; see `TapePrecision`).
    pub tape: Option<TapePrecision>,
    /// ALIF: time constant of the threshold adaptation in steps (default 20).
    pub tau_adapt: Option<f32>,
    /// ALIF: threshold increase per unit of adaptation (default 0.2).
    pub beta: Option<f32>,
}

fn positive(key: &str, v: f32) -> Result<f32> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(Error::config(key, format!("must be positive and finite, got {v}"))) }
}

impl NeuronSpec {
    fn decay(&self, key: &str, leaky: bool) -> Result<Decay> {
        let discretisation = self.discretisation.unwrap_or_default();
        if !leaky {
            for (name, given) in [("tau", self.tau.is_some()), ("decay", self.decay.is_some()), ("decay_input", self.decay_input.is_some())] {
                if given {
                    return Err(Error::config(format!("{key}.{name}"), "an IF neuron has no leak"));
                }
            }
            return Ok(Decay::NONE);
        }
        let rate = match (self.tau, self.decay) {
            (Some(_), Some(_)) => return Err(Error::config(format!("{key}.decay"), "give either `tau` or `decay`, not both")),
            (_, Some(d)) => {
                if !(d > 0.0 && d <= 1.0) {
                    return Err(Error::config(format!("{key}.decay"), format!("must be in (0, 1], got {d}")));
                }
                match discretisation {
                    Discretisation::Euler => 1.0 - d,
                    Discretisation::Exact => -d.ln(),
                }
            }
            (tau, None) => {
                let tau = positive(&format!("{key}.tau"), tau.unwrap_or(2.0))?;
                if discretisation == Discretisation::Euler && tau < 1.0 {
                    return Err(Error::config(format!("{key}.tau"), format!("Euler discretisation needs tau ≥ 1 step, got {tau}")));
                }
                1.0 / tau
            }
        };
        let decay_input = self.decay_input.unwrap_or(self.decay.is_none());
        Ok(Decay { rate, discretisation, decay_input })
    }

    fn lif(&self, key: &str, leaky: bool) -> Result<Lif> {
        let threshold = positive(&format!("{key}.threshold"), self.threshold.unwrap_or(1.0))?;
        let reset = match self.reset.unwrap_or(ResetSpec::Hard) {
            ResetSpec::Hard => Reset::To(self.v_reset.unwrap_or(0.0)),
            ResetSpec::Subtract => {
                if self.v_reset.is_some() {
                    return Err(Error::config(format!("{key}.v_reset"), "only applies with reset = \"hard\""));
                }
                Reset::Subtract
            }
        };
        let surrogate = self.surrogate.unwrap_or_default();
        positive(&format!("{key}.surrogate"), surrogate.parameter())?;
        Ok(Lif {
            decay: self.decay(key, leaky)?,
            threshold,
            reset,
            detach_reset: self.detach_reset.unwrap_or(false),
            surrogate,
            adaptation: None,
            learn_tau: false,
            tape: self.tape.unwrap_or_default(),
        })
    }

    fn reject(&self, key: &str, kind: &str, fields: &[(&str, bool)]) -> Result<()> {
        match fields.iter().find(|(_, given)| *given) {
            Some((name, _)) => Err(Error::config(format!("{key}.{name}"), format!("does not apply to `{kind}` neurons"))),
            None => Ok(()),
        }
    }

    fn build(&self, kind: &str, key: &str) -> Result<Box<dyn NeuronModel>> {
        let adaptive_fields = [("tau_adapt", self.tau_adapt.is_some()), ("beta", self.beta.is_some())];
        Ok(match kind {
            "if" => {
                self.reject(key, kind, &adaptive_fields)?;
                Box::new(self.lif(key, false)?)
            }
            "lif" => {
                self.reject(key, kind, &adaptive_fields)?;
                Box::new(self.lif(key, true)?)
            }
            "plif" => {
                self.reject(key, kind, &adaptive_fields)?;
                let mut m = self.lif(key, true)?;
                if m.decay.rate >= 1.0 {
                    return Err(Error::config(format!("{key}.tau"), "a learned time constant must start above 1 step"));
                }
                m.learn_tau = true;
                Box::new(m)
            }
            "alif" => {
                let tau_adapt = positive(&format!("{key}.tau_adapt"), self.tau_adapt.unwrap_or(20.0))?;
                let beta = self.beta.unwrap_or(0.2);
                if !beta.is_finite() || beta < 0.0 {
                    return Err(Error::config(format!("{key}.beta"), format!("must be ≥ 0, got {beta}")));
                }
                let mut m = self.lif(key, true)?;
                m.adaptation = Some(Adaptation { decay: (-1.0 / tau_adapt).exp(), strength: beta });
                Box::new(m)
            }
            "li" => {
                self.reject(key, kind, &adaptive_fields)?;
                self.reject(key, kind, &[
                    ("threshold", self.threshold.is_some()),
                    ("reset", self.reset.is_some()),
                    ("v_reset", self.v_reset.is_some()),
                    ("detach_reset", self.detach_reset.is_some()),
                    ("surrogate", self.surrogate.is_some()),
                    ("tape", self.tape.is_some()),
                ])?;
                Box::new(LeakyIntegrator { decay: self.decay(key, true)? })
            }
            other => unreachable!("unknown neuron kind {other}"),
        })
    }
}

impl LayerSpec {
    /// Builds the layer; `key` names it in errors (`model.layers[2]`).
    pub fn build(&self, key: &str, input: &[usize], rng: &mut Rng, index: usize) -> Result<Box<dyn Layer>> {
        let nonzero = |name: &str, v: usize| {
            if v == 0 { Err(Error::config(format!("{key}.{name}"), "must be at least 1")) } else { Ok(v) }
        };
        Ok(match self {
            LayerSpec::Linear { out, bias } => {
                let [inputs] = *input else {
                    return Err(Error::Shape(format!("{key}: linear needs a flat input, got {input:?}; add {{ type = \"flatten\" }} before it")));
                };
                Box::new(Linear::new(inputs, nonzero("out", *out)?, *bias, rng))
            }
            LayerSpec::Conv2d { out_channels, kernel, stride, padding, bias } => {
                let channels = input.first().copied().unwrap_or(0);
                Box::new(Conv2d::new(channels, nonzero("out_channels", *out_channels)?, nonzero("kernel", *kernel)?, nonzero("stride", *stride)?, *padding, *bias, rng))
            }
            LayerSpec::MaxPool2d { kernel, stride } | LayerSpec::AvgPool2d { kernel, stride } => {
                let kind = if matches!(self, LayerSpec::MaxPool2d { .. }) { PoolKind::Max } else { PoolKind::Avg };
                let kernel = nonzero("kernel", *kernel)?;
                Box::new(Pool2d::new(kind, kernel, nonzero("stride", stride.unwrap_or(kernel))?))
            }
            LayerSpec::Flatten => Box::new(Flatten::default()),
            LayerSpec::Dropout { p } => {
                if !(0.0..1.0).contains(p) {
                    return Err(Error::config(format!("{key}.p"), format!("must be in [0, 1), got {p}")));
                }
                Box::new(Dropout::new(*p, index as u64))
            }
            LayerSpec::If(n) => Box::new(SpikingLayer::new(n.build("if", key)?)),
            LayerSpec::Lif(n) => Box::new(SpikingLayer::new(n.build("lif", key)?)),
            LayerSpec::Plif(n) => Box::new(SpikingLayer::new(n.build("plif", key)?)),
            LayerSpec::Alif(n) => Box::new(SpikingLayer::new(n.build("alif", key)?)),
            LayerSpec::Li(n) => Box::new(SpikingLayer::new(n.build("li", key)?)),
        })
    }
}

#[cfg(test)]
impl LayerSpec {
    pub(crate) fn build_neuron_for_test(&self) -> Box<dyn NeuronModel> {
        match self {
            LayerSpec::Plif(n) => n.build("plif", "test").unwrap(),
            _ => unimplemented!(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<ModelSpec, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_keys_and_types_are_named() {
        let err = parse("input = [4]\nlayers = [{ type = \"linear\", out = 3, bais = false }]").unwrap_err();
        assert!(err.contains("bais"), "{err}");
        let err = parse("input = [4]\nlayers = [{ type = \"lif\", tua = 3.0 }]").unwrap_err();
        assert!(err.contains("tua"), "{err}");
        let err = parse("input = [4]\nlayers = [{ type = \"lstm\" }]").unwrap_err();
        assert!(err.contains("lstm"), "{err}");
        let err = parse("input = [4]\nlayrs = []").unwrap_err();
        assert!(err.contains("layrs"), "{err}");
    }

    #[test]
    fn invalid_values_are_named() {
        let cases = [
            ("{ type = \"lif\", tau = -1.0 }", "model.layers[0].tau"),
            ("{ type = \"lif\", tau = 0.5 }", "model.layers[0].tau"),
            ("{ type = \"lif\", decay = 1.5 }", "model.layers[0].decay"),
            ("{ type = \"lif\", tau = 2.0, decay = 0.5 }", "model.layers[0].decay"),
            ("{ type = \"lif\", threshold = 0.0 }", "model.layers[0].threshold"),
            ("{ type = \"lif\", reset = \"subtract\", v_reset = 0.5 }", "model.layers[0].v_reset"),
            ("{ type = \"if\", tau = 2.0 }", "model.layers[0].tau"),
            ("{ type = \"li\", threshold = 1.0 }", "model.layers[0].threshold"),
            ("{ type = \"lif\", beta = 1.0 }", "model.layers[0].beta"),
            ("{ type = \"alif\", tau_adapt = 0.0 }", "model.layers[0].tau_adapt"),
            ("{ type = \"lif\", surrogate = { kind = \"sigmoid\", alpha = -1.0 } }", "model.layers[0].surrogate"),
            ("{ type = \"dropout\", p = 1.0 }", "model.layers[0].p"),
            ("{ type = \"linear\", out = 0 }", "model.layers[0].out"),
        ];
        for (layer, key) in cases {
            let spec = parse(&format!("input = [4]\nlayers = [{layer}]")).unwrap();
            let err = crate::nn::Sequential::from_spec(&spec, 0).unwrap_err().to_string();
            assert!(err.contains(key), "{layer}: {err}");
        }
    }

    #[test]
    fn neuron_defaults_follow_spikingjelly_and_decay_follows_snntorch() {
        let spec = NeuronSpec::default();
        let m = spec.lif("k", true).unwrap();
        assert_eq!((m.decay.leak(), m.decay.gain(), m.reset), (0.5, 0.5, Reset::To(0.0)));
        let spec = NeuronSpec { decay: Some(0.9), reset: Some(ResetSpec::Subtract), ..Default::default() };
        let m = spec.lif("k", true).unwrap();
        assert!((m.decay.leak() - 0.9).abs() < 1e-6 && m.decay.gain() == 1.0 && m.reset == Reset::Subtract);
    }
}
