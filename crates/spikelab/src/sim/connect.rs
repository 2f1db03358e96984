//! Connectivity rules of the network simulator: which (pre, post) pairs a projection gets,
//! drawn from the network's seeded generator.

use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Connectivity {
    /// Each (pre, post) pair independently with probability `p` (self-pairs included).
    FixedProbability {
        p: f64,
    },
    /// Each post neuron gets exactly `k` distinct pre neurons, drawn uniformly.
    FixedInDegree {
        k: usize,
    },
    OneToOne,
    AllToAll,
    /// Explicit (pre, post) pairs, indices within the projection's ranges.
    List {
        pairs: Vec<[usize; 2]>,
    },
}

/// Uniform in [0, 1) with 53 random bits.
pub(super) fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The (pre, post) pairs of a projection, as indices into the whole populations.
pub(super) fn connect(c: &Connectivity, (pre0, pre1): (usize, usize), (post0, post1): (usize, usize), rng: &mut Rng, key: &str) -> Result<Vec<(usize, usize)>> {
    let (n_pre, n_post) = (pre1 - pre0, post1 - post0);
    let mut pairs = Vec::new();
    match c {
        Connectivity::FixedProbability { p } => {
            if !(*p > 0.0 && *p <= 1.0) {
                return Err(Error::config(format!("{key}.connect.p"), format!("must be in (0, 1], got {p}")));
            }
            // Gaps between successive connections are geometric: one draw per synapse.
            let log_q = (1.0 - p).ln();
            let total = n_pre * n_post;
            let mut at: usize = 0;
            loop {
                let gap = if *p >= 1.0 { 0 } else { ((1.0 - uniform(rng)).ln() / log_q).floor() as usize };
                at = match at.checked_add(gap) {
                    Some(a) if a < total => a,
                    _ => break,
                };
                pairs.push((pre0 + at / n_post, post0 + at % n_post));
                at += 1;
            }
        }
        Connectivity::FixedInDegree { k } => {
            if *k > n_pre {
                return Err(Error::config(format!("{key}.connect.k"), format!("{k} exceeds the {n_pre} pre neurons")));
            }
            let mut chosen = Vec::with_capacity(*k);
            for j in post0..post1 {
                chosen.clear();
                while chosen.len() < *k {
                    let i = pre0 + (rng.next_u64() % n_pre as u64) as usize;
                    if !chosen.contains(&i) {
                        chosen.push(i);
                    }
                }
                pairs.extend(chosen.iter().map(|&i| (i, j)));
            }
        }
        Connectivity::OneToOne => {
            if n_pre != n_post {
                return Err(Error::config(format!("{key}.connect"), format!("one-to-one needs equal ranges, got {n_pre} pre and {n_post} post")));
            }
            pairs.extend((0..n_pre).map(|k| (pre0 + k, post0 + k)));
        }
        Connectivity::AllToAll => pairs.extend((pre0..pre1).flat_map(|i| (post0..post1).map(move |j| (i, j)))),
        Connectivity::List { pairs: list } => {
            for (n, &[i, j]) in list.iter().enumerate() {
                if i >= n_pre || j >= n_post {
                    return Err(Error::config(format!("{key}.connect.pairs[{n}]"), format!("({i}, {j}) is outside {n_pre} × {n_post}")));
                }
                pairs.push((pre0 + i, post0 + j));
            }
        }
    }
    Ok(pairs)
}
