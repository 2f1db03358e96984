//! Simulation of biological neuron models: stimuli, single-neuron runs and the comparisons of
//! the internal-complexity experiments; a clock-driven network simulator of LIF populations with
//! current or conductance synapses, CSR projections and delays (`network`).

mod monitor;
mod network;
mod protocol;
mod single;
mod stimulus;

pub use single::{agreement, check_time, matched_spikes, simulate, spike_time_difference, Agreement, SingleNeuron, Trace};
pub use monitor::{Monitor, RecordSpec, Recording, SpikeRecord, VoltageRecord};
pub use network::{Channel, Connectivity, Network, NetworkSpec, PopulationSpec, Pre, Projection, ProjectionSpec, SourceSpec, SourceSpikes, SynapseModel};
pub use protocol::{hh_two_layer, slif2hh_two_layer, timing_error, TimingError};
pub use stimulus::Stimulus;
