//! Elementwise functions fast enough for the inner loops: the standard library's `exp` and
//! `tanh` call libm once per value and do not vectorise; these are branch-free polynomials that
//! do, accurate to a few units in the last place of f32.

/// e^x for f32, relative error below 3e-7 over the representable range; inputs beyond ±87 are
/// clamped (0 below, about 6e37 above), NaN stays NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 87.0);
    // e^x = 2^n · e^r with n the nearest integer to x·log2(e); r = x − n·ln 2 in [−0.35, 0.35],
    // with ln 2 split in two (Cody–Waite) so that r carries no rounding error of n·ln 2.
    // Rounding by adding and removing 1.5·2^23 (exact for |t| < 2^22; `round` is a libm call
    // that stops the loop from vectorising).
    const SHIFT: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + SHIFT) - SHIFT;
    let r = (x - n * 0.693_145_75) - n * 1.428_606_8e-6;
    // e^r by its Taylor series to degree 7 (truncation < 2e-8 on that interval).
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// tanh(x/2) = (1 − e^(−x)) / (1 + e^(−x)), the "ρ1" squashing of the SBP reference.
#[inline(always)]
pub fn tanh_half(x: f32) -> f32 {
    let e = exp(-x);
    (1.0 - e) / (1.0 + e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_tanh_half_match_the_standard_library() {
        let mut worst = (0.0f64, 0.0f64);
        for k in -870_000..=870_000 {
            let x = k as f32 * 1e-4;
            let rel = ((exp(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs();
            let abs = (tanh_half(x) as f64 - (x as f64 / 2.0).tanh()).abs();
            worst = (worst.0.max(rel), worst.1.max(abs));
        }
        assert!(worst.0 < 3e-7 && worst.1 < 3e-7, "worst relative exp error {}, absolute tanh error {}", worst.0, worst.1);
        assert_eq!(exp(-200.0), exp(-87.0));
        assert!(exp(f32::NAN).is_nan() && tanh_half(1e6) == 1.0 && tanh_half(-1e6) == -1.0);
    }
}
