//! Simulation of biological neuron models: stimuli, single-neuron runs and the comparisons of
//! the internal-complexity experiments; a clock-driven network simulator of populations of any
//! point-neuron model with current or conductance synapses, CSR projections, delays and
//! plasticity hooks (`network`, `point`).

mod connect;
mod monitor;
mod network;
mod point;
mod protocol;
mod single;
mod stimulus;

pub use connect::Connectivity;
pub use monitor::{summarize_weights, Monitor, RecordSpec, Recording, SpikeRecord, StateRecord, StateTrace, StpRecord, VoltageRecord, WeightRecord, WeightSummary};
pub use network::{Channel, Network, NetworkSpec, PopulationSpec, Pre, Projection, ProjectionSpec, SourceSpec, SourceSpikes, SynapseModel, WeightInit};
pub use point::{NeuronSpec, PointNeurons, SpikeShape};
pub use protocol::{hh_two_layer, slif2hh_two_layer, timing_error, TimingError};
pub use single::{agreement, check_time, matched_spikes, simulate, spike_time_difference, Agreement, Trace};
pub use stimulus::Stimulus;
