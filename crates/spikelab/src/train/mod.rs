//! Gradient training: losses, optimizers, schedules, and the BPTT trainer.

mod loss;
mod optim;
mod schedule;

pub use loss::{argmax, Loss, LossValue};
pub use optim::{Optimizer, OptimizerKind, OptimizerSpec};
pub use schedule::Schedule;
