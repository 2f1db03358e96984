//! Populations of any point-neuron model inside the network simulator. The LIF population has
//! its own exact kernels in `network`; every other model (tv-LIF, Hodgkin–Huxley, tv-LIF2HH,
//! Izhikevich, AdEx) is driven through `PointNeurons` by a per-neuron input current computed
//! from its synaptic variables, in the model's own units: mV (R·I) for tv-LIF, µA/cm² for HH and
//! tv-LIF2HH, the paper's scale for Izhikevich, pA for AdEx. Conductance synapses then carry the
//! model's conductance unit (tv-LIF: relative to the leak; HH: mS/cm²; AdEx: nS) and give the
//! current g·(E − V) from the voltage at the start of the step.

use super::Stimulus;
use crate::error::{Error, Result};
use crate::neuron::adaptive::{AdEx, Izhikevich, TwoVariable, TwoVariablePopulation};
use crate::neuron::hh::{HhParams, HhPopulation, Integrator, TvLif2HhPopulation, VoltageConvention};
use crate::neuron::tvlif::{TvLif, TvLifPopulation};
use serde::{Deserialize, Serialize};

/// A population of one model, stepped with an explicit per-neuron input.
pub trait PointNeurons: Send {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Advances every neuron from time `t` (ms) by `dt` under `input` (one per neuron, held over
    /// the step); `spiked[i]` tells whether neuron i fired.
    fn step(&mut self, t: f64, input: &[f64], dt: f64, spiked: &mut [bool]);
    fn voltage(&self, i: usize) -> f64;
    /// Names of the model's state variables, `v` first (what monitors can record).
    fn variables(&self) -> &'static [&'static str];
    /// State variable `index` (of `variables`) of neuron i.
    fn variable(&self, index: usize, i: usize) -> f64;
    /// Puts neuron i at membrane voltage `v`, its other variables where that voltage holds them
    /// at rest (HH gates at their steady state; the adaptation variable kept).
    fn set_voltage(&mut self, i: usize, v: f64);
    fn spike_shape(&self) -> SpikeShape;
}

/// How a model's spike shows in its voltage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpikeShape {
    /// The voltage crosses this level upwards and comes back by itself (HH): a spike's time can
    /// be interpolated within its step.
    Crossing(f64),
    /// The voltage is reset on exceeding this level: the spike belongs to the end of its step.
    Reset(f64),
}

impl SpikeShape {
    pub fn level(self) -> f64 {
        match self {
            SpikeShape::Crossing(level) | SpikeShape::Reset(level) => level,
        }
    }
}

/// The neuron model of a network population (`model = "…"` in a config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NeuronSpec {
    /// τm dv/dt = −(v − v_rest) + synaptic input + drive; stepped exactly (current synapses)
    /// or by exponential Euler (conductance synapses, which make it a conductance-based LIF).
    Lif {
        tau_m: f64,
        v_rest: f64,
        v_threshold: f64,
        v_reset: f64,
        #[serde(default)]
        refractory: f64,
    },
    /// LIF whose time constant and input gain follow waveforms of time.
    TvLif {
        tau_m: Stimulus,
        #[serde(default = "unit_gain")]
        gain: Stimulus,
        v_rest: f64,
        v_threshold: f64,
        v_reset: f64,
        #[serde(default)]
        refractory: f64,
    },
    Hh {
        #[serde(default)]
        convention: VoltageConvention,
        #[serde(default)]
        integrator: Integrator,
    },
    TvLif2hh {
        #[serde(default)]
        convention: VoltageConvention,
        #[serde(default)]
        integrator: Integrator,
    },
    Izhikevich {
        a: f64,
        b: f64,
        c: f64,
        d: f64,
        #[serde(default)]
        integrator: Integrator,
    },
    Adex {
        c: f64,
        g_l: f64,
        e_l: f64,
        v_t: f64,
        delta_t: f64,
        tau_w: f64,
        a: f64,
        b: f64,
        v_reset: f64,
        v_peak: f64,
        #[serde(default)]
        integrator: Integrator,
    },
}

fn unit_gain() -> Stimulus {
    Stimulus::Constant { value: 1.0 }
}

