//! im2col / col2im for 2-D convolution over one image, and the spike-by-spike walk that
//! event-driven convolution uses instead.

use super::Spikes;

/// Shape of a 2-D convolution or pooling window over one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvGeometry {
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }

    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Rows of the column matrix: one per (channel, ky, kx).
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    pub fn out_positions(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Output positions `lo..hi` along one axis whose input coordinate `o·stride + offset −
    /// padding` (offset = kernel tap) lies inside `0..input`.
    #[inline]
    fn valid_outputs(&self, offset: usize, input: usize, outputs: usize) -> (usize, usize) {
        let lo = self.padding.saturating_sub(offset).div_ceil(self.stride);
        let hi = (input + self.padding).saturating_sub(offset).div_ceil(self.stride).min(outputs);
        (lo.min(hi), hi)
    }

    /// Calls `f(tap, out_row, in_row, ox_lo, ox_hi)` for every kernel tap `(c, ky, kx)` (as the
    /// column-matrix row `tap`) and every output row it reaches: output positions
    /// `oy·Wo + ox_lo..oy·Wo + ox_hi` read input pixels `in_row + ox·stride` of channel `c`.
    /// Padding is whatever the ranges leave out.
    #[inline]
    fn for_each_tap_row(&self, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
        let (ho, wo, k, s, p) = (self.out_height(), self.out_width(), self.kernel, self.stride, self.padding);
        for c in 0..self.channels {
            for ky in 0..k {
                let (oy_lo, oy_hi) = self.valid_outputs(ky, self.height, ho);
                for kx in 0..k {
                    let (ox_lo, ox_hi) = self.valid_outputs(kx, self.width, wo);
                    let tap = (c * k + ky) * k + kx;
                    for oy in oy_lo..oy_hi {
                        let y = oy * s + ky - p;
                        // Input index of output column 0 (may lie before the row; only
                        // ox_lo.. are read).
                        let in_row = (c * self.height + y) * self.width + kx;
                        f(tap, oy * wo, in_row, ox_lo, ox_hi);
                    }
                }
            }
        }
    }
}

/// Calls `f(tap, position)` for every (input spike, kernel tap) pair of image `row` of
/// `spikes` (one `[C, H, W]` image per row): the spike at `(c, y, x)` reaches output
/// `position = oy·Wo + ox` through tap `(c·k + ky)·k + kx` when `oy·s + ky − p = y` and
/// `ox·s + kx − p = x`. The event-driven convolution kernels are built on this walk: work is
/// proportional to the spikes, and padding needs no special case. Returns the pairs visited.
#[inline(always)]
pub fn for_each_spike_tap(spikes: &Spikes, row: usize, g: &ConvGeometry, mut f: impl FnMut(usize, usize)) -> u64 {
    let (ho, wo, k, s, p) = (g.out_height(), g.out_width(), g.kernel, g.stride, g.padding);
    let plane = g.height * g.width;
    // Output coordinate reached from input coordinate `i` through tap offset `o`, if any.
    // (Stride 1, the common case, needs no division.)
    let reach = |i: usize, o: usize, outputs: usize| {
        let shifted = (i + p).checked_sub(o)?;
        if s == 1 {
            return (shifted < outputs).then_some(shifted);
        }
        (shifted % s == 0 && shifted / s < outputs).then_some(shifted / s)
    };
    let mut pairs = 0;
    spikes.for_each_active(row, |i| {
        let (c, y, x) = (i / plane, (i % plane) / g.width, i % g.width);
        for ky in 0..k {
            let Some(oy) = reach(y, ky, ho) else { continue };
            for kx in 0..k {
                if let Some(ox) = reach(x, kx, wo) {
                    f((c * k + ky) * k + kx, oy * wo + ox);
                    pairs += 1;
                }
            }
        }
    });
    pairs
}

/// `cols[(c·k + ky)·k + kx][oy·Wo + ox] = image[c][oy·s + ky − p][ox·s + kx − p]` (0 in padding).
pub fn im2col(image: &[f32], g: &ConvGeometry, cols: &mut [f32]) {
    let positions = g.out_positions();
    debug_assert_eq!(cols.len(), g.patch_len() * positions);
    cols.fill(0.0);
    let (s, p) = (g.stride, g.padding);
    g.for_each_tap_row(|tap, out_row, in_row, lo, hi| {
        let dst = &mut cols[tap * positions + out_row..][lo..hi];
        if s == 1 {
            dst.copy_from_slice(&image[in_row + lo - p..in_row + hi - p]);
        } else {
            for (d, ox) in dst.iter_mut().zip(lo..hi) {
                *d = image[in_row + ox * s - p];
            }
        }
    });
}

