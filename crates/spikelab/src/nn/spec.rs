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

use super::{Conv2d, DendriticLinear, Dropout, Flatten, Gating, KWinners, KWinnersSettings, Layer, Linear, MaskKind, Normalize, Pool2d, PoolKind, Relu, SpikingLayer, Ties, WeightMask};
use crate::error::{Error, Result};
use crate::neuron::adaptive::{AdEx, Izhikevich, TwoVariableNeuron};
use crate::neuron::hh::{Hh, HhParams, Integrator, TvLif2Hh, VoltageConvention};
use crate::neuron::ode_model::{HhModel, OdeModel, OdeNeuron, TvLif2HhModel};
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
        /// Static weight sparsity: the fraction of each output unit's weights that stays
        /// (exactly `round(kept_weights · in)` of them; the rest are zero for good).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kept_weights: Option<f32>,
        /// How the kept weights are chosen (`random`, or `complementary` for packing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<MaskKind>,
        /// Expected fraction of non-zero inputs (after a k-winners layer): initial weights and
        /// biases then lie in ±1/√(input_density · kept_weights · in), Iyer et al.'s modified
        /// Kaiming. Default: PyTorch's ±1/√in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_density: Option<f32>,
    },
    /// A linear layer whose units are gated by dendritic segments that see a context vector
    /// (`DendriticLinear`); the feed-forward part takes the `linear` settings.
    DendriticLinear {
        out: usize,
        segments: usize,
        /// Length of the context vector.
        context: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kept_weights: Option<f32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_density: Option<f32>,
        /// Expected fraction of non-zero context values: segments start in
        /// ±1/√(context_density · context); default 0.1 (the paper's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_density: Option<f32>,
        #[serde(default)]
        gating: Gating,
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
        /// As for `linear`, per output channel over in_channels · kernel².
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kept_weights: Option<f32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<MaskKind>,
    },
    /// Stride defaults to the kernel size.
    MaxPool2d {
        kernel: usize,
        stride: Option<usize>,
    },
    AvgPool2d {
        kernel: usize,
        stride: Option<usize>,
    },
    Flatten,
    Dropout {
        p: f32,
    },
    Relu,
    /// `(x − mean) / std`, e.g. MNIST's 0.1307 and 0.3081 on the [0, 1] intensities.
    Normalize {
        mean: f32,
        std: f32,
    },
    /// k-winners-take-all with boosting (`KWinners`): give `k` (winners per sample, or per
    /// position with `local`) or `percent_on` (k = round(percent_on · units)).
    KWinners(KWinnersSpec),
    If(NeuronSpec),
    Lif(NeuronSpec),
    Plif(NeuronSpec),
    Alif(NeuronSpec),
    Li(NeuronSpec),
    /// Hodgkin–Huxley neurons (the simulator's model), trained by BPTT through the integrator.
    Hh(PointLayerSpec<HhParams>),
    /// tv-LIF2HH units: HH as four time-varying LIFs; same settings as `hh`.
    TvLif2hh(PointLayerSpec<HhParams>),
    /// Izhikevich neurons (the simulator's model; regular spiking by default).
    Izhikevich(PointLayerSpec<Izhikevich>),
    /// AdEx neurons (the simulator's model; Brette & Gerstner 2005 by default).
    Adex(PointLayerSpec<AdEx>),
}

/// Settings of a k-winners layer; the defaults are nupic.torch's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KWinnersSpec {
    pub k: Option<usize>,
    pub percent_on: Option<f32>,
    /// k at inference = min(round(k · factor), units); default 1.5.
    pub k_inference_factor: Option<f32>,
    /// β of the boost factor exp(β (k/n − duty cycle)); default 1.0; 0 turns boosting off.
    pub boost_strength: Option<f32>,
    /// β is multiplied by this after every epoch; default 0.9.
    pub boost_strength_factor: Option<f32>,
    /// Samples the duty cycle averages over; default 1000.
    pub duty_cycle_period: Option<usize>,
    /// `[C, H, W]` input: compete over channels at each position; default false (global).
    pub local: Option<bool>,
    /// `exact-k` (default) or `keep-all` (every unit tied with the k-th wins).
    pub ties: Option<Ties>,
}

