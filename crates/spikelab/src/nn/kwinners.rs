//! k-winners-take-all (Ahmad & Scheinkman 2019, nupic.torch `KWinners`/`KWinners2d`): per
//! sample, the `k` units with the largest *boosted* values pass their own (unboosted) value on,
//! every other unit outputs 0; the gradient flows through the winners only.
//!
//! Boosting favours units that won less often than the target density `a = k / n`: unit i's
//! value is multiplied by `exp(β·(a − d_i))` for the selection, where `d_i` is its duty cycle
//! (a running mean of how often its output was positive) and β decays by
//! `boost_strength_factor` after every epoch. On `[C, H, W]` input the duty cycle is per
//! channel, and the competition runs over the whole volume (global) or over the channels at
//! each position (local). Each `(step, sample)` row competes on its own.

use super::{Context, Layer, Mode};
use crate::error::{Error, Result};
use crate::tensor::{Activation, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// What happens when several units tie with the k-th largest boosted value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ties {
    /// Exactly k winners; among equal values the lower index wins (the paper's top-k).
    #[default]
    ExactK,
    /// Every unit at or above the k-th value wins, so ties can give more than k winners
    /// (nupic.torch's default `break_ties = False`).
    KeepAll,
}

#[derive(Clone, Debug)]
pub struct KWinnersSettings {
    /// Winners per competition group in training.
    pub k: usize,
    /// Winners at inference (`min(round(k · k_inference_factor), group size)`).
    pub k_inference: usize,
    pub boost_strength: f32,
    pub boost_strength_factor: f32,
    pub duty_cycle_period: usize,
    /// `[C, H, W]` input: compete over the channels at each position instead of the volume.
    pub local: bool,
    pub ties: Ties,
}

#[derive(Debug)]
pub struct KWinners {
    pub settings: KWinnersSettings,
    /// Duty-cycle units (features of a flat input, channels of an image) and the positions
    /// each one covers (1 for a flat input).
    channels: usize,
    positions: usize,
    /// Running fraction of positive outputs, per channel.
    pub duty_cycle: Vec<f32>,
    /// Samples seen in training, capped at the duty-cycle period (only the minimum matters).
    learning_iterations: usize,
    /// Per element of the last training forward: 0 lost, 1 won with a value ≤ 0, 2 won > 0.
    outcome: Vec<u8>,
}

const LOST: u8 = 0;
const WON: u8 = 1;
const WON_POSITIVE: u8 = 2;

