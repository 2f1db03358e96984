//! Gradient training: losses, optimizers, schedules, and the BPTT trainer.

pub mod continual;
mod loss;
mod optim;
mod schedule;
mod trainer;

pub use loss::{argmax, Loss, LossValue};
pub use optim::{Optimizer, OptimizerKind, OptimizerSpec};
pub use schedule::Schedule;
pub use trainer::{BatchProgress, EpochReport, EvalReport, TrainSettings, Trainer};
