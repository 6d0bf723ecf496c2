"""The two-population parts of Brunel's mean field: each population's input, its
coupling to the two rates, every self-consistent pair of rates, and the loop's
characteristic gain. ``analysis.theory`` wires them to the LIF's rate (Siegert) and
rate response; this module knows no neuron model, which is passed in.

Populations a in {E, I} (``sweep.config.Population``: tau, tau_rp, theta, V_r, J, g,
eta), each neuron with C_E excitatory, C_I inhibitory and C_E external inputs:

    mu_a      = tau_a J_a [C_E (nu_ext,a + nu_E) - g_a C_I nu_I]
    sigma_a^2 = tau_a J_a^2 [C_E (nu_ext,a + nu_E) + g_a^2 C_I nu_I]

With identical populations this is model A's mu and sigma at nu_E = nu_I = nu0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy import optimize

from sweep.config import Population
from sweep.model import MS

RateMap = Callable[[float, float], float]  # (nu_E, nu_I) -> a population's rate, Hz


def mean_field(pop: Population, C_E: int, C_I: float, nu_ext: float, nu_e: float,
               nu_i: float) -> tuple[float, float]:
    """Mean mu_a and standard deviation sigma_a (mV) of population a's input.

    Parameters
    ----------
    pop : Population
        Population a's values (tau in ms, J in mV).
    C_E, C_I : int, float
        Excitatory and inhibitory inputs per neuron (C_E external sources besides).
    nu_ext : float
        Hz, the rate of each external source of population a (eta_a nu_thr).
    nu_e, nu_i : float
        Hz, the rates of the E and I populations.

    Returns
    -------
    mu, sigma : float
        mu_a = tau_a J_a [C_E (nu_ext + nu_E) - g_a C_I nu_I],
        sigma_a^2 = tau_a J_a^2 [C_E (nu_ext + nu_E) + g_a^2 C_I nu_I].
    """
    excitation = C_E * (nu_ext + nu_e)
    mu = pop.tau * MS * pop.J * (excitation - pop.g * C_I * nu_i)
    var = pop.tau * MS * pop.J**2 * (excitation + pop.g**2 * C_I * nu_i)
    return mu, math.sqrt(var)


def couplings(pop: Population, C_E: int, C_I: float) -> tuple[np.ndarray, np.ndarray]:
    """How population a's input moves with the two rates: (d mu_a / d nu_b, d Dn_a /
    d nu_b) for b = E, I, in mV/Hz and mV^2/Hz, Dn_a = sigma_a^2 / 2 the noise intensity:

        d mu_a / d nu_E = tau_a J_a C_E,        d mu_a / d nu_I = -tau_a J_a g_a C_I,
        d Dn_a / d nu_E = tau_a J_a^2 C_E / 2,  d Dn_a / d nu_I = tau_a J_a^2 g_a^2 C_I / 2.
    """
    tau_s = pop.tau * MS
    d_mu = tau_s * pop.J * np.array([C_E, -pop.g * C_I])
    d_dn = tau_s * pop.J**2 * np.array([C_E, pop.g**2 * C_I]) / 2
    return d_mu, d_dn


def characteristic_gain(gain: np.ndarray) -> complex:
    """F = 1 - det(I - G) = tr G - det G of a 2x2 loop-gain matrix G(w).

    det(I - G(w)) = 0, a mode at real frequency w, is F(w) = 1: F takes the place of
    the one-population loop gain in its criterion (F crossing the positive real axis
    beyond 1), i.e. the Nyquist argument applied to the characteristic function
    det(I - G). Where G has rank 1 (identical populations) det G = 0 and F = tr G, its
    one nonzero eigenvalue: model A's loop gain.
    """
    return complex(np.trace(gain) - np.linalg.det(gain))


def _bracketed(f: Callable[[float], float], grid: np.ndarray, highest_only: bool,
               xtol: float = 1e-12) -> list[float]:
    """Roots of f bracketed by sign changes on ``grid`` (ascending), each refined with
    Brent's method; only the highest (scanning down from the top) if ``highest_only``."""
    order = range(len(grid) - 1, -1, -1) if highest_only else range(len(grid))
    values: dict[int, float] = {}
    roots = []
    for k in order:
        values[k] = f(grid[k])
        nb = k + 1 if highest_only else k - 1  # the neighbour evaluated before this one
        if values[k] == 0.0:
            roots.append(float(grid[k]))
        elif nb in values and values[nb] != 0.0 and values[k] * values[nb] < 0:
            a, b = sorted((grid[k], grid[nb]))
            roots.append(optimize.brentq(f, a, b, xtol=xtol, rtol=1e-12))
        if highest_only and roots:
            return roots
    return sorted(roots)


