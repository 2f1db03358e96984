//! Inference kernels for weight-sparse layers (y = x·W, `W` with a fixed mask per output unit).
//!
//! - `PackedKernels`: complementary sparsity (Hunter, Spracklen & Ahmad 2022). Groups of `N`
//!   output units whose kept inputs are disjoint share one dense row per input: the weight of
//!   whichever member keeps that input, and a one-byte member id. One input's work is then one
//!   pass over `groups = units / N` slots (instead of `units`), each product *routed* by its id
//!   to its member's sum. When every block of 16 groups routes an input to one member
//!   (`nn::MaskKind::ComplementaryBlocks`) whole blocks are routed instead: an input's row is
//!   then a list of 16-wide weight blocks, each with the block of sums it adds to, and blocks
//!   no group of the input keeps are not stored.
//! - `SparseRows`: the plain sparse storage the packing is measured against, one list of
//!   (output, weight) per input (CSR by input, 4-byte indices).
//!
//! Both have a sparse-dense entry (every input) and a sparse-sparse entry (only the inputs a
//! k-winners layer let through), the case where activation and weight sparsity multiply.

use crate::error::{Error, Result};
use multiversion::multiversion;

#[derive(Clone, Debug)]
pub struct PackedKernels {
    pub inputs: usize,
    pub units: usize,
    /// Members per group (`N`); unit `u` is member `u % N` of group `u / N`.
    pub members: usize,
    pub groups: usize,
    /// Groups rounded up to whole blocks of `LANES`: the length of a member's row of sums.
    padded: usize,
    routing: Routing,
}

#[derive(Clone, Debug)]
enum Routing {
    /// Per-group partitions, one product routed at a time. `[inputs, padded]` each: the weight
    /// of the member that keeps the input (0 if none does) and which member (0 where none: it
    /// adds a zero).
    Products { weights: Vec<f32>, ids: Vec<u8> },
    /// Every block of `LANES` groups routes an input to one member
    /// (`MaskKind::ComplementaryBlocks`), so whole blocks are routed. Per input (rows
    /// `starts[i]..starts[i + 1]`) only the blocks it feeds — a block whose groups all leave
    /// the input out is not stored — each with its slot among the `[members · blocks]` block
    /// sums (`member · blocks + block`).
    Blocks { starts: Vec<u32>, slots: Vec<u32>, weights: Vec<[f32; LANES]> },
}

/// Groups routed together by the block kernel (one AVX-512 vector of f32).
const LANES: usize = crate::nn::PACK_LANES;

impl PackedKernels {
    /// Packs `weights` (`[inputs, units]`, input-major as in `Linear`) whose non-zero pattern
    /// is `kept[u]` (inputs of unit u); consecutive groups of `members` units must keep
    /// disjoint inputs (a complementary mask, `nn::MaskKind::Complementary`).
    pub fn pack(weights: &[f32], inputs: usize, kept: &[Vec<u32>], members: usize) -> Result<Self> {
        let units = kept.len();
        if weights.len() != inputs * units {
            return Err(Error::Shape(format!("packing: {} weights for {inputs} inputs × {units} units", weights.len())));
        }
        if members == 0 || members > u8::MAX as usize {
            return Err(Error::Other(format!("packing: {members} members per group (1 to 255)")));
        }
        let groups = units.div_ceil(members);
        let padded = groups.div_ceil(LANES) * LANES;
        let (mut packed, mut ids, mut taken) = (vec![0.0; inputs * padded], vec![0u8; inputs * padded], vec![false; inputs * padded]);
        for (u, inputs_of_u) in kept.iter().enumerate() {
            let (g, member) = (u / members, u % members);
            for &i in inputs_of_u {
                let slot = i as usize * padded + g;
                if i as usize >= inputs || std::mem::replace(&mut taken[slot], true) {
                    return Err(Error::Other(format!("packing: input {i} is kept by two units of group {g} (the mask is not complementary)")));
                }
                packed[slot] = weights[i as usize * units + u];
                ids[slot] = member as u8;
            }
        }
        let routing = match block_members(&taken, &ids) {
            Some(members_of_blocks) => {
                let blocks = padded / LANES;
                let (mut starts, mut slots, mut weights) = (vec![0u32], Vec::new(), Vec::new());
                for (i, row) in members_of_blocks.chunks(blocks).enumerate() {
                    for (b, member) in row.iter().enumerate() {
                        if let Some(m) = member {
                            let at = i * padded + b * LANES;
                            slots.push(slot_index(*m as usize * blocks + b)?);
                            weights.push(packed[at..at + LANES].try_into().expect("a whole block"));
                        }
                    }
                    starts.push(slot_index(slots.len())?);
                }
                Routing::Blocks { starts, slots, weights }
            }
            None => Routing::Products { weights: packed, ids },
        };
        Ok(PackedKernels { inputs, units, members, groups, padded, routing })
    }

