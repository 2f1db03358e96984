//! Simulation of biological neuron models: stimuli, single-neuron runs and the comparisons of
//! the internal-complexity experiments. (The network simulator — populations, projections,
//! delays, monitors — is to come; DESIGN §2.)

mod single;
mod stimulus;

pub use single::{agreement, check_time, matched_spikes, simulate, spike_time_difference, Agreement, SingleNeuron, Trace};
pub use stimulus::Stimulus;