impl KWinnersSpec {
    fn build(&self, key: &str, input: &[usize]) -> Result<KWinners> {
        let local = self.local.unwrap_or(false);
        let units = if local { input.first().copied().unwrap_or(0) } else { input.iter().product() };
        let k = match (self.k, self.percent_on) {
            (Some(k), None) => k,
            (None, Some(p)) if p > 0.0 && p <= 1.0 => ((p as f64 * units as f64).round() as usize).max(1),
            (None, Some(p)) => return Err(Error::config(format!("{key}.percent_on"), format!("must be in (0, 1], got {p}"))),
            _ => return Err(Error::config(format!("{key}.k"), "give exactly one of `k` and `percent_on`")),
        };
        let factor = self.k_inference_factor.unwrap_or(1.5);
        if !(factor.is_finite() && factor > 0.0) {
            return Err(Error::config(format!("{key}.k_inference_factor"), format!("must be positive, got {factor}")));
        }
        let settings = KWinnersSettings {
            k,
            k_inference: ((k as f64 * factor as f64).round() as usize).min(units),
            boost_strength: self.boost_strength.unwrap_or(1.0),
            boost_strength_factor: self.boost_strength_factor.unwrap_or(0.9),
            duty_cycle_period: self.duty_cycle_period.unwrap_or(1000),
            local,
            ties: self.ties.unwrap_or_default(),
        };
        KWinners::new(settings, input, key)
    }
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
    /// Lateral inhibition: at most this many neurons of a sample fire per step, those above
    /// threshold with the highest membrane potential (spiking k-winners-take-all).
    pub winners: Option<usize>,
    /// ALIF: time constant of the threshold adaptation in steps (default 20).
    pub tau_adapt: Option<f32>,
    /// ALIF: threshold increase per unit of adaptation (default 0.2).
    pub beta: Option<f32>,
}

fn positive(key: &str, v: f32) -> Result<f32> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::config(key, format!("must be positive and finite, got {v}")))
    }
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
        if self.winners == Some(0) {
            return Err(Error::config(format!("{key}.winners"), "must be at least 1 (it is how many neurons may fire per step)"));
        }
        Ok(Lif {
            decay: self.decay(key, leaky)?,
            threshold,
            reset,
            detach_reset: self.detach_reset.unwrap_or(false),
            surrogate,
            adaptation: None,
            learn_tau: false,
            tape: self.tape.unwrap_or_default(),
            winners: self.winners,
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
                self.reject(
                    key,
                    kind,
                    &[
                        ("threshold", self.threshold.is_some()),
                        ("reset", self.reset.is_some()),
                        ("v_reset", self.v_reset.is_some()),
                        ("detach_reset", self.detach_reset.is_some()),
                        ("surrogate", self.surrogate.is_some()),
                        ("tape", self.tape.is_some()),
                        ("winners", self.winners.is_some()),
                    ],
                )?;
                Box::new(LeakyIntegrator { decay: self.decay(key, true)? })
            }
            other => unreachable!("unknown neuron kind {other}"),
        })
    }
}

/// Settings of a trainable layer of the simulator's point neurons (`hh`, `tv-lif2hh`,
/// `izhikevich`, `adex`); every field optional. Each network step holds the input current for
/// `substeps` integration steps of `dt` ms; HH and tv-LIF2HH output H(V − θ) at its end,
/// Izhikevich and AdEx spike and reset at θ within it (`neuron::ode_model`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointLayerSpec<P> {
    /// The model's parameters, all of them: `hh`/`tv-lif2hh` `{ convention, c, g_na, g_k, g_l,
    /// spike_threshold }`, `izhikevich` `{ a, b, c, d }` (default regular spiking), `adex` the
    /// ten of `AdEx` (default Brette & Gerstner 2005).
    pub parameters: Option<P>,
    /// `hh`, `tv-lif2hh`: the standard parameters in `rest-at-minus65` (default) or
    /// `rest-at-zero`, instead of `parameters`.
    pub convention: Option<VoltageConvention>,
    /// `exponential-euler` (HH's default), `rk4` (the others' default) or `euler`. A layer's
    /// input current can be strongly negative, which drives V to hundreds of mV below rest where
    /// the rates are very stiff: RK4 and Euler then diverge at any practical dt (−100 µA/cm²
    /// gives NaN within 20 ms at dt = 0.01 ms); exponential Euler stays finite.
    pub integrator: Option<Integrator>,
    /// Integration step in ms; default 0.025.
    pub dt: Option<f64>,
    /// Integration steps per network time step; default 40 (1 ms per step at the default dt).
    pub substeps: Option<usize>,
    /// θ in mV; default the model's spike detector (HH: −40 mV at rest −65, 70 at rest 0) or
    /// peak (Izhikevich 30 mV, AdEx `v_peak`).
    pub threshold: Option<f64>,
    /// Input current per unit of layer input, in the model's unit; default 10 (µA/cm² for HH,
    /// the model's own for Izhikevich), 500 pA for AdEx.
    pub current_scale: Option<f64>,
    /// Surrogate over V − θ in mV; default arctan with α = 0.2 (about 5 mV wide).
    pub surrogate: Option<Surrogate>,
}