    /// Whether whole blocks of groups are routed at once (see `Routing::Blocks`).
    pub fn routes_blocks(&self) -> bool {
        matches!(self.routing, Routing::Blocks { .. })
    }

    /// Bytes of the packed structure (what a kernel reads).
    pub fn storage_bytes(&self) -> usize {
        match &self.routing {
            Routing::Products { weights, ids } => weights.len() * 4 + ids.len(),
            Routing::Blocks { starts, slots, weights } => (starts.len() + slots.len()) * 4 + weights.len() * LANES * 4,
        }
    }

    /// `out[u] = Σ_i x_i · W[i, u]` over every input (sparse-dense). `scratch` holds the sums.
    pub fn forward_dense(&self, x: &[f32], out: &mut [f32], scratch: &mut Vec<f32>) {
        assert_eq!(x.len(), self.inputs, "one value per input");
        self.route(x.iter().copied().enumerate(), out, scratch);
    }

    /// The same over the listed inputs only (sparse-sparse): `active` and `values` pair up.
    pub fn forward_sparse(&self, active: &[u32], values: &[f32], out: &mut [f32], scratch: &mut Vec<f32>) {
        self.route(active.iter().zip(values).map(|(&i, &v)| (i as usize, v)), out, scratch);
    }

    fn route(&self, inputs: impl Iterator<Item = (usize, f32)>, out: &mut [f32], scratch: &mut Vec<f32>) {
        assert_eq!(out.len(), self.units, "one sum per unit");
        let (n, padded) = (self.members, self.padded);
        scratch.clear();
        scratch.resize(padded * n, 0.0);
        // Member-major sums (`[members, padded]`) for the vector kernels; group-major
        // (`[padded, members]`) for the scalar one.
        let member_major = match &self.routing {
            Routing::Blocks { starts, slots, weights } => {
                route_blocks(starts, slots, weights, inputs, scratch);
                true
            }
            Routing::Products { weights, ids } => {
                let member_major = n <= LANE_ROUTING_MEMBERS;
                for (i, x) in inputs {
                    let (w, id) = (&weights[i * padded..(i + 1) * padded], &ids[i * padded..(i + 1) * padded]);
                    if member_major {
                        route_by_member(w, id, x, scratch, padded);
                    } else {
                        // One product per group, added to the sum of the member its id names.
                        for ((sums, &w), &id) in scratch.chunks_exact_mut(n).zip(w).zip(id) {
                            sums[id as usize] += w * x;
                        }
                    }
                }
                member_major
            }
        };
        if member_major {
            // Unit u = g·N + m; walking members then groups avoids a division per unit (two
            // 64-bit divisions per unit cost about as much as the routing itself).
            for (m, sums) in scratch.chunks_exact(padded).enumerate() {
                out.iter_mut().skip(m).step_by(n).zip(sums).for_each(|(o, &s)| *o = s);
            }
        } else {
            out.copy_from_slice(&scratch[..self.units]);
        }
    }
}

/// Per (input, block of `LANES` groups), the one member the block routes the input to — `None`
/// where no group of the block keeps it — or `None` overall if some block splits an input
/// between members (a per-group mask).
fn block_members(taken: &[bool], ids: &[u8]) -> Option<Vec<Option<u8>>> {
    taken
        .chunks(LANES)
        .zip(ids.chunks(LANES))
        .map(|(used, ids)| {
            let mut in_use = used.iter().zip(ids).filter(|(u, _)| **u).map(|(_, &id)| id);
            match in_use.next() {
                None => Some(None),
                Some(first) => in_use.all(|id| id == first).then_some(Some(first)),
            }
        })
        .collect()
}

fn slot_index(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Other(format!("packing: {n} blocks do not fit 32-bit indices")))
}

/// Up to this many members, products are routed by one masked vector pass per member (each
/// pass vectorises; N passes cost N × `groups` lanes = `units` lanes, like one dense row);
/// beyond it one scalar indexed add per group is cheaper (`groups` = units / N shrinks).
/// From `spikelab bench sparse` on this machine.
const LANE_ROUTING_MEMBERS: usize = 4;

