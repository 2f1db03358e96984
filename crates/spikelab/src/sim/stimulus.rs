//! Input currents over time (µA/cm² for the biophysical models, t in ms): the waveforms of the
//! internal-complexity protocol (`../shared/docs/reference/internal-complexity.md` §3), steps,
//! constants and arbitrary series.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Stimulus {
    Constant {
        value: f64,
    },
    /// `before` until time `at`, then `after`.
    Step {
        before: f64,
        after: f64,
        at: f64,
    },
    /// offset − amplitude·sign(mod(⌊t⌋, period) − (period − 1)/2 − 0.001): the reference
    /// code's square wave (offset 9, amplitude 15.5, period 8.5 there).
    Square {
        offset: f64,
        amplitude: f64,
        period: f64,
    },
    /// offset − amplitude·sin(omega·t) (reference: 11.5, 19, 1.2 rad/ms).
    Sine {
        offset: f64,
        amplitude: f64,
        omega: f64,
    },
    /// offset + (amplitude/period)·|mod(t, period) − period/2| (reference: 7, 7, 8.5).
    Triangle {
        offset: f64,
        amplitude: f64,
        period: f64,
    },
    /// offset + (amplitude/period)·(mod(t, period) + period/2) (reference: 6.5, 11, 8.5).
    Sawtooth {
        offset: f64,
        amplitude: f64,
        period: f64,
    },
    /// `values[k]` during [k·dt, (k+1)·dt); the last value after the end.
    Series {
        dt: f64,
        values: Vec<f64>,
    },
}

impl Stimulus {
    /// The current at time `t` (ms).
    pub fn at(&self, t: f64) -> f64 {
        match *self {
            Stimulus::Constant { value } => value,
            Stimulus::Step { before, after, at } => {
                if t < at {
                    before
                } else {
                    after
                }
            }
            Stimulus::Square { offset, amplitude, period } => offset - amplitude * (t.floor().rem_euclid(period) - (period - 1.0) / 2.0 - 0.001).signum(),
            Stimulus::Sine { offset, amplitude, omega } => offset - amplitude * (omega * t).sin(),
            Stimulus::Triangle { offset, amplitude, period } => offset + amplitude / period * (t.rem_euclid(period) - period / 2.0).abs(),
            Stimulus::Sawtooth { offset, amplitude, period } => offset + amplitude / period * (t.rem_euclid(period) + period / 2.0),
            Stimulus::Series { dt, ref values } => {
                let k = ((t / dt).floor().max(0.0) as usize).min(values.len().saturating_sub(1));
                values.get(k).copied().unwrap_or(0.0)
            }
        }
    }

    /// The same waveform with its offset moved by `shift` and its amplitude (the size of its
    /// variation) multiplied by `scale`: for constants, steps and series, every value v becomes
    /// v·scale + shift.
    pub fn shifted(&self, shift: f64, scale: f64) -> Stimulus {
        match self.clone() {
            Stimulus::Constant { value } => Stimulus::Constant { value: value * scale + shift },
            Stimulus::Step { before, after, at } => Stimulus::Step { before: before * scale + shift, after: after * scale + shift, at },
            Stimulus::Square { offset, amplitude, period } => Stimulus::Square { offset: offset + shift, amplitude: amplitude * scale, period },
            Stimulus::Sine { offset, amplitude, omega } => Stimulus::Sine { offset: offset + shift, amplitude: amplitude * scale, omega },
            Stimulus::Triangle { offset, amplitude, period } => Stimulus::Triangle { offset: offset + shift, amplitude: amplitude * scale, period },
            Stimulus::Sawtooth { offset, amplitude, period } => Stimulus::Sawtooth { offset: offset + shift, amplitude: amplitude * scale, period },
            Stimulus::Series { dt, values } => Stimulus::Series { dt, values: values.iter().map(|v| v * scale + shift).collect() },
        }
    }

