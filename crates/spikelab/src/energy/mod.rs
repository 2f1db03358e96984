//! Operation counting and the energy estimate built on it.
//!
//! Every kernel reports what it did: dense multiply-accumulates (a dense input times a weight),
//! spike-driven accumulates (a weight added because an input spiked) and neuron updates.
//! `EnergyModel` turns counts into picojoules with a per-operation table; the default is the
//! 45 nm CMOS figures (Horowitz, ISSCC 2014) used throughout the SNN literature.

use serde::{Deserialize, Serialize};

pub mod training_cost;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub dense_mac: u64,
    pub sparse_ac: u64,
    pub neuron_updates: u64,
}

impl OpCounts {
    pub fn add(&mut self, other: &OpCounts) {
        self.dense_mac += other.dense_mac;
        self.sparse_ac += other.sparse_ac;
        self.neuron_updates += other.neuron_updates;
    }

    /// Counts divided by `n` (per sample).
    pub fn per(&self, n: u64) -> OpCounts {
        let n = n.max(1);
        OpCounts { dense_mac: self.dense_mac / n, sparse_ac: self.sparse_ac / n, neuron_updates: self.neuron_updates / n }
    }
}

/// Picojoules per operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyModel {
    /// 32-bit floating-point multiply-accumulate (45 nm: 3.7 pJ multiply + 0.9 pJ add).
    pub pj_per_mac: f64,
    /// 32-bit floating-point add.
    pub pj_per_ac: f64,
    /// One neuron update: a leak multiply-accumulate plus a threshold comparison (an add).
    pub pj_per_neuron_update: f64,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel { pj_per_mac: 4.6, pj_per_ac: 0.9, pj_per_neuron_update: 4.6 + 0.9 }
    }
}

impl EnergyModel {
    pub fn picojoules(&self, ops: &OpCounts) -> f64 {
        ops.dense_mac as f64 * self.pj_per_mac + ops.sparse_ac as f64 * self.pj_per_ac + ops.neuron_updates as f64 * self.pj_per_neuron_update
    }
}

/// The machine's own package energy counter (Linux powercap / Intel RAPL), where readable.
pub struct PowercapMeter {
    path: std::path::PathBuf,
    start_uj: u64,
}

impl PowercapMeter {
    const COUNTER: &'static str = "/sys/class/powercap/intel-rapl:0/energy_uj";

    /// Starts measuring; `None` when the counter does not exist or cannot be read.
    pub fn start() -> Option<Self> {
        let path = std::path::PathBuf::from(Self::COUNTER);
        let start_uj = std::fs::read_to_string(&path).ok()?.trim().parse().ok()?;
        Some(PowercapMeter { path, start_uj })
    }

    /// Joules used by the whole package since `start` (counter wrap-around ignored).
    pub fn joules(&self) -> Option<f64> {
        let now: u64 = std::fs::read_to_string(&self.path).ok()?.trim().parse().ok()?;
        Some(now.saturating_sub(self.start_uj) as f64 * 1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_is_the_weighted_sum_of_counts() {
        let ops = OpCounts { dense_mac: 10, sparse_ac: 100, neuron_updates: 2 };
        let e = EnergyModel::default().picojoules(&ops);
        assert!((e - (46.0 + 90.0 + 11.0)).abs() < 1e-9);
        assert_eq!(ops.per(2), OpCounts { dense_mac: 5, sparse_ac: 50, neuron_updates: 1 });
    }
}
