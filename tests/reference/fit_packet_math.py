#!/usr/bin/python3
"""Print the polynomial coefficients of include/strata/kernels/packet_math.hpp.

Usage: /usr/bin/python3 tests/reference/fit_packet_math.py   (a few seconds; needs mpmath)

Each fit is weighted least squares on 300 Chebyshev nodes in 50-digit
arithmetic, with the coefficients rounded to the target type one at a time
(lowest degree first) and the rest refitted around each rounded one, so the
rounding of the coefficients is part of the fit. Printed highest degree
first, as the header lists them (Horner order):

  exp    e^r = 1 + r + r^2 p(r) on |r| <= ln2/2, relative error; p of degree 4 (float), 9 (double)
  tanh   tanh(a) = a + a^3 p(a^2) on [0, 1] (float, degree 6) / [0, 0.625] (double, degree 10), relative
  erf    erf(a) = a + a s(a^2) on [0, 1], relative; degree 6 (float), 11 (double)
  erfc   float: erfc(a) = e^(-a^2) q(a - 1) on [1, 4], q of degree 9; double: erfc(a) = e^(-a^2) t q(t),
         t = 1 / (a + 2), on [1, 6], q of degree 11; absolute error (what erf = 1 - erfc needs)
The C++ tests (tests/kernels/packet_math_test.cpp) measure the resulting
functions against long double.
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 50


def nodes(lo, hi, n):
    return [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (2 * i + 1) / (2 * n)) for i in range(n)]


def rounded(v, prec):
    return mp.mpf(float(np.float32(float(v)))) if prec == "f" else mp.mpf(float(v))


def fit(f, basis, lo, hi, weight, prec, n=300):
    """min sum (weight (f - sum c_k basis_k))^2, coefficients rounded one at a time."""
    xs = nodes(mp.mpf(lo), mp.mpf(hi), n)
    fixed = {}
    for k in range(len(basis)):
        free = [j for j in range(len(basis)) if j not in fixed]
        a = mp.matrix([[basis[j](x) * weight(x) for j in free] for x in xs])
        b = mp.matrix([[(f(x) - sum(fixed[j] * basis[j](x) for j in fixed)) * weight(x)] for x in xs])
        c = mp.lu_solve(a.T * a, a.T * b)
        fixed[k] = rounded(c[free.index(k)], prec)
    return [fixed[k] for k in range(len(basis))]


def show(name, c, prec):
    values = [float(v) for v in reversed(c)]
    text = ", ".join((repr(float(np.float32(v))) + "f") if prec == "f" else repr(v) for v in values)
    print("%s: {%s}" % (name, text))


def powers(first, step, count):
    return [(lambda k: (lambda x: x ** (first + step * k)))(k) for k in range(count)]


def main():
    half_ln2 = mp.log(2) / 2
    for prec, degree in [("f", 4), ("d", 9)]:
        c = fit(lambda r: mp.exp(r) - 1 - r, powers(2, 1, degree + 1), -half_ln2, half_ln2,
                lambda r: 1 / mp.exp(r), prec)
        show("exp " + prec, c, prec)
    for prec, degree, top in [("f", 6, 1), ("d", 10, mp.mpf("0.625"))]:
        c = fit(lambda a: mp.tanh(a) - a, powers(3, 2, degree + 1), 0, top,
                lambda a: 1 / mp.tanh(a) if a != 0 else 0, prec)
        show("tanh " + prec, c, prec)
    for prec, degree in [("f", 6), ("d", 11)]:
        c = fit(lambda a: mp.erf(a) - a, powers(1, 2, degree + 1), 0, 1,
                lambda a: 1 / mp.erf(a) if a != 0 else 0, prec)
        show("erf " + prec, c, prec)
    basis = [(lambda k: (lambda a: (a - 1) ** k))(k) for k in range(10)]
    show("erfc f", fit(lambda a: mp.erfc(a) * mp.exp(a * a), basis, 1, 4, lambda a: mp.exp(-a * a), "f"), "f")
    basis = [(lambda k: (lambda a: (1 / (a + 2)) ** k))(k) for k in range(12)]
    c = fit(lambda a: mp.erfc(a) * mp.exp(a * a) * (a + 2), basis, 1, 6, lambda a: mp.exp(-a * a) / (a + 2), "d")
    show("erfc d", c, "d")


if __name__ == "__main__":
    main()
