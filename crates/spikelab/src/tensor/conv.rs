//! im2col / col2im for 2-D convolution over one image.

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

    /// Input pixel read by output position (oy, ox) at kernel offset (ky, kx), if not padding.
    #[inline]
    fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let y = (oy * self.stride + ky).checked_sub(self.padding)?;
        let x = (ox * self.stride + kx).checked_sub(self.padding)?;
        (y < self.height && x < self.width).then_some((y, x))
    }
}

/// `cols[(c·k + ky)·k + kx][oy·Wo + ox] = image[c][oy·s + ky − p][ox·s + kx − p]` (0 in padding).
pub fn im2col(image: &[f32], g: &ConvGeometry, cols: &mut [f32]) {
    let (ho, wo, k) = (g.out_height(), g.out_width(), g.kernel);
    debug_assert_eq!(cols.len(), g.patch_len() * ho * wo);
    for c in 0..g.channels {
        let plane = &image[c * g.height * g.width..(c + 1) * g.height * g.width];
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((c * k + ky) * k + kx) * ho * wo..][..ho * wo];
                for oy in 0..ho {
                    for ox in 0..wo {
                        row[oy * wo + ox] = match g.source(oy, ox, ky, kx) {
                            Some((y, x)) => plane[y * g.width + x],
                            None => 0.0,
                        };
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds every column entry back onto the pixel it was read from.
pub fn col2im(cols: &[f32], g: &ConvGeometry, image: &mut [f32]) {
    let (ho, wo, k) = (g.out_height(), g.out_width(), g.kernel);
    for c in 0..g.channels {
        let plane = &mut image[c * g.height * g.width..(c + 1) * g.height * g.width];
        for ky in 0..k {
            for kx in 0..k {
                let row = &cols[((c * k + ky) * k + kx) * ho * wo..][..ho * wo];
                for oy in 0..ho {
                    for ox in 0..wo {
                        if let Some((y, x)) = g.source(oy, ox, ky, kx) {
                            plane[y * g.width + x] += row[oy * wo + ox];
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// col2im must be the exact adjoint of im2col: <im2col(x), y> = <x, col2im(y)>.
    #[test]
    fn col2im_is_adjoint_of_im2col() {
        let mut rng = Rng::new(5);
        for &(c, h, w, k, s, p) in &[(1, 5, 5, 3, 1, 0), (2, 7, 6, 3, 2, 1), (3, 4, 4, 2, 2, 0), (1, 3, 3, 3, 1, 2)] {
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