impl<P: Copy> PointLayerSpec<P> {
    fn integrator(&self, default: Integrator) -> Integrator {
        self.integrator.unwrap_or(default)
    }

    /// `parameters`, or `standard` when not given; `convention` only where `standard` takes it.
    fn parameters(&self, key: &str, standard: impl Fn(Option<VoltageConvention>) -> Option<P>) -> Result<P> {
        match (self.parameters, self.convention) {
            (Some(_), Some(_)) => Err(Error::config(format!("{key}.convention"), "give either `parameters` or `convention`, not both")),
            (Some(p), None) => Ok(p),
            (None, convention) => standard(convention).ok_or_else(|| Error::config(format!("{key}.convention"), "does not apply to this model")),
        }
    }

    /// The trainable layer of `neuron` with these settings.
    fn layer<M: OdeNeuron<N>, const N: usize, const K: usize>(&self, neuron: M, key: &str) -> Result<OdeModel<M, N, K>> {
        let dt = self.dt.unwrap_or(0.025);
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::config(format!("{key}.dt"), format!("must be a positive number of ms, got {dt}")));
        }
        let substeps = self.substeps.unwrap_or(40);
        if substeps == 0 {
            return Err(Error::config(format!("{key}.substeps"), "must be at least 1"));
        }
        let base = OdeModel::new(neuron, dt, substeps);
        let threshold = self.threshold.unwrap_or(base.threshold);
        if !threshold.is_finite() {
            return Err(Error::config(format!("{key}.threshold"), format!("must be finite, got {threshold}")));
        }
        let current_scale = self.current_scale.unwrap_or(base.current_scale);
        if !(current_scale.is_finite() && current_scale != 0.0) {
            return Err(Error::config(format!("{key}.current_scale"), format!("must be finite and non-zero, got {current_scale}")));
        }
        let surrogate = self.surrogate.unwrap_or(base.surrogate);
        positive(&format!("{key}.surrogate"), surrogate.parameter())?;
        Ok(OdeModel { threshold, current_scale, surrogate, ..base })
    }
}