/// `sums[member][g] += w[g]·x` where `id[g] == member`, one vectorised pass per member.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn route_by_member(w: &[f32], id: &[u8], x: f32, sums: &mut [f32], padded: usize) {
    for (member, acc) in sums.chunks_exact_mut(padded).enumerate() {
        let member = member as u8;
        for ((a, &w), &id) in acc.iter_mut().zip(w).zip(id) {
            // A 0/1 factor, not a select: AVX2 has no byte-masked float add, and the select
            // did not vectorise there.
            *a += w * x * f32::from(u8::from(id == member));
        }
    }
}

/// For each `(input, x)`, over the input's row of blocks: `sums[slot] += w·x` per stored block,
/// one vector multiply-add into the block sums `slot` names. Against the previous kernel (every
/// block of a row stored, two rows walked side by side, each block's sums found from a member
/// byte): 23.4 against 25.8 µs, medians of 12 interleaved runs of `spikelab bench sparse --kept
/// 0.3` on the Zen 1 host. Slower in a standalone copy timed side by side with it (medians of
/// 4–6 runs): the two-row walk over the new rows (4 % slower), sums kept in registers per
/// (block, member) with the inputs routed there found by AND-ing bitmaps (13 %), loading both
/// rows' sums before either store so a pair routed to one member never reloads a sum it just
/// stored (40 %); 64-byte-aligned blocks made no difference. Earlier, on Zen 4, the two-row
/// walk had beaten single rows (12 against 13 µs), a block-major layout ran at 17 µs.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn route_blocks<I: Iterator<Item = (usize, f32)>>(starts: &[u32], slots: &[u32], weights: &[[f32; LANES]], inputs: I, sums: &mut [f32]) {
    for (i, x) in inputs {
        let row = starts[i] as usize..starts[i + 1] as usize;
        for (w, &slot) in weights[row.clone()].iter().zip(&slots[row]) {
            let at = slot as usize * LANES;
            let acc: &mut [f32; LANES] = (&mut sums[at..at + LANES]).try_into().expect("a whole block");
            for k in 0..LANES {
                acc[k] += w[k] * x;
            }
        }
    }
}

/// Plain sparse storage of a masked weight matrix: per input, its (unit, weight) pairs.
#[derive(Clone, Debug)]
pub struct SparseRows {
    pub inputs: usize,
    pub units: usize,
    /// `starts[i]..starts[i + 1]` indexes input i's entries.
    starts: Vec<usize>,
    units_of: Vec<u32>,
    weights: Vec<f32>,
}

impl SparseRows {
    pub fn new(weights: &[f32], inputs: usize, kept: &[Vec<u32>]) -> Result<Self> {
        let units = kept.len();
        if weights.len() != inputs * units {
            return Err(Error::Shape(format!("sparse rows: {} weights for {inputs} inputs × {units} units", weights.len())));
        }
        let mut per_input: Vec<Vec<u32>> = vec![Vec::new(); inputs];
        for (u, inputs_of_u) in kept.iter().enumerate() {
            for &i in inputs_of_u {
                per_input.get_mut(i as usize).ok_or_else(|| Error::Shape(format!("sparse rows: input {i} of {inputs}")))?.push(u as u32);
            }
        }
        let mut rows = SparseRows { inputs, units, starts: vec![0], units_of: Vec::new(), weights: Vec::new() };
        for (i, us) in per_input.iter().enumerate() {
            for &u in us {
                rows.units_of.push(u);
                rows.weights.push(weights[i * units + u as usize]);
            }
            rows.starts.push(rows.units_of.len());
        }
        Ok(rows)
    }

    pub fn storage_bytes(&self) -> usize {
        self.weights.len() * 8 + self.starts.len() * std::mem::size_of::<usize>()
    }

    pub fn forward_dense(&self, x: &[f32], out: &mut [f32]) {
        assert_eq!(x.len(), self.inputs, "one value per input");
        self.scatter((0..self.inputs).map(|i| (i, x[i])), out);
    }

    pub fn forward_sparse(&self, active: &[u32], values: &[f32], out: &mut [f32]) {
        self.scatter(active.iter().zip(values).map(|(&i, &v)| (i as usize, v)), out);
    }

