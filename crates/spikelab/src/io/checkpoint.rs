//! Checkpoints in the safetensors format: every parameter (`model.layers.{i}.{name}`), every
//! optimizer state tensor (`optimizer.layers.{i}.{name}.{state}`), every layer buffer
//! (`buffer.layers.{i}.{name}`, e.g. k-winners duty cycles), and in the metadata the
//! run's configuration, the completed epoch count and the optimizer's step count.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::train::Trainer;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub const CHECKPOINT_FORMAT: &str = "spikelab-checkpoint-1";

#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// Captures the trainer's parameters and optimizer state; `config` is the run's config text.
    pub fn capture(trainer: &Trainer, config: &str) -> Self {
        let mut tensors = BTreeMap::new();
        let named = trainer.net.named_params();
        for (name, p) in &named {
            tensors.insert(format!("model.{name}"), p.value.clone());
        }
        for (name, t) in trainer.net.named_buffers() {
            tensors.insert(format!("buffer.{name}"), t);
        }
        let opt = &trainer.optimizer;
        for ((name, _), state) in named.iter().zip(&opt.state) {
            for (label, t) in opt.state_names().iter().zip(state) {
                tensors.insert(format!("optimizer.{name}.{label}"), t.clone());
            }
        }
        let metadata = BTreeMap::from([
            ("format".to_string(), CHECKPOINT_FORMAT.to_string()),
            ("config".to_string(), config.to_string()),
            ("epoch".to_string(), trainer.epochs_done.to_string()),
            ("optimizer_steps".to_string(), opt.steps.to_string()),
        ]);
        Checkpoint { tensors, metadata }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let views: Vec<(String, TensorView<'_>)> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let bytes = bytemuck_f32(t.data());
                TensorView::new(Dtype::F32, t.shape().to_vec(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Other(format!("checkpoint: {e}")))?;
        let metadata: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        safetensors::tensor::serialize(views, &Some(metadata)).map_err(|e| Error::Other(format!("checkpoint: {e}")))
    }

    /// Writes atomically (temporary file, sync, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        super::write_atomic(path, &self.to_bytes()?)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |m: String| Error::format(path, 0, m);
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file: {e:?}")))?;
        let metadata: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().collect();
        if metadata.get("format").map(String::as_str) != Some(CHECKPOINT_FORMAT) {
            return Err(bad(format!("not a spikelab checkpoint (format {:?})", metadata.get("format"))));
        }
        let file = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("corrupt safetensors data: {e:?}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("tensor {name} has dtype {:?}, expected F32", view.dtype())));
            }
            let values = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            tensors.insert(name, Tensor::from_vec(view.shape(), values)?);
        }
        Ok(Checkpoint { tensors, metadata })
    }

    pub fn config(&self) -> &str {
        self.metadata.get("config").map_or("", String::as_str)
    }

    pub fn epoch(&self) -> usize {
        self.metadata.get("epoch").and_then(|e| e.parse().ok()).unwrap_or(0)
    }

    /// Loads parameters (and optimizer state, when present) into `trainer`, checking that every
    /// tensor is there with the right shape.
    pub fn restore(&self, trainer: &mut Trainer) -> Result<()> {
        let names: Vec<String> = trainer.net.named_params().into_iter().map(|(n, _)| n).collect();
        let mut states = Vec::new();
        for (name, p) in names.iter().zip(trainer.net.params_mut()) {
            let t = self.tensors.get(&format!("model.{name}")).ok_or_else(|| Error::Other(format!("checkpoint has no tensor model.{name}")))?;
            if t.shape() != p.value.shape() {
                return Err(Error::Shape(format!("checkpoint model.{name} is {:?}, the model needs {:?}", t.shape(), p.value.shape())));
            }
            p.value = t.clone();
            if let Some(rows) = &mut p.rows {
                rows.updated_rows = None;
            }
            let state: Option<Vec<Tensor>> = trainer.optimizer.state_names().iter().map(|label| self.tensors.get(&format!("optimizer.{name}.{label}")).cloned()).collect();
            states.push(state);
        }
        for (name, _) in trainer.net.named_buffers() {
            let t = self.tensors.get(&format!("buffer.{name}")).ok_or_else(|| Error::Other(format!("checkpoint has no tensor buffer.{name}")))?;
            trainer.net.set_buffer(&name, t)?;
        }
        trainer.net.params_updated();
        if states.iter().all(Option::is_some) && !states.is_empty() {
            trainer.optimizer.state = states.into_iter().map(Option::unwrap).collect();
            trainer.optimizer.steps = self.metadata.get("optimizer_steps").and_then(|s| s.parse().ok()).unwrap_or(0);
        }
        trainer.epochs_done = self.epoch();
        Ok(())
    }
}

fn bytemuck_f32(values: &[f32]) -> &[u8] {
    // SAFETY: f32 has no invalid bit patterns and no padding; u8 has alignment 1, and the
    // length is the same memory span. safetensors stores little-endian, which this assumes.
    #[cfg(target_endian = "little")]
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}