impl LayerSpec {
    /// Builds the layer; `key` names it in errors (`model.layers[2]`).
    pub fn build(&self, key: &str, input: &[usize], rng: &mut Rng, index: usize) -> Result<Box<dyn Layer>> {
        let nonzero = |name: &str, v: usize| {
            if v == 0 {
                Err(Error::config(format!("{key}.{name}"), "must be at least 1"))
            } else {
                Ok(v)
            }
        };
        Ok(match self {
            LayerSpec::Linear { out, bias, kept_weights, mask, input_density } => Box::new(linear(key, input, *out, *bias, *kept_weights, *mask, *input_density, rng)?),
            LayerSpec::DendriticLinear { out, segments, context, kept_weights, input_density, context_density, gating } => {
                let feedforward = linear(key, input, *out, true, *kept_weights, None, *input_density, rng)?;
                let density = density(&format!("{key}.context_density"), context_density.unwrap_or(0.1))?;
                Box::new(DendriticLinear::new(feedforward, nonzero("segments", *segments)?, nonzero("context", *context)?, density, *gating, rng))
            }
            LayerSpec::Conv2d { out_channels, kernel, stride, padding, bias, kept_weights, mask } => {
                let channels = input.first().copied().unwrap_or(0);
                let (out, kernel) = (nonzero("out_channels", *out_channels)?, nonzero("kernel", *kernel)?);
                let layer = Conv2d::new(channels, out, kernel, nonzero("stride", *stride)?, *padding, *bias, rng);
                match sparsity_mask(key, *kept_weights, *mask, out, channels * kernel * kernel, rng)? {
                    Some(m) => Box::new(layer.with_mask(m)),
                    None => Box::new(layer),
                }
            }
            LayerSpec::Relu => Box::new(Relu::default()),
            LayerSpec::Normalize { mean, std } => Box::new(Normalize::new(*mean, *std, key)?),
            LayerSpec::KWinners(spec) => Box::new(spec.build(key, input)?),
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
            LayerSpec::Hh(n) => {
                let params = n.parameters(key, |c| Some(HhParams::standard(c.unwrap_or_default())))?;
                let model: HhModel = n.layer(Hh::new(params, n.integrator(Integrator::ExponentialEuler)).map_err(|e| e.within(key))?, key)?;
                Box::new(SpikingLayer::new(Box::new(model)))
            }
            LayerSpec::TvLif2hh(n) => {
                let params = n.parameters(key, |c| Some(HhParams::standard(c.unwrap_or_default())))?;
                let model: TvLif2HhModel = n.layer(TvLif2Hh::new(params, n.integrator(Integrator::Rk4)).map_err(|e| e.within(key))?, key)?;
                Box::new(SpikingLayer::new(Box::new(model)))
            }
            LayerSpec::Izhikevich(n) => {
                let params = n.parameters(key, |c| c.is_none().then_some(Izhikevich::REGULAR_SPIKING))?;
                let neuron = TwoVariableNeuron::new(params, n.integrator(Integrator::Rk4)).map_err(|e| e.within(key))?;
                let model: OdeModel<_, 2, 3> = n.layer(neuron, key)?;
                Box::new(SpikingLayer::new(Box::new(model)))
            }
            LayerSpec::Adex(n) => {
                let params = n.parameters(key, |c| c.is_none().then_some(AdEx::BRETTE_GERSTNER))?;
                params.validate().map_err(|e| e.within(&format!("{key}.parameters")))?;
                let neuron = TwoVariableNeuron::new(params, n.integrator(Integrator::Rk4)).map_err(|e| e.within(key))?;
                let mut model: OdeModel<_, 2, 3> = n.layer(neuron, key)?;
                model.current_scale = n.current_scale.unwrap_or(500.0);
                Box::new(SpikingLayer::new(Box::new(model)))
            }
        })
    }
}

impl LayerSpec {
    /// A dense linear layer with a bias (the common case of `LayerSpec::Linear`).
    pub fn linear(out: usize) -> Self {
        LayerSpec::Linear { out, bias: true, kept_weights: None, mask: None, input_density: None }
    }
}

/// A fraction in (0, 1].
fn density(key: &str, v: f32) -> Result<f32> {
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(Error::config(key, format!("is a fraction in (0, 1], got {v}")))
    }
}

/// A `linear` layer with its optional weight mask and initial scale.
#[allow(clippy::too_many_arguments)]
fn linear(key: &str, input: &[usize], out: usize, bias: bool, kept: Option<f32>, mask: Option<MaskKind>, input_density: Option<f32>, rng: &mut Rng) -> Result<Linear> {
    let [inputs] = *input else {
        return Err(Error::Shape(format!("{key}: linear needs a flat input, got {input:?}; add {{ type = \"flatten\" }} before it")));
    };
    if out == 0 {
        return Err(Error::config(format!("{key}.out"), "must be at least 1"));
    }
    let mut layer = Linear::new(inputs, out, bias, rng);
    if let Some(d) = input_density {
        // ±1/√in times this is ±1/√(density · kept · in), the same uniform law rescaled.
        let factor = 1.0 / (density(&format!("{key}.input_density"), d)? * kept.unwrap_or(1.0)).sqrt();
        layer.weight.value.scale(factor);
        if let Some(b) = &mut layer.bias {
            b.value.scale(factor);
        }
    }
    Ok(match sparsity_mask(key, kept, mask, out, inputs, rng)? {
        Some(m) => layer.with_mask(m),
        None => layer,
    })
}

/// The weight mask of a `kept_weights` setting (none without one).
fn sparsity_mask(key: &str, kept: Option<f32>, kind: Option<MaskKind>, units: usize, fan_in: usize, rng: &mut Rng) -> Result<Option<WeightMask>> {
    match (kept, kind) {
        (None, Some(_)) => Err(Error::config(format!("{key}.mask"), "needs `kept_weights` (the fraction of weights kept)")),
        (None, None) => Ok(None),
        (Some(kept), kind) => WeightMask::new(units, fan_in, kept, kind.unwrap_or_default(), rng, &format!("{key}.kept_weights")).map(Some),
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
mod tests;