def self_consistent_pairs(phi_e: RateMap, phi_i: RateMap, nu_max_e: float, nu_max_i: float,
                          n_grid: int = 400, n_inner: int = 24, highest_only: bool = False
                          ) -> list[tuple[float, float]]:
    """Every pair (nu_E, nu_I) with nu_E = phi_E(nu_E, nu_I) and nu_I = phi_I(nu_E, nu_I),
    in ascending nu_E (Hz).

    Method: reduction to one dimension. For fixed nu_E the I equation
    r_I(x) = phi_I(nu_E, x) - x has r_I(0) = phi_I >= 0 and r_I(nu_max_I) < 0 (no neuron
    fires faster than 1/tau_rp), so it has a root h(nu_E); more inhibition lowers mu_I,
    so phi_I falls with x and the root is unique. (Inhibition also raises sigma_I, which
    raises phi_I of a neuron far below threshold in little noise: d phi_I / d x exceeds 1
    there at extreme values, J_I g_I >= 1.6 mV at eta_I = 0.3, yet a scan of J_I
    0.05-0.4 mV, g_I 2-8, eta_I 0.3-4, theta_I 12-20 mV, tau_I 10-20 ms found one root
    everywhere.) Every solution of the pair is then a root of the one-dimensional
    R(nu_E) = phi_E(nu_E, h(nu_E)) - nu_E, and each root of R is one: R is bracketed on
    the one-population code's grid (0 and ``n_grid`` log-spaced rates from 1e-6 Hz to
    nu_max_E) and each sign change refined with Brent's method (tolerance 1e-12).
    h is bracketed on a coarse grid (0 and ``n_inner`` log-spaced rates up to
    nu_max_I) and refined likewise; should that grid show several roots (the I nullcline
    folds back), a RuntimeWarning says so, the highest is used, and solutions on the
    other branches are missed.

    Parameters
    ----------
    phi_e, phi_i : callable
        (nu_E, nu_I) -> each population's rate (Hz) under that input.
    nu_max_e, nu_max_i : float
        Hz, the saturation rates 1/tau_rp of the two populations.
    highest_only : bool
        Only the highest root, by scanning R down from the top (the same bracket, the
        same root, fewer evaluations).
    """
    inner_grid = np.concatenate([[0.0], np.geomspace(1e-6, nu_max_i * (1 - 1e-9), n_inner)])

    def h(nu_e: float) -> float:
        roots = _bracketed(lambda x: phi_i(nu_e, x) - x, inner_grid, highest_only=False)
        if len(roots) > 1:
            warnings.warn(f"the I equation has {len(roots)} roots at nu_E = {nu_e:.4g} Hz; "
                          "the highest is used", RuntimeWarning, stacklevel=3)
        return roots[-1]

    grid = np.concatenate([[0.0], np.geomspace(1e-6, nu_max_e * (1 - 1e-9), n_grid)])
    roots = _bracketed(lambda nu: phi_e(nu, h(nu)) - nu, grid, highest_only)
    return [(nu, h(nu)) for nu in roots]
