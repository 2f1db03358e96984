//! Optimizers: SGD (momentum, weight decay), Adam (L2 weight decay) and AdamW (decoupled).

use crate::error::{Error, Result};
use crate::nn::Param;
use crate::tensor::Tensor;
use multiversion::multiversion;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Elements per parallel chunk of an update (element-wise, so any split gives the same result).
const CHUNK: usize = 1 << 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSpec {
    pub kind: OptimizerKind,
    pub lr: f32,
    #[serde(default)]
    pub momentum: f32,
    #[serde(default)]
    pub weight_decay: f32,
    #[serde(default = "default_betas")]
    pub betas: (f32, f32),
    #[serde(default = "default_eps")]
    pub eps: f32,
}

fn default_betas() -> (f32, f32) {
    (0.9, 0.999)
}
fn default_eps() -> f32 {
    1e-8
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        OptimizerSpec { kind: OptimizerKind::Adam, lr: 1e-3, momentum: 0.0, weight_decay: 0.0, betas: default_betas(), eps: default_eps() }
    }
}

impl OptimizerSpec {
    pub fn validate(&self) -> Result<()> {
        let check = |key: &str, ok: bool, v: f32| if ok { Ok(()) } else { Err(Error::config(format!("train.optimizer.{key}"), format!("out of range: {v}"))) };
        check("lr", self.lr.is_finite() && self.lr > 0.0, self.lr)?;
        check("momentum", (0.0..1.0).contains(&self.momentum), self.momentum)?;
        check("weight_decay", self.weight_decay.is_finite() && self.weight_decay >= 0.0, self.weight_decay)?;
        check("betas", (0.0..1.0).contains(&self.betas.0), self.betas.0)?;
        check("betas", (0.0..1.0).contains(&self.betas.1), self.betas.1)?;
        check("eps", self.eps > 0.0, self.eps)?;
        if self.momentum != 0.0 && self.kind != OptimizerKind::Sgd {
            return Err(Error::config("train.optimizer.momentum", "only applies to sgd (Adam's is `betas`)"));
        }
        Ok(())
    }
}

/// An optimizer with its per-parameter state (momentum buffer; Adam moments).
#[derive(Clone, Debug)]
pub struct Optimizer {
    pub spec: OptimizerSpec,
    /// Updates applied so far (Adam's bias correction depends on it).
    pub steps: u64,
    /// Per parameter: `[momentum]` for SGD, `[m, v]` for Adam/AdamW; created on first use.
    pub state: Vec<Vec<Tensor>>,
    /// Per row-sparse parameter: the rows with non-zero state. Only these can change: a row
    /// with zero gradient and zero state stays put under SGD and Adam alike (without weight
    /// decay), so skipping the others is exact. Rebuilt from `state` when empty.
    live: Vec<Option<LiveRows>>,
}

#[derive(Clone, Debug, Default)]
struct LiveRows {
    flag: Vec<bool>,
    list: Vec<u32>,
}

impl LiveRows {
    fn add(&mut self, row: u32) {
        if !std::mem::replace(&mut self.flag[row as usize], true) {
            self.list.push(row);
        }
    }

    /// No live row among those of `p` (fresh, all-zero state).
    fn none(p: &Param, row_len: usize) -> Self {
        LiveRows { flag: vec![false; p.value.len() / row_len], list: Vec::new() }
    }

    /// Rows of `p` where any state tensor is non-zero (a restored optimizer).
    fn from_state(p: &Param, row_len: usize, state: &[Tensor]) -> Self {
        let mut live = LiveRows::none(p, row_len);
        for r in 0..live.flag.len() {
            if state.iter().any(|t| t.data()[r * row_len..(r + 1) * row_len].iter().any(|&v| v != 0.0)) {
                live.add(r as u32);
            }
        }
        live
    }
}

impl Optimizer {
    pub fn new(spec: OptimizerSpec) -> Self {
        Optimizer { spec, steps: 0, state: Vec::new(), live: Vec::new() }
    }

