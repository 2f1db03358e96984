//! Numbers that carry their own derivatives (forward-mode automatic differentiation).
//!
//! The conductance models (HH, tv-LIF2HH) write their equations and integrators once, generic
//! over `Scalar`: the simulator runs them in `f64`, and the trainable layer runs the same code
//! in `Dual<K>` to get the exact Jacobian of one integration step — whatever the integrator
//! (Euler, exponential Euler, RK4) — for backpropagation through time. No hand-derived
//! Jacobian per model and integrator that could drift from the step it claims to differentiate.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// What the model equations need of a number: field arithmetic (also with plain `f64`
/// constants), `exp`, `exp_m1`, and the value itself for branches (the removable singularity of
/// the HH rates picks its formula by value; both formulas are smooth there).
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    fn constant(c: f64) -> Self;
    fn value(self) -> f64;
    fn exp(self) -> Self;
    fn exp_m1(self) -> Self;
}

impl Scalar for f64 {
    #[inline(always)]
    fn constant(c: f64) -> Self {
        c
    }
    #[inline(always)]
    fn value(self) -> f64 {
        self
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn exp_m1(self) -> Self {
        f64::exp_m1(self)
    }
}

/// A value and its derivatives with respect to `K` independent inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual<const K: usize> {
    pub value: f64,
    pub grad: [f64; K],
}

impl<const K: usize> Dual<K> {
    /// The `i`-th independent input, with value `value` (derivative 1 in direction `i`).
    pub fn variable(value: f64, i: usize) -> Self {
        let mut grad = [0.0; K];
        grad[i] = 1.0;
        Dual { value, grad }
    }

    /// Chain rule for a function of one argument: value f, derivative f'.
    #[inline(always)]
    fn chain(self, f: f64, df: f64) -> Self {
        Dual { value: f, grad: self.grad.map(|g| g * df) }
    }
}

impl<const K: usize> Scalar for Dual<K> {
    #[inline(always)]
    fn constant(c: f64) -> Self {
        Dual { value: c, grad: [0.0; K] }
    }
    #[inline(always)]
    fn value(self) -> f64 {
        self.value
    }
    #[inline(always)]
    fn exp(self) -> Self {
        let e = self.value.exp();
        self.chain(e, e)
    }
    #[inline(always)]
    fn exp_m1(self) -> Self {
        self.chain(self.value.exp_m1(), self.value.exp())
    }
}

impl<const K: usize> Add for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Dual { value: self.value + o.value, grad: std::array::from_fn(|i| self.grad[i] + o.grad[i]) }
    }
}

impl<const K: usize> Sub for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Dual { value: self.value - o.value, grad: std::array::from_fn(|i| self.grad[i] - o.grad[i]) }
    }
}

impl<const K: usize> Mul for Dual<K> {
    type Output = Self;
    // The product rule: a dual product needs sums.
    #[allow(clippy::suspicious_arithmetic_impl)]
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Dual { value: self.value * o.value, grad: std::array::from_fn(|i| self.grad[i] * o.value + self.value * o.grad[i]) }
    }
}

impl<const K: usize> Div for Dual<K> {
    type Output = Self;
    // The quotient rule: a dual quotient needs differences and products.
    #[allow(clippy::suspicious_arithmetic_impl)]
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let q = self.value / o.value;
        Dual { value: q, grad: std::array::from_fn(|i| (self.grad[i] - q * o.grad[i]) / o.value) }
    }
}

impl<const K: usize> Neg for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.chain(-self.value, -1.0)
    }
}

impl<const K: usize> Add<f64> for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn add(self, c: f64) -> Self {
        Dual { value: self.value + c, grad: self.grad }
    }
}

impl<const K: usize> Sub<f64> for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, c: f64) -> Self {
        Dual { value: self.value - c, grad: self.grad }
    }
}

impl<const K: usize> Mul<f64> for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, c: f64) -> Self {
        self.chain(self.value * c, c)
    }
}

impl<const K: usize> Div<f64> for Dual<K> {
    type Output = Self;
    #[inline(always)]
    fn div(self, c: f64) -> Self {
        self.chain(self.value / c, 1.0 / c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation's derivative against a central difference of the same expression in f64.
    #[test]
    fn derivatives_match_finite_differences() {
        fn f<S: Scalar>(x: S, y: S) -> S {
            let a = (x * y + 0.5) / (y - 3.0);
            let b = (-(x * 0.3)).exp() - (y / 4.0).exp_m1();
            a * b / (x + y) + S::constant(2.0) * x
        }
        let (x, y) = (0.7, -1.3);
        let d = f(Dual::<2>::variable(x, 0), Dual::<2>::variable(y, 1));
        assert_eq!(d.value, f(x, y));
        let h = 1e-6;
        let dx = (f(x + h, y) - f(x - h, y)) / (2.0 * h);
        let dy = (f(x, y + h) - f(x, y - h)) / (2.0 * h);
        assert!((d.grad[0] - dx).abs() < 1e-8, "{} vs {dx}", d.grad[0]);
        assert!((d.grad[1] - dy).abs() < 1e-8, "{} vs {dy}", d.grad[1]);
    }
}