/// The adjoint of `im2col`: adds every column entry back onto the pixel it was read from.
pub fn col2im(cols: &[f32], g: &ConvGeometry, image: &mut [f32]) {
    let positions = g.out_positions();
    let (s, p) = (g.stride, g.padding);
    g.for_each_tap_row(|tap, out_row, in_row, lo, hi| {
        let src = &cols[tap * positions + out_row..][lo..hi];
        if s == 1 {
            image[in_row + lo - p..in_row + hi - p].iter_mut().zip(src).for_each(|(x, v)| *x += v);
        } else {
            for (v, ox) in src.iter().zip(lo..hi) {
                image[in_row + ox * s - p] += v;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// im2col against its definition, pixel by pixel, including padding wider than the kernel
    /// reach and strides that skip pixels.
    #[test]
    fn im2col_matches_its_definition() {
        let mut rng = Rng::new(6);
        for &(c, h, w, k, s, p) in &[(1, 5, 5, 3, 1, 0), (2, 7, 6, 3, 2, 1), (3, 4, 4, 2, 2, 0), (1, 3, 3, 3, 1, 2), (2, 6, 5, 3, 3, 2)] {
            let g = ConvGeometry { channels: c, height: h, width: w, kernel: k, stride: s, padding: p };
            let x: Vec<f32> = (0..c * h * w).map(|_| rng.normal()).collect();
            let mut cols = vec![f32::NAN; g.patch_len() * g.out_positions()];
            im2col(&x, &g, &mut cols);
            let (ho, wo) = (g.out_height(), g.out_width());
            for ch in 0..c {
                for ky in 0..k {
                    for kx in 0..k {
                        for oy in 0..ho {
                            for ox in 0..wo {
                                let (y, xx) = ((oy * s + ky) as isize - p as isize, (ox * s + kx) as isize - p as isize);
                                let inside = y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w;
                                let expected = if inside { x[(ch * h + y as usize) * w + xx as usize] } else { 0.0 };
                                assert_eq!(cols[((ch * k + ky) * k + kx) * ho * wo + oy * wo + ox], expected, "{c} {h} {w} {k} {s} {p}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Scattering weights along the spike-tap walk equals the dense convolution (im2col) of the
    /// 0/1 image, with padding and strides.
    #[test]
    fn spike_taps_match_dense_convolution() {
        let mut rng = Rng::new(7);
        for &(c, h, w, k, s, p, density) in &[(2, 7, 6, 3, 1, 1, 0.3), (3, 8, 8, 3, 2, 1, 0.5), (1, 5, 5, 2, 2, 0, 1.0), (2, 4, 4, 3, 1, 2, 0.0)] {
            let g = ConvGeometry { channels: c, height: h, width: w, kernel: k, stride: s, padding: p };
            let x: Vec<f32> = (0..c * h * w).map(|_| (rng.uniform() < density) as u8 as f32).collect();
            let spikes = Spikes::from_dense(&crate::tensor::Tensor::from_vec(&[1, c * h * w], x.clone()).unwrap(), 1);
            let taps: Vec<f32> = (0..g.patch_len()).map(|_| rng.normal()).collect();
            let mut cols = vec![0.0; g.patch_len() * g.out_positions()];
            im2col(&x, &g, &mut cols);
            let mut dense = vec![0.0f32; g.out_positions()];
            for (tap, row) in cols.chunks(g.out_positions()).enumerate() {
                dense.iter_mut().zip(row).for_each(|(d, v)| *d += taps[tap] * v);
            }
            let mut event = vec![0.0f32; g.out_positions()];
            let pairs = for_each_spike_tap(&spikes, 0, &g, |tap, pos| event[pos] += taps[tap]);
            assert_eq!(pairs as f32, cols.iter().sum::<f32>(), "one pair per non-zero column entry");
            for (a, b) in dense.iter().zip(&event) {
                assert!((a - b).abs() < 1e-4, "{c} {h} {w} {k} {s} {p}: {a} vs {b}");
            }
        }
    }

    /// col2im must be the exact adjoint of im2col: <im2col(x), y> = <x, col2im(y)>.
    #[test]
    fn col2im_is_adjoint_of_im2col() {
        let mut rng = Rng::new(5);
        for &(c, h, w, k, s, p) in &[(1, 5, 5, 3, 1, 0), (2, 7, 6, 3, 2, 1), (3, 4, 4, 2, 2, 0), (1, 3, 3, 3, 1, 2), (2, 6, 5, 3, 3, 2)] {
            let g = ConvGeometry { channels: c, height: h, width: w, kernel: k, stride: s, padding: p };
            let x: Vec<f32> = (0..c * h * w).map(|_| rng.normal()).collect();
            let y: Vec<f32> = (0..g.patch_len() * g.out_positions()).map(|_| rng.normal()).collect();
            let mut cols = vec![0.0; y.len()];
            im2col(&x, &g, &mut cols);
            let mut back = vec![0.0; x.len()];
            col2im(&y, &g, &mut back);
            let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| (a * b) as f64).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| (a * b) as f64).sum();
            assert!((lhs - rhs).abs() < 1e-3, "{lhs} vs {rhs}");
        }
    }
}