    /// The kind, for reports (`square`, `sine`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Stimulus::Constant { .. } => "constant",
            Stimulus::Step { .. } => "step",
            Stimulus::Square { .. } => "square",
            Stimulus::Sine { .. } => "sine",
            Stimulus::Triangle { .. } => "triangle",
            Stimulus::Sawtooth { .. } => "sawtooth",
            Stimulus::Series { .. } => "series",
        }
    }

    /// The smallest and largest values the waveform can take (over all t ≥ 0 for steps; over
    /// whole periods for the periodic waves, whose extremes are reached or approached).
    pub fn bounds(&self) -> (f64, f64) {
        let ordered = |a: f64, b: f64| (a.min(b), a.max(b));
        match *self {
            Stimulus::Constant { value } => (value, value),
            Stimulus::Step { before, after, at } => {
                if at <= 0.0 {
                    (after, after)
                } else {
                    ordered(before, after)
                }
            }
            Stimulus::Square { offset, amplitude, .. } | Stimulus::Sine { offset, amplitude, .. } => ordered(offset - amplitude, offset + amplitude),
            // (amplitude/period)·|x − period/2| over x in [0, period): from 0 to amplitude/2.
            Stimulus::Triangle { offset, amplitude, .. } => ordered(offset, offset + amplitude / 2.0),
            // (amplitude/period)·(x + period/2) over x in [0, period): amplitude/2 to 3·amplitude/2.
            Stimulus::Sawtooth { offset, amplitude, .. } => ordered(offset + amplitude / 2.0, offset + 1.5 * amplitude),
            Stimulus::Series { ref values, .. } => values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v))),
        }
    }

    pub fn validate(&self, key: &str) -> Result<()> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::config(format!("{key}.{name}"), format!("must be finite, got {v}")))
            }
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(format!("{key}.{name}"), format!("must be positive, got {v}")))
            }
        };
        match *self {
            Stimulus::Constant { value } => finite("value", value),
            Stimulus::Step { before, after, at } => finite("before", before).and(finite("after", after)).and(finite("at", at)),
            Stimulus::Square { offset, amplitude, period } | Stimulus::Triangle { offset, amplitude, period } | Stimulus::Sawtooth { offset, amplitude, period } => {
                finite("offset", offset).and(finite("amplitude", amplitude)).and(positive("period", period))
            }
            Stimulus::Sine { offset, amplitude, omega } => finite("offset", offset).and(finite("amplitude", amplitude)).and(finite("omega", omega)),
            Stimulus::Series { dt, ref values } => {
                positive("dt", dt)?;
                if values.is_empty() {
                    return Err(Error::config(format!("{key}.values"), "needs at least one value"));
                }
                values.iter().try_for_each(|&v| finite("values", v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference waveforms hit the ranges the reference document states.
    #[test]
    fn reference_waveforms_have_their_documented_ranges() {
        let range = |s: &Stimulus| {
            let v: Vec<f64> = (0..80_000).map(|k| s.at(k as f64 * 0.001)).collect();
            (v.iter().cloned().fold(f64::INFINITY, f64::min), v.iter().cloned().fold(f64::NEG_INFINITY, f64::max))
        };
        let close = |(lo, hi): (f64, f64), (a, b): (f64, f64)| (lo - a).abs() < 0.01 && (hi - b).abs() < 0.01;
        assert!(close(range(&Stimulus::Square { offset: 9.0, amplitude: 15.5, period: 8.5 }), (-6.5, 24.5)));
        assert!(close(range(&Stimulus::Sine { offset: 11.5, amplitude: 19.0, omega: 1.2 }), (-7.5, 30.5)));
        assert!(close(range(&Stimulus::Triangle { offset: 7.0, amplitude: 7.0, period: 8.5 }), (7.0, 10.5)));
        assert!(close(range(&Stimulus::Sawtooth { offset: 6.5, amplitude: 11.0, period: 8.5 }), (12.0, 23.0)));
        // `bounds` gives the same ranges without sampling.
        for s in [
            Stimulus::Square { offset: 9.0, amplitude: 15.5, period: 8.5 },
            Stimulus::Sine { offset: 11.5, amplitude: 19.0, omega: 1.2 },
            Stimulus::Triangle { offset: 7.0, amplitude: 7.0, period: 8.5 },
            Stimulus::Sawtooth { offset: 6.5, amplitude: 11.0, period: 8.5 },
            Stimulus::Sawtooth { offset: 6.5, amplitude: -11.0, period: 8.5 },
            Stimulus::Step { before: 3.0, after: -1.0, at: 10.0 },
            Stimulus::Series { dt: 1.0, values: vec![2.0, -4.0, 7.0] },
        ] {
            assert!(close(range(&s), s.bounds()), "{s:?}: sampled {:?}, bounds {:?}", range(&s), s.bounds());
        }
        // Square: high while mod(⌊t⌋, 8.5) < 3.75.
        let sq = Stimulus::Square { offset: 9.0, amplitude: 15.5, period: 8.5 };
        assert_eq!((sq.at(0.5), sq.at(3.9), sq.at(4.2), sq.at(8.4)), (24.5, 24.5, -6.5, -6.5));
        let series = Stimulus::Series { dt: 1.0, values: vec![1.0, 2.0] };
        assert_eq!((series.at(0.2), series.at(1.5), series.at(7.0), series.at(-1.0)), (1.0, 2.0, 2.0, 1.0));
    }

    #[test]
    fn bad_stimuli_name_their_key() {
        let err = Stimulus::Square { offset: 0.0, amplitude: 1.0, period: -2.0 }.validate("inputs[0]").unwrap_err().to_string();
        assert!(err.contains("inputs[0].period"), "{err}");
        let err = Stimulus::Series { dt: 0.1, values: vec![] }.validate("s").unwrap_err().to_string();
        assert!(err.contains("s.values"), "{err}");
    }
}