    fn scatter(&self, inputs: impl Iterator<Item = (usize, f32)>, out: &mut [f32]) {
        assert_eq!(out.len(), self.units, "one sum per unit");
        out.fill(0.0);
        for (i, x) in inputs {
            let span = self.starts[i]..self.starts[i + 1];
            for (&u, &w) in self.units_of[span.clone()].iter().zip(&self.weights[span]) {
                out[u as usize] += w * x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{MaskKind, WeightMask};
    use crate::rng::Rng;

    /// A masked `[inputs, units]` matrix and its mask.
    fn masked(inputs: usize, units: usize, kept: f32, kind: MaskKind, rng: &mut Rng) -> (Vec<f32>, WeightMask) {
        let mask = WeightMask::new(units, inputs, kept, kind, rng, "k").unwrap();
        let dense = mask.dense();
        let w = (0..inputs * units).map(|p| dense[(p % units) * inputs + p / units] * (rng.uniform() - 0.5)).collect();
        (w, mask)
    }

    fn naive(w: &[f32], x: &[f32], units: usize) -> Vec<f32> {
        (0..units).map(|u| x.iter().enumerate().map(|(i, &v)| v * w[i * units + u]).sum()).collect()
    }

    #[test]
    fn packed_and_plain_sparse_equal_the_dense_product() {
        let mut rng = Rng::new(4);
        // Unit counts that do and do not fill the last group; densities 1/2 … 1/10 and 0.3.
        let cases = [(64, 30, 0.5), (1024, 700, 0.3), (100, 37, 0.1), (33, 5, 0.25), (300, 100, 0.05)];
        for ((inputs, units, kept), kind) in cases.into_iter().flat_map(|c| [(c, MaskKind::Complementary), (c, MaskKind::ComplementaryBlocks)]) {
            let (w, mask) = masked(inputs, units, kept, kind, &mut rng);
            let members = inputs / WeightMask::kept_count(kept, inputs);
            let packed = PackedKernels::pack(&w, inputs, &mask.kept, members).unwrap();
            assert_eq!(packed.routes_blocks(), kind == MaskKind::ComplementaryBlocks || units <= members, "{kind:?} {units}");
            let plain = SparseRows::new(&w, inputs, &mask.kept).unwrap();
            let x: Vec<f32> = (0..inputs).map(|_| rng.uniform() - 0.3).collect();
            let expect = naive(&w, &x, units);
            let (mut a, mut b, mut scratch) = (vec![0.0; units], vec![0.0; units], Vec::new());
            packed.forward_dense(&x, &mut a, &mut scratch);
            plain.forward_dense(&x, &mut b);
            for ((a, b), e) in a.iter().zip(&b).zip(&expect) {
                assert!((a - e).abs() < 1e-4 && (b - e).abs() < 1e-4, "{a} {b} {e}");
            }
            // Sparse-sparse: a quarter of the inputs active; the rest zero in the naive product.
            let active: Vec<u32> = (0..inputs as u32).filter(|_| rng.uniform() < 0.25).collect();
            let values: Vec<f32> = active.iter().map(|_| rng.uniform()).collect();
            let mut xs = vec![0.0; inputs];
            active.iter().zip(&values).for_each(|(&i, &v)| xs[i as usize] = v);
            let expect = naive(&w, &xs, units);
            packed.forward_sparse(&active, &values, &mut a, &mut scratch);
            plain.forward_sparse(&active, &values, &mut b);
            for ((a, b), e) in a.iter().zip(&b).zip(&expect) {
                assert!((a - e).abs() < 1e-4 && (b - e).abs() < 1e-4, "{a} {b} {e}");
            }
            // Rows are padded to whole blocks of 16 groups: smaller than plain storage once a
            // row holds a block.
            if packed.groups >= LANES {
                assert!(packed.storage_bytes() < plain.storage_bytes());
            }
            // Block routing stores exactly the (input, block) pairs some unit keeps: a weight, a
            // slot per stored block and a row start per input.
            if packed.routes_blocks() {
                let fed: std::collections::HashSet<(u32, usize)> = mask.kept.iter().enumerate().flat_map(|(u, k)| k.iter().map(move |&i| (i, u / members / LANES))).collect();
                assert_eq!(packed.storage_bytes(), (inputs + 1) * 4 + fed.len() * (4 + LANES * 4), "{inputs} {units} {kept}");
            }
        }
    }

    #[test]
    fn overlapping_masks_cannot_be_packed() {
        let mut rng = Rng::new(2);
        let (w, mask) = masked(40, 8, 0.5, MaskKind::Random, &mut rng);
        let err = PackedKernels::pack(&w, 40, &mask.kept, 2).unwrap_err().to_string();
        assert!(err.contains("not complementary"), "{err}");
    }
}