    /// Names of the state tensors of each parameter.
    pub fn state_names(&self) -> &'static [&'static str] {
        match self.spec.kind {
            OptimizerKind::Sgd => &["momentum"],
            OptimizerKind::Adam | OptimizerKind::Adamw => &["m", "v"],
        }
    }

    /// Applies one update with learning rate `lr` to every parameter from its `grad`.
    pub fn step(&mut self, params: &mut [&mut Param], lr: f32) {
        if self.state.is_empty() {
            let n = self.state_names().len();
            self.state = params.iter().map(|p| (0..n).map(|_| Tensor::zeros(p.value.shape())).collect()).collect();
            // Fresh state is all zeros: no row is live (and scanning would touch every page).
            self.live = params.iter().map(|p| p.rows.as_ref().map(|r| LiveRows::none(p, r.row_len))).collect();
        }
        assert_eq!(self.state.len(), params.len(), "optimizer used with a different parameter set");
        if self.live.len() != params.len() {
            self.live = params.iter().zip(&self.state).map(|(p, state)| p.rows.as_ref().map(|r| LiveRows::from_state(p, r.row_len, state))).collect();
        }
        self.steps += 1;
        let s = &self.spec;
        let (b1, b2) = s.betas;
        let (c1, c2) = (1.0 - b1.powi(self.steps as i32), 1.0 - b2.powi(self.steps as i32));
        for ((p, state), live) in params.iter_mut().zip(&mut self.state).zip(&mut self.live) {
            let wd = if p.decays { s.weight_decay } else { 0.0 };
            let rule = AdamRule { lr, wd, b1, b2, c1, c2, eps: s.eps, decoupled: s.kind == OptimizerKind::Adamw };
            if let (Some(rows), Some(live), 0.0) = (&mut p.rows, live.as_mut(), wd) {
                rows.grad_rows.iter().for_each(|&r| live.add(r));
                let n = rows.row_len;
                let (value, grad) = (p.value.data_mut(), p.grad.data());
                for &r in &live.list {
                    let span = r as usize * n..(r as usize + 1) * n;
                    match s.kind {
                        OptimizerKind::Sgd => sgd_update(&mut value[span.clone()], &grad[span.clone()], &mut state[0].data_mut()[span], lr, 0.0, s.momentum),
                        OptimizerKind::Adam | OptimizerKind::Adamw => {
                            let [m, v] = &mut state[..] else { unreachable!() };
                            adam_update(&rule, &mut value[span.clone()], &grad[span.clone()], &mut m.data_mut()[span.clone()], &mut v.data_mut()[span]);
                        }
                    }
                }
                rows.updated_rows = Some(live.list.clone());
                continue;
            }
            if let Some(rows) = &mut p.rows {
                rows.updated_rows = None;
            }
            let (value, grad) = (p.value.data_mut(), p.grad.data());
            match s.kind {
                OptimizerKind::Sgd => {
                    let buf = state[0].data_mut();
                    value.par_chunks_mut(CHUNK).zip(grad.par_chunks(CHUNK)).zip(buf.par_chunks_mut(CHUNK)).for_each(|((w, g), m)| {
                        sgd_update(w, g, m, lr, wd, s.momentum);
                    });
                }
                OptimizerKind::Adam | OptimizerKind::Adamw => {
                    let [m, v] = &mut state[..] else { unreachable!() };
                    let chunks = value.par_chunks_mut(CHUNK).zip(grad.par_chunks(CHUNK));
                    chunks.zip(m.data_mut().par_chunks_mut(CHUNK)).zip(v.data_mut().par_chunks_mut(CHUNK)).for_each(|(((w, g), m), v)| {
                        adam_update(&rule, w, g, m, v);
                    });
                }
            }
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn sgd_update(w: &mut [f32], g: &[f32], m: &mut [f32], lr: f32, wd: f32, momentum: f32) {
    for ((w, &g), m) in w.iter_mut().zip(g).zip(m) {
        let g = g + wd * *w;
        *m = momentum * *m + g;
        *w -= lr * *m;
    }
}

/// Adam's constants for one step (c1, c2: the bias corrections).
struct AdamRule {
    lr: f32,
    wd: f32,
    b1: f32,
    b2: f32,
    c1: f32,
    c2: f32,
    eps: f32,
    decoupled: bool,
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn adam_update(r: &AdamRule, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
        let g = if r.decoupled { g } else { g + r.wd * *w };
        *m = r.b1 * *m + (1.0 - r.b1) * g;
        *v = r.b2 * *v + (1.0 - r.b2) * g * g;
        if r.decoupled {
            *w -= r.lr * r.wd * *w;
        }
        *w -= r.lr * (*m / r.c1) / ((*v / r.c2).sqrt() + r.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(w: f32, g: f32) -> Param {
        let mut p = Param::new("w", Tensor::full(&[1], w), true);
        p.grad = Tensor::full(&[1], g);
        p
    }

    #[test]
    fn sgd_momentum_and_weight_decay_by_hand() {
        let mut opt = Optimizer::new(OptimizerSpec { kind: OptimizerKind::Sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.5, ..Default::default() });
        let mut p = param(1.0, 2.0);
        opt.step(&mut [&mut p], 0.1);
        // g = 2 + 0.5·1 = 2.5; m = 2.5; w = 1 − 0.25
        assert!((p.value.data()[0] - 0.75).abs() < 1e-6);
        opt.step(&mut [&mut p], 0.1);
        // g = 2 + 0.375 = 2.375; m = 0.9·2.5 + 2.375 = 4.625; w = 0.75 − 0.4625
        assert!((p.value.data()[0] - 0.2875).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_moves_by_lr_and_adamw_decays_separately() {
        let mut adam = Optimizer::new(OptimizerSpec { lr: 0.01, ..Default::default() });
        let mut p = param(1.0, 3.0);
        adam.step(&mut [&mut p], 0.01);
        // Bias-corrected first step: m̂/√v̂ = g/|g| = 1.
        assert!((p.value.data()[0] - 0.99).abs() < 1e-6, "{}", p.value.data()[0]);
        let mut adamw = Optimizer::new(OptimizerSpec { kind: OptimizerKind::Adamw, lr: 0.01, weight_decay: 0.1, ..Default::default() });
        let mut q = param(1.0, 3.0);
        adamw.step(&mut [&mut q], 0.01);
        assert!((q.value.data()[0] - (1.0 - 0.001 - 0.01)).abs() < 1e-6);
    }

    #[test]
    fn row_sparse_updates_equal_dense_updates() {
        for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
            let spec = OptimizerSpec { kind, lr: 0.1, momentum: if kind == OptimizerKind::Sgd { 0.9 } else { 0.0 }, ..Default::default() };
            let (mut dense, mut sparse) = (Optimizer::new(spec.clone()), Optimizer::new(spec));
            let init = Tensor::from_vec(&[4, 3], (0..12).map(|i| i as f32 * 0.1).collect()).unwrap();
            let mut a = Param::new("w", init.clone(), true);
            let mut b = Param::row_sparse("w", init, true, 3);
            // Gradient in row 1, then row 3, then nothing: momentum keeps both rows moving.
            for rows in [vec![1u32], vec![3], vec![]] {
                a.zero_grad();
                b.zero_grad();
                for &r in &rows {
                    for c in 0..3 {
                        a.grad.data_mut()[r as usize * 3 + c] = 1.0 + c as f32;
                        b.grad.data_mut()[r as usize * 3 + c] = 1.0 + c as f32;
                    }
                }
                b.rows.as_mut().unwrap().grad_rows = rows;
                dense.step(&mut [&mut a], 0.1);
                sparse.step(&mut [&mut b], 0.1);
                assert_eq!(a.value.data(), b.value.data(), "{kind:?}");
            }
            assert_eq!(b.rows.as_ref().unwrap().updated_rows, Some(vec![1, 3]));
            // A restored optimizer finds its live rows in the state.
            let mut restored = Optimizer::new(sparse.spec.clone());
            restored.state = sparse.state.clone();
            restored.steps = sparse.steps;
            b.zero_grad();
            restored.step(&mut [&mut b], 0.1);
            assert_eq!(b.rows.as_ref().unwrap().updated_rows, Some(vec![1, 3]));
        }
    }

    #[test]
    fn biases_are_not_decayed() {
        let mut opt = Optimizer::new(OptimizerSpec { kind: OptimizerKind::Sgd, lr: 0.1, weight_decay: 1.0, ..Default::default() });
        let mut b = Param::new("bias", Tensor::full(&[1], 1.0), false);
        opt.step(&mut [&mut b], 0.1);
        assert_eq!(b.value.data()[0], 1.0);
    }
}