impl NeuronSpec {
    /// The population for every model but `Lif` (the network steps LIF with its own kernels;
    /// a single LIF neuron is a one-neuron network).
    pub fn build(&self, size: usize, key: &str) -> Result<Box<dyn PointNeurons>> {
        let named = |e: Error| e.within(key);
        Ok(match self.clone() {
            NeuronSpec::Lif { .. } => {
                return Err(Error::config(format!("{key}.model"), "LIF runs as a network population (task = \"network\"), not as a single point model"));
            }
            NeuronSpec::TvLif { tau_m, gain, v_rest, v_threshold, v_reset, refractory } => {
                tau_m.validate(&format!("{key}.tau_m"))?;
                gain.validate(&format!("{key}.gain"))?;
                let (lowest, _) = tau_m.bounds();
                if !(lowest > 0.0) {
                    return Err(Error::config(format!("{key}.tau_m"), format!("must stay positive, but reaches {lowest} ms")));
                }
                let pop = TvLifPopulation::new(TvLif { v_rest, v_threshold, v_reset, refractory }, size).map_err(named)?;
                Box::new(TimeVaryingLif { pop, tau_m, gain })
            }
            NeuronSpec::Hh { convention, integrator } => Box::new(HhPopulation::new(HhParams::standard(convention), integrator, size).map_err(named)?),
            NeuronSpec::TvLif2hh { convention, integrator } => Box::new(TvLif2HhPopulation::new(HhParams::standard(convention), integrator, size).map_err(named)?),
            NeuronSpec::Izhikevich { a, b, c, d, integrator } => Box::new(TwoVariablePopulation::new(Izhikevich { a, b, c, d }, integrator, size).map_err(named)?),
            NeuronSpec::Adex { c, g_l, e_l, v_t, delta_t, tau_w, a, b, v_reset, v_peak, integrator } => {
                let model = AdEx { c, g_l, e_l, v_t, delta_t, tau_w, a, b, v_reset, v_peak };
                model.validate().map_err(named)?;
                Box::new(TwoVariablePopulation::new(model, integrator, size).map_err(named)?)
            }
        })
    }
}

struct TimeVaryingLif {
    pop: TvLifPopulation,
    tau_m: Stimulus,
    gain: Stimulus,
}

impl PointNeurons for TimeVaryingLif {
    fn len(&self) -> usize {
        self.pop.len()
    }
    fn step(&mut self, t: f64, input: &[f64], dt: f64, spiked: &mut [bool]) {
        self.pop.step(self.tau_m.at(t), self.gain.at(t), input, dt, spiked);
    }
    fn voltage(&self, i: usize) -> f64 {
        self.pop.u[i]
    }
    fn variables(&self) -> &'static [&'static str] {
        &["v"]
    }
    fn variable(&self, _index: usize, i: usize) -> f64 {
        self.pop.u[i]
    }
    fn set_voltage(&mut self, i: usize, v: f64) {
        self.pop.u[i] = v;
    }
    fn spike_shape(&self) -> SpikeShape {
        SpikeShape::Reset(self.pop.model.v_threshold)
    }
}

impl PointNeurons for HhPopulation {
    fn len(&self) -> usize {
        self.v.len()
    }
    fn step(&mut self, _t: f64, input: &[f64], dt: f64, spiked: &mut [bool]) {
        HhPopulation::step(self, input, dt, spiked);
    }
    fn voltage(&self, i: usize) -> f64 {
        self.v[i]
    }
    fn variables(&self) -> &'static [&'static str] {
        &["v", "m", "n", "h"]
    }
    fn variable(&self, index: usize, i: usize) -> f64 {
        [&self.v, &self.m, &self.n, &self.h][index][i]
    }
    fn set_voltage(&mut self, i: usize, v: f64) {
        self.v[i] = v;
        [self.m[i], self.n[i], self.h[i]] = self.model.params.steady_gates(v);
    }
    fn spike_shape(&self) -> SpikeShape {
        SpikeShape::Crossing(self.model.params.spike_threshold)
    }
}

impl PointNeurons for TvLif2HhPopulation {
    fn len(&self) -> usize {
        self.state.len()
    }
    fn step(&mut self, _t: f64, input: &[f64], dt: f64, spiked: &mut [bool]) {
        TvLif2HhPopulation::step(self, input, dt, spiked);
    }
    fn voltage(&self, i: usize) -> f64 {
        TvLif2HhPopulation::voltage(self, i)
    }
    fn variables(&self) -> &'static [&'static str] {
        &["v", "u_na", "u_k", "u_l", "f_na", "f_k", "f_l", "u4", "m", "n", "h"]
    }
    fn variable(&self, index: usize, i: usize) -> f64 {
        if index == 0 {
            TvLif2HhPopulation::voltage(self, i)
        } else {
            self.state[i][index - 1]
        }
    }
    fn set_voltage(&mut self, i: usize, v: f64) {
        let gates = self.model.params.steady_gates(v);
        let x = &mut self.state[i];
        // V = F + u₄: the fourth unit takes up the difference, the accumulators stay.
        x[6] = v - (x[3] + x[4] + x[5]);
        x[7..].copy_from_slice(&gates);
    }
    fn spike_shape(&self) -> SpikeShape {
        SpikeShape::Crossing(self.model.params.spike_threshold)
    }
}

impl<M: TwoVariable + Send> PointNeurons for TwoVariablePopulation<M> {
    fn len(&self) -> usize {
        self.v.len()
    }
    fn step(&mut self, _t: f64, input: &[f64], dt: f64, spiked: &mut [bool]) {
        TwoVariablePopulation::step(self, input, dt, spiked);
    }
    fn voltage(&self, i: usize) -> f64 {
        self.v[i]
    }
    fn variables(&self) -> &'static [&'static str] {
        &["v", "w"]
    }
    fn variable(&self, index: usize, i: usize) -> f64 {
        [&self.v, &self.w][index][i]
    }
    fn set_voltage(&mut self, i: usize, v: f64) {
        self.v[i] = v;
    }
    fn spike_shape(&self) -> SpikeShape {
        SpikeShape::Reset(self.neuron.model.peak())
    }
}