impl KWinners {
    /// `input` is the per-sample shape: `[n]` or `[C, H, W]`; `key` names the layer in errors.
    pub fn new(settings: KWinnersSettings, input: &[usize], key: &str) -> Result<Self> {
        let (channels, positions) = match *input {
            [n] => (n, 1),
            [c, h, w] => (c, h * w),
            _ => return Err(Error::Shape(format!("{key}: k-winners takes a flat [n] or an image [C, H, W] input, got {input:?}"))),
        };
        if settings.local && positions == 1 && input.len() == 1 {
            return Err(Error::config(format!("{key}.local"), "applies to [C, H, W] input only"));
        }
        let group = if settings.local { channels } else { channels * positions };
        if settings.k == 0 || settings.k > group {
            return Err(Error::config(format!("{key}.k"), format!("must be in 1..={group} (the units competing), got {}", settings.k)));
        }
        if settings.duty_cycle_period == 0 {
            return Err(Error::config(format!("{key}.duty_cycle_period"), "must be at least 1"));
        }
        for (name, v) in [("boost_strength", settings.boost_strength), ("boost_strength_factor", settings.boost_strength_factor)] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::config(format!("{key}.{name}"), format!("must be ≥ 0, got {v}")));
            }
        }
        let settings = KWinnersSettings { k_inference: settings.k_inference.clamp(1, group), ..settings };
        Ok(KWinners { settings, channels, positions, duty_cycle: vec![0.0; channels], learning_iterations: 0, outcome: Vec::new() })
    }

    fn group_size(&self) -> usize {
        if self.settings.local {
            self.channels
        } else {
            self.channels * self.positions
        }
    }

    /// `exp(β (a − d_c))` per channel with a = k / n for the k of this pass (the larger k at
    /// inference raises the target, as in the reference); 1 without boosting.
    fn boost_factors(&self, k: usize) -> Vec<f32> {
        let target = k as f32 / self.group_size() as f32;
        let beta = self.settings.boost_strength;
        self.duty_cycle.iter().map(|&d| if beta == 0.0 { 1.0 } else { (beta * (target - d)).exp() }).collect()
    }

    /// Marks the winners of one sample's values in `outcome` (same layout, channel-major).
    fn select(&self, x: &[f32], boost: &[f32], k: usize, outcome: &mut [u8], scratch: &mut Vec<(f32, u32)>) {
        let p = self.positions;
        let groups = if self.settings.local { p } else { 1 };
        let c_of = |e: usize| e / p;
        for group in 0..groups {
            scratch.clear();
            if self.settings.local {
                scratch.extend((0..self.channels).map(|c| c * p + group).map(|e| (x[e] * boost[c_of(e)], e as u32)));
            } else {
                scratch.extend(x.iter().enumerate().map(|(e, &v)| (v * boost[c_of(e)], e as u32)));
            }
            // Descending value, then ascending index: a total order, so exactly k win.
            let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if k < scratch.len() {
                scratch.select_nth_unstable_by(k - 1, order);
            }
            let kth = scratch[k - 1].0;
            let mut mark = |e: usize| outcome[e] = if x[e] > 0.0 { WON_POSITIVE } else { WON };
            match self.settings.ties {
                Ties::ExactK => scratch[..k].iter().for_each(|&(_, e)| mark(e as usize)),
                Ties::KeepAll => scratch.iter().filter(|(v, _)| v.total_cmp(&kth) != Ordering::Less).for_each(|&(_, e)| mark(e as usize)),
            }
        }
    }

    /// nupic's update after a training batch of `rows` samples:
    /// `d ← (d·(period − B) + Σ_batch 1[y > 0] / positions) / period`, period = min(P, seen).
    /// (The period is kept ≥ B so that a batch larger than P cannot make the factor negative.)
    fn update_duty_cycles(&mut self, rows: usize) {
        self.learning_iterations = (self.learning_iterations + rows).min(self.settings.duty_cycle_period.max(rows));
        let period = self.learning_iterations.min(self.settings.duty_cycle_period).max(rows) as f32;
        let mut positive = vec![0u32; self.channels];
        for sample in self.outcome.chunks(self.channels * self.positions) {
            for (c, per_channel) in sample.chunks(self.positions).enumerate() {
                positive[c] += per_channel.iter().filter(|&&o| o == WON_POSITIVE).count() as u32;
            }
        }
        let b = rows as f32;
        for (d, &n) in self.duty_cycle.iter_mut().zip(&positive) {
            *d = (*d * (period - b) + n as f32 / self.positions as f32) / period;
        }
    }
}

