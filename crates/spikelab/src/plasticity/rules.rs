//! Base weight-change rules on the states of two relaxation phases (free and nudged), as the
//! SBP reference uses them (`../shared/docs/reference/sbp.md` §2.4). States are batch × units,
//! row-major; a change is pre × post, the layout of the weights it updates:
//!
//!   symmetric (equilibrium propagation): (s_preᵝᵀ s_postᵝ − s_preᵀ s_post) / (βB)
//!   differential:                        (s_preᵝ − s_pre)ᵀ s_post / (βB)
//!   post-difference (the SBP base rule): s_preᵀ (s_postᵝ − s_post) / (βB)

use crate::tensor::{matmul, Transpose};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseRule {
    /// The equilibrium-propagation rule; the paper's baseline without SBP ("BBT").
    Symmetric,
    /// Pre-synaptic nudge × free post-synaptic activity (zero onto a clamped input).
    Differential,
    /// Free pre-synaptic activity × post-synaptic nudge: the rule SBP modulates.
    PostDifference,
}

/// The two phases' states of one layer: free and nudged, each batch × units.
#[derive(Clone, Copy)]
pub struct Phases<'a> {
    pub free: &'a [f32],
    pub nudged: &'a [f32],
}

impl BaseRule {
    /// ΔW (n_pre × n_post) from the states of the layers on both sides of the weights.
    pub fn delta(self, pre: Phases<'_>, post: Phases<'_>, batch: usize, beta: f32) -> Vec<f32> {
        let (n_pre, n_post) = (pre.free.len() / batch, post.free.len() / batch);
        assert_eq!(pre.free.len(), batch * n_pre, "rule: pre state is not batch × units");
        assert_eq!(post.free.len(), batch * n_post, "rule: post state is not batch × units");
        assert_eq!((pre.nudged.len(), post.nudged.len()), (pre.free.len(), post.free.len()), "rule: phases differ in shape");
        let mut delta = vec![0.0f32; n_pre * n_post];
        let outer = |a: &[f32], b: &[f32], out: &mut [f32], accumulate: bool| matmul(a, Transpose::Yes, b, Transpose::No, out, (n_pre, n_post, batch), accumulate, true);
        let difference = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<f32>>();
        match self {
            BaseRule::Symmetric => {
                outer(pre.nudged, post.nudged, &mut delta, false);
                let negated: Vec<f32> = pre.free.iter().map(|v| -v).collect();
                outer(&negated, post.free, &mut delta, true);
            }
            BaseRule::Differential => outer(&difference(pre.nudged, pre.free), post.free, &mut delta, false),
            BaseRule::PostDifference => outer(pre.free, &difference(post.nudged, post.free), &mut delta, false),
        }
        let scale = 1.0 / (beta * batch as f32);
        delta.iter_mut().for_each(|d| *d *= scale);
        delta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batch of 2, two pre units, one post unit, β = 0.5, computed by hand:
    /// pre free [[1, 0], [0, 1]], nudged [[1, 1], [0, 1]]; post free [[1], [2]], nudged [[2], [2]].
    #[test]
    fn rules_match_hand_computed_changes() {
        let pre = Phases { free: &[1.0, 0.0, 0.0, 1.0], nudged: &[1.0, 1.0, 0.0, 1.0] };
        let post = Phases { free: &[1.0, 2.0], nudged: &[2.0, 2.0] };
        // Σ_b pre_nudged·post_nudged = [2, 4]; Σ_b pre_free·post_free = [1, 2]; ÷ (0.5·2).
        assert_eq!(BaseRule::Symmetric.delta(pre, post, 2, 0.5), vec![1.0, 2.0]);
        // (pre_nudged − pre_free) = [[0, 1], [0, 0]]; × post_free [1, 2] → [0, 1].
        assert_eq!(BaseRule::Differential.delta(pre, post, 2, 0.5), vec![0.0, 1.0]);
        // pre_free × (post_nudged − post_free) = [[1, 0], [0, 1]] × [1, 0] → [1, 0].
        assert_eq!(BaseRule::PostDifference.delta(pre, post, 2, 0.5), vec![1.0, 0.0]);
    }
}
