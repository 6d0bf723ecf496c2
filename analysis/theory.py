"""Brunel's (2000) mean-field theory of model A, for any network's parameters.

Units: ms, mV, Hz at the interface; inside, time is in units of tau where stated.

- ``stationary_rates``: every self-consistent rate nu0 of
      1/nu0 = tau_rp + tau sqrt(pi) int_{(V_r-mu)/sigma}^{(theta-mu)/sigma} erfcx(-u) du,
      mu = C_E J tau (nu_ext + nu0 (1 - g gamma)),
      sigma^2 = J^2 C_E tau (nu_ext + nu0 (1 + g^2 gamma)).
  ``nu0`` reports the highest root: where several exist, the high-activity one is
  what simulations show (above eta of about 0.85 at the standard parameters).
- ``rate_response``: the LIF's linear response to modulations of the mean (chi_mu)
  and of the noise intensity (chi_D) at angular frequency w (units of 1/tau),
  with parabolic cylinder functions of complex order (Lindner & Schimansky-Geier
  2001); its w -> 0 limits are the derivatives of the stationary rate.
- ``unstable_modes``: the frequencies at which the network's loop gain
  G(w) = [R_mu chi_mu(w) + R_D chi_D(w)] exp(i w D / tau) crosses the real axis
  above 1: the asynchronous state is unstable there, and that frequency is the
  oscillation of the state that replaces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, special

from sweep.model import MS, threshold_rate

SQRT_PI = math.sqrt(math.pi)


@dataclass(frozen=True)
class Params:
    """What the theory needs of a network (paper units: mV, ms)."""

    C_E: int
    gamma: float  # C_I / C_E
    J: float  # mV
    D: float  # ms
    theta: float  # mV
    V_r: float  # mV
    tau: float  # ms
    tau_rp: float  # ms

    @property
    def nu_thr(self) -> float:
        """Hz: the external rate that brings the mean input to threshold."""
        return threshold_rate(self.theta, self.J, self.C_E, self.tau)

    @property
    def tau_s(self) -> float:
        return self.tau * MS

    @classmethod
    def from_config(cls, network) -> Params:
        """From a ``NetworkConfig``."""
        return cls(C_E=network.C_E, gamma=network.C_I / network.C_E, J=network.J,
                   D=network.D, theta=network.theta,
                   V_r=network.V_r, tau=network.tau, tau_rp=network.tau_rp)


def mu_sigma(p: Params, g: float, nu_ext: float, nu: float) -> tuple[float, float]:
    """Mean (mV) and standard deviation (mV) of the input for a rate nu (Hz)."""
    mu = p.C_E * p.J * p.tau_s * (nu_ext + nu * (1 - g * p.gamma))
    var = p.J**2 * p.C_E * p.tau_s * (nu_ext + nu * (1 + g**2 * p.gamma))
    return mu, math.sqrt(var)


def _integral(y_r: float, y_th: float) -> float:
    """int_{y_r}^{y_th} erfcx(-u) du, which is exp(u^2)(1 + erf u); inf if it overflows."""
    if y_th > 26.0:  # exp(y^2) beyond double range: the neuron never fires
        return math.inf
    value, _ = integrate.quad(lambda u: special.erfcx(-u), y_r, y_th, limit=200)
    return value


def siegert(p: Params, mu: float, sigma: float) -> float:
    """Output rate (Hz) of the LIF for input mean mu and standard deviation sigma (mV)."""
    y_th, y_r = (p.theta - mu) / sigma, (p.V_r - mu) / sigma
    integral = _integral(y_r, y_th)
    if math.isinf(integral):
        return 0.0
    return 1.0 / (p.tau_rp * MS + p.tau_s * SQRT_PI * integral)


def isi_cv(p: Params, mu: float, sigma: float) -> float:
    """CV of the LIF's inter-spike intervals under white-noise input (the second moment of
    the first-passage time, e.g. Tuckwell 1988):
    CV^2 = 2 pi (nu tau)^2 int_{y_r}^{y_th} dx e^{x^2}
    int_{-inf}^{x} dy e^{y^2} (1 + erf y)^2, written with erfcx so that nothing overflows.
    1 in the Poisson limit (rare spikes), 0 for a noiseless mean-driven neuron."""
    y_th, y_r = (p.theta - mu) / sigma, (p.V_r - mu) / sigma
    nu = siegert(p, mu, sigma)
    if nu == 0.0:
        return 1.0  # no spikes to speak of: the Poisson limit

    def inner(x: float) -> float:  # e^{x^2} int_{-inf}^{x} e^{y^2} (1 + erf y)^2 dy
        f = lambda y: math.exp(x * x - y * y) * special.erfcx(-y) ** 2  # noqa: E731
        if x <= 0:
            return integrate.quad(f, -np.inf, x)[0]
        return integrate.quad(f, -np.inf, 0)[0] + integrate.quad(f, 0, x, limit=200)[0]

    outer, _ = integrate.quad(inner, y_r, y_th, limit=200)
    return math.sqrt(2 * math.pi * outer) * nu * p.tau_s


def _residual(p: Params, g: float, nu_ext: float, nu: float) -> float:
    return siegert(p, *mu_sigma(p, g, nu_ext, nu)) - nu


def stationary_rates(p: Params, g: float, eta: float, n_grid: int = 400) -> list[float]:
    """All self-consistent rates nu0 (Hz), ascending, found by bracketing sign changes
    of phi(nu) - nu on a log grid up to the saturation rate 1/tau_rp."""
    nu_ext = eta * p.nu_thr
    nu_max = 1e3 / p.tau_rp
    grid = np.concatenate([[0.0], np.geomspace(1e-6, nu_max * (1 - 1e-9), n_grid)])
    values = [_residual(p, g, nu_ext, nu) for nu in grid]
    roots = []
    if values[0] == 0.0:
        roots.append(0.0)
    for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:], strict=True):
        if fa == 0.0 and a > 0:
            roots.append(a)
        elif fa * fb < 0:
            roots.append(optimize.brentq(lambda nu: _residual(p, g, nu_ext, nu), a, b,
                                         xtol=1e-12, rtol=1e-12))
    return roots


def nu0(p: Params, g: float, eta: float) -> float:
    """The stationary rate (Hz) the theory reports: the highest self-consistent root."""
    roots = stationary_rates(p, g, eta)
    return roots[-1] if roots else 0.0


def rate_response(p: Params, mu: float, sigma: float, r0: float, w: float
                  ) -> tuple[complex, complex]:
    """(chi_mu, chi_D) at angular frequency w (units of 1/tau), for a neuron with input
    mean mu and std sigma (mV) firing at r0 = nu0 tau. chi_mu is per mV of mean,
    chi_D per mV^2 of noise intensity Dn = sigma^2 / 2, both in units of 1/tau."""
    import mpmath  # arbitrary exponent range: D_a(x) and e^Delta overflow doubles at high rates

    dn = sigma**2 / 2
    x_t, x_r = (mu - p.theta) / math.sqrt(dn), (mu - p.V_r) / math.sqrt(dn)
    delta = (p.V_r**2 - p.theta**2 + 2 * mu * (p.theta - p.V_r)) / (4 * dn)
    e_delta = mpmath.exp(delta)
    iw = mpmath.mpc(0, w)
    pcfd = mpmath.pcfd
    den = pcfd(iw, x_t) - e_delta * mpmath.exp(iw * p.tau_rp / p.tau) * pcfd(iw, x_r)
    chi_mu = (r0 * iw / (math.sqrt(dn) * (iw - 1))
              * (pcfd(iw - 1, x_t) - e_delta * pcfd(iw - 1, x_r)) / den)
    chi_d = (r0 * iw * (iw - 1) / (dn * (2 - iw))
             * (pcfd(iw - 2, x_t) - e_delta * pcfd(iw - 2, x_r)) / den)
    return complex(chi_mu), complex(chi_d)


def loop_gain(p: Params, g: float, eta: float, w: float, rate: float | None = None) -> complex:
    """G(w) of the asynchronous state at (g, eta); w in units of 1/tau."""
    nu = nu0(p, g, eta) if rate is None else rate
    mu, sigma = mu_sigma(p, g, eta * p.nu_thr, nu)
    chi_mu, chi_d = rate_response(p, mu, sigma, nu * p.tau_s, w)
    r_mu = p.C_E * p.J * (1 - g * p.gamma)
    r_d = p.C_E * p.J**2 * (1 + g**2 * p.gamma) / 2
    return (r_mu * chi_mu + r_d * chi_d) * np.exp(1j * w * p.D / p.tau)


def unstable_modes(p: Params, g: float, eta: float, f_max: float | None = None,
                   n_freq: int = 40, rate: float | None = None) -> list[tuple[float, float]]:
    """Crossings of the positive real axis by G: [(frequency in Hz, Re G)], found by
    scanning Im G on a log frequency grid up to ``f_max`` (default 1.5 / D, past the
    SR mode near 1 / D) and refining each sign change. The asynchronous state is
    unstable where some Re G exceeds 1. ``rate``: nu0 if known."""
    f_max = f_max or 1.5 / (p.D * MS)
    nu = nu0(p, g, eta) if rate is None else rate
    if nu <= 0:
        return []
    to_w = 2 * math.pi * p.tau_s
    freqs = np.geomspace(2.0, f_max, n_freq)
    gains = [loop_gain(p, g, eta, f * to_w, nu) for f in freqs]
    modes = []
    for a, b, ga, gb in zip(freqs[:-1], freqs[1:], gains[:-1], gains[1:], strict=True):
        if ga.imag * gb.imag < 0 and (ga.real > 0 or gb.real > 0):
            f = optimize.brentq(lambda f: loop_gain(p, g, eta, f * to_w, nu).imag, a, b,
                                xtol=1e-3)
            re = loop_gain(p, g, eta, f * to_w, nu).real
            if re > 0:
                modes.append((f, re))
    return modes


@dataclass(frozen=True)
class Prediction:
    state: str
    nu0: float  # Hz
    f_unstable: float | None  # Hz, the most unstable mode (largest Re G above 1)
    margin: float  # max Re G over real-axis crossings, minus 1 (< 0: stable)
    cv: float  # CV of ISIs of the stationary state (diffusion approximation)
    bistable: bool = False  # a quiescent stationary state coexists with this one


def predict(p: Params, g: float, eta: float, f_fast: float, quiescent_rate: float
            ) -> Prediction:
    """The state the theory gives at (g, eta): quiescent below ``quiescent_rate``;
    else asynchronous if stable (AR where excitation dominates, g gamma < 1, AI
    otherwise), else SR (g gamma < 1), SI-fast or SI-slow by the unstable mode's
    frequency against ``f_fast`` (the same split as the classifier). ``bistable``: the
    lowest root is quiescent too (always stable: without activity there is no
    feedback), so which state a network reaches depends on how it starts."""
    roots = stationary_rates(p, g, eta)
    nu = roots[-1] if roots else 0.0
    if nu < quiescent_rate:
        return Prediction("quiescent", nu, None, -1.0, 1.0)
    bistable = roots[0] < quiescent_rate
    cv = isi_cv(p, *mu_sigma(p, g, eta * p.nu_thr, nu))
    modes = unstable_modes(p, g, eta, rate=nu)
    margin = max((re for _, re in modes), default=0.0) - 1.0
    excitatory = g * p.gamma < 1
    if margin <= 0:
        return Prediction("AR" if excitatory else "AI", nu, None, margin, cv, bistable)
    f = max(modes, key=lambda m: m[1])[0]
    state = "SR" if excitatory else ("SI-fast" if f >= f_fast else "SI-slow")
    return Prediction(state, nu, f, margin, cv, bistable)


def state_map(p: Params, pairs, f_fast: float, quiescent_rate: float, jobs: int = -1,
              code: str = ""):
    """``predict`` at every (g, eta) of ``pairs``, in parallel processes: a DataFrame
    with g, eta, state, nu0, f_unstable, margin, cv, bistable. ``code`` only keys
    caches (``code_version()``)."""
    import pandas as pd
    from joblib import Parallel, delayed

    pairs = [(float(g), float(e)) for g, e in pairs]
    preds = Parallel(n_jobs=jobs)(delayed(predict)(p, g, e, f_fast, quiescent_rate)
                                  for g, e in pairs)
    return pd.DataFrame({"g": [g for g, _ in pairs], "eta": [e for _, e in pairs],
                         "state": [r.state for r in preds], "nu0": [r.nu0 for r in preds],
                         "f_unstable": [r.f_unstable for r in preds],
                         "margin": [float(r.margin) for r in preds],
                         "cv": [r.cv for r in preds],
                         "bistable": [r.bistable for r in preds]})


def code_version() -> str:
    """A hash of the theory's sources (this module and ``theory_lines``): cached theory
    results are keyed by it."""
    import hashlib

    here = Path(__file__).parent
    source = b"".join((here / name).read_bytes() for name in ("theory.py", "theory_lines.py"))
    return hashlib.sha256(source).hexdigest()[:12]