impl Layer for KWinners {
    fn kind(&self) -> &'static str {
        "k-winners"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let n: usize = input.iter().product();
        if n != self.channels * self.positions {
            return Err(Error::Shape(format!("k-winners was built for {} values per sample, got {input:?}", self.channels * self.positions)));
        }
        Ok(input.to_vec())
    }

    fn time_local(&self) -> bool {
        true
    }

    /// Losers output 0 and get no gradient. (A winner whose value is exactly 0 — measure zero —
    /// would get none either from a layer above that skips zero inputs.)
    fn zero_output_passes_no_gradient(&self) -> bool {
        true
    }

    fn forward(&mut self, input: Activation, ctx: &mut Context) -> Activation {
        let mut x = input.into_dense();
        let width = self.channels * self.positions;
        let rows = x.len() / width;
        let k = if ctx.mode == Mode::Eval { self.settings.k_inference } else { self.settings.k };
        let boost = self.boost_factors(k);
        let mut outcome = vec![LOST; x.len()];
        outcome.par_chunks_mut(width).zip(x.data().par_chunks(width)).for_each_init(Vec::new, |scratch, (o, row)| self.select(row, &boost, k, o, scratch));
        x.data_mut().iter_mut().zip(&outcome).for_each(|(v, &o)| {
            if o == LOST {
                *v = 0.0;
            }
        });
        if ctx.mode == Mode::Train {
            // Only the pass that backward will use updates the duty cycles (a checkpointed
            // segment's first pass runs in `TrainDiscard` and is re-run in `Train`).
            self.outcome = outcome;
            self.update_duty_cycles(rows);
        }
        Activation::Dense(x)
    }

    fn backward(&mut self, mut grad_output: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let outcome = std::mem::take(&mut self.outcome);
        assert_eq!(outcome.len(), grad_output.len(), "k-winners backward without a training forward");
        need_input_grad.then(|| {
            grad_output.data_mut().iter_mut().zip(&outcome).for_each(|(g, &o)| {
                if o == LOST {
                    *g = 0.0;
                }
            });
            grad_output
        })
    }

    fn end_epoch(&mut self) {
        self.settings.boost_strength *= self.settings.boost_strength_factor;
    }

    fn buffers(&self) -> Vec<(&'static str, Tensor)> {
        let scalar = |v: f32| Tensor::from_vec(&[1], vec![v]).expect("one value");
        vec![
            ("duty_cycle", Tensor::from_vec(&[self.channels], self.duty_cycle.clone()).expect("one per channel")),
            ("boost_strength", scalar(self.settings.boost_strength)),
            ("learning_iterations", scalar(self.learning_iterations as f32)),
        ]
    }

    fn set_buffer(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let expected = if name == "duty_cycle" { self.channels } else { 1 };
        if value.len() != expected {
            return Err(Error::Shape(format!("k-winners buffer {name} needs {expected} values, got {}", value.len())));
        }
        match name {
            "duty_cycle" => self.duty_cycle = value.data().to_vec(),
            "boost_strength" => self.settings.boost_strength = value.data()[0],
            "learning_iterations" => self.learning_iterations = value.data()[0] as usize,
            other => return Err(Error::Other(format!("k-winners has no buffer {other}"))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(k: usize) -> KWinnersSettings {
        KWinnersSettings { k, k_inference: k, boost_strength: 0.0, boost_strength_factor: 1.0, duty_cycle_period: 1000, local: false, ties: Ties::ExactK }
    }

    fn run(layer: &mut KWinners, shape: &[usize], values: Vec<f32>, mode: Mode) -> Vec<f32> {
        let mut ctx = Context::new(mode, 0);
        layer.forward(Activation::Dense(Tensor::from_vec(shape, values).unwrap()), &mut ctx).into_dense().data().to_vec()
    }

    #[test]
    fn ties_give_exactly_k_or_all_tied() {
        let x = vec![1.0, 3.0, 2.0, 3.0, 3.0, 0.5];
        let mut exact = KWinners::new(settings(2), &[6], "k").unwrap();
        assert_eq!(run(&mut exact, &[1, 1, 6], x.clone(), Mode::Eval), vec![0.0, 3.0, 0.0, 3.0, 0.0, 0.0], "lower index wins a tie");
        let mut keep = KWinners::new(KWinnersSettings { ties: Ties::KeepAll, ..settings(2) }, &[6], "k").unwrap();
        assert_eq!(run(&mut keep, &[1, 1, 6], x, Mode::Eval), vec![0.0, 3.0, 0.0, 3.0, 3.0, 0.0]);
        // Negative values win when fewer than k are positive (no ReLU in the paper's layer).
        let mut neg = KWinners::new(settings(2), &[3], "k").unwrap();
        assert_eq!(run(&mut neg, &[1, 1, 3], vec![-1.0, -3.0, 0.5], Mode::Eval), vec![-1.0, 0.0, 0.5]);
    }

    #[test]
    fn boosting_selects_by_boosted_value_but_passes_the_raw_one() {
        let mut layer = KWinners::new(KWinnersSettings { boost_strength: 2.0, ..settings(1) }, &[2], "k").unwrap();
        // Unit 0 won always, unit 1 never: target 0.5, factors e^{2(0.5−1)} = e^{-1}, e^{1}.
        layer.duty_cycle = vec![1.0, 0.0];
        assert_eq!(run(&mut layer, &[1, 1, 2], vec![1.0, 0.2], Mode::Eval), vec![0.0, 0.2], "0.2·e > 1·e⁻¹");
        assert_eq!(run(&mut layer, &[1, 1, 2], vec![1.0, 0.1], Mode::Eval), vec![1.0, 0.0], "0.1·e < 1·e⁻¹");
    }

    #[test]
    fn duty_cycles_follow_the_nupic_arithmetic() {
        let mut layer = KWinners::new(KWinnersSettings { duty_cycle_period: 4, ..settings(1) }, &[2], "k").unwrap();
        // Batch of 2: unit 0 wins twice (positive) → d = (0·(2−2) + [2, 0]) / 2 = [1, 0].
        run(&mut layer, &[1, 2, 2], vec![1.0, 0.0, 2.0, 1.0], Mode::Train);
        assert_eq!(layer.duty_cycle, vec![1.0, 0.0]);
        // Next batch: seen 4, period 4: d = ([1, 0]·2 + [0, 2]) / 4 = [0.5, 0.5].
        run(&mut layer, &[1, 2, 2], vec![0.0, 1.0, 0.0, 1.0], Mode::Train);
        assert_eq!(layer.duty_cycle, vec![0.5, 0.5]);
        // A winner with a negative value does not count: d = ([.5, .5]·2 + [0, 0]) / 4.
        run(&mut layer, &[1, 2, 2], vec![-1.0, -2.0, -1.0, -2.0], Mode::Train);
        assert_eq!(layer.duty_cycle, vec![0.25, 0.25]);
        // Evaluation leaves them alone.
        run(&mut layer, &[1, 2, 2], vec![1.0, 0.0, 1.0, 0.0], Mode::Eval);
        assert_eq!(layer.duty_cycle, vec![0.25, 0.25]);
    }

    #[test]
    fn images_compete_globally_or_per_position_with_channel_duty_cycles() {
        // 2 channels × 2 positions: channel 0 = [5, 1], channel 1 = [4, 3].
        let x = vec![5.0, 1.0, 4.0, 3.0];
        let mut global = KWinners::new(settings(2), &[2, 1, 2], "k").unwrap();
        assert_eq!(run(&mut global, &[1, 1, 2, 1, 2], x.clone(), Mode::Train), vec![5.0, 0.0, 4.0, 0.0]);
        // One winning position of two per channel: duty (0 + 1/2) / 1.
        assert_eq!(global.duty_cycle, vec![0.5, 0.5]);
        let mut local = KWinners::new(KWinnersSettings { local: true, ..settings(1) }, &[2, 1, 2], "k").unwrap();
        assert_eq!(run(&mut local, &[1, 1, 2, 1, 2], x, Mode::Train), vec![5.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn inference_k_gradient_and_boost_decay() {
        let s = KWinnersSettings { k_inference: 3, boost_strength: 1.5, boost_strength_factor: 0.5, ..settings(2) };
        let mut layer = KWinners::new(s, &[4], "k").unwrap();
        let x = vec![4.0, 3.0, 2.0, 1.0];
        assert_eq!(run(&mut layer, &[1, 1, 4], x.clone(), Mode::Eval).iter().filter(|v| **v != 0.0).count(), 3);
        let mut fresh = KWinners::new(KWinnersSettings { boost_strength: 0.0, ..layer.settings.clone() }, &[4], "k").unwrap();
        run(&mut fresh, &[1, 1, 4], x, Mode::Train);
        let g = fresh.backward(Tensor::from_vec(&[1, 1, 4], vec![1.0; 4]).unwrap(), true).unwrap();
        assert_eq!(g.data(), &[1.0, 1.0, 0.0, 0.0]);
        layer.end_epoch();
        layer.end_epoch();
        assert_eq!(layer.settings.boost_strength, 0.375);
    }

    #[test]
    fn bad_settings_are_named() {
        let err = KWinners::new(settings(7), &[6], "model.layers[4]").unwrap_err().to_string();
        assert!(err.contains("model.layers[4].k"), "{err}");
        let err = KWinners::new(KWinnersSettings { local: true, ..settings(1) }, &[6], "model.layers[4]").unwrap_err().to_string();
        assert!(err.contains("local"), "{err}");
        let err = KWinners::new(KWinnersSettings { boost_strength: -1.0, ..settings(1) }, &[6], "m").unwrap_err().to_string();
        assert!(err.contains("boost_strength"), "{err}");
    }
}
