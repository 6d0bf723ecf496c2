"""Brunel's (2000) mean-field theory of model A, for any network's parameters, and of
two populations whose I neurons differ (``analysis.theory_two_pop``).

Units: ms, mV, Hz at the interface; inside, time is in units of tau where stated.

- ``stationary_rates``: every self-consistent rate nu0 of::

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
- Two populations (``Params`` with inhibitory values): each population's own mean
  field, every self-consistent pair (nu_E, nu_I), the 2x2 loop gain G_ab(w) and its
  characteristic gain F = 1 - det(I - G) in place of G (docs/theory.md). Where the two
  populations are identical at a point, every function takes model A's one-dimensional
  path, which the two-population path reproduces (tests/test_theory_two_pop.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, special

from analysis.theory_two_pop import (
    characteristic_gain,
    couplings,
    mean_field,
    self_consistent_pairs,
)
from sweep.config import INHIBITORY, Population
from sweep.model import MS, threshold_rate

SQRT_PI = math.sqrt(math.pi)


@dataclass(frozen=True)
class Params:
    """What the theory needs of a network (paper units: mV, ms): model A's values, which
    are the E population's, and the I population's own (``sweep.config.INHIBITORY``).
    An I value None is the E value: for tau_I, tau_rp_I, theta_I, V_r_I and J_I that is
    a number; g_I and eta_I None follow the plane's g and eta at each point, a number
    holds them fixed."""

    C_E: int
    gamma: float  # C_I / C_E
    J: float  # mV
    D: float  # ms
    theta: float  # mV
    V_r: float  # mV
    tau: float  # ms
    tau_rp: float  # ms
    tau_I: float | None = None  # ms
    tau_rp_I: float | None = None  # ms
    theta_I: float | None = None  # mV
    V_r_I: float | None = None  # mV
    J_I: float | None = None  # mV, an excitatory input onto an I neuron
    g_I: float | None = None  # an inhibitory input onto an I neuron jumps by -g_I J_I
    eta_I: float | None = None  # the I neurons' nu_ext / nu_thr (E's nu_thr)

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
                   V_r=network.V_r, tau=network.tau, tau_rp=network.tau_rp,
                   **{own: getattr(network, own) for own in INHIBITORY})

    def populations(self, g: float, eta: float) -> tuple[Population, Population]:
        """The E and I populations' resolved values at the plane's point (g, eta)."""
        e = Population(tau=self.tau, tau_rp=self.tau_rp, theta=self.theta, V_r=self.V_r,
                       J=self.J, g=float(g), eta=float(eta))
        own = {base: getattr(self, key) for key, base in INHIBITORY.items()}
        return e, dataclasses.replace(e, **{k: float(v) for k, v in own.items()
                                            if v is not None})

    def neuron(self, pop: Population) -> Params:
        """These params with ``pop``'s neuron and J: what ``siegert``, ``isi_cv`` and
        ``rate_response`` read (theta, V_r, tau, tau_rp) for that population."""
        return dataclasses.replace(self, tau=pop.tau, tau_rp=pop.tau_rp, theta=pop.theta,
                                   V_r=pop.V_r, J=pop.J)


def _model_a(p: Params, g: float, eta: float) -> bool:
    """Whether the two populations are identical at (g, eta): then model A's
    one-dimensional path gives every value."""
    e, i = p.populations(g, eta)
    return e == i


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
    of phi(nu) - nu on a log grid up to the saturation rate 1/tau_rp. Two populations:
    the E rates of ``stationary_pairs``."""
    if not _model_a(p, g, eta):
        return [nu_e for nu_e, _ in stationary_pairs(p, g, eta, n_grid)]
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


def transfer(p: Params, g: float, eta: float):
    """(phi_E, phi_I): each population's Siegert rate (Hz) as a function of the rates
    (nu_E, nu_I) at (g, eta), through its ``mean_field`` input."""
    c_i = p.gamma * p.C_E

    def phi(pop: Population):
        neuron = p.neuron(pop)
        return lambda nu_e, nu_i: siegert(neuron, *mean_field(pop, p.C_E, c_i,
                                                              pop.eta * p.nu_thr, nu_e, nu_i))

    return tuple(phi(pop) for pop in p.populations(g, eta))


def _pairs_2d(p: Params, g: float, eta: float, n_grid: int = 400,
              highest_only: bool = False) -> list[tuple[float, float]]:
    """``self_consistent_pairs`` of the two populations' Siegert rates at (g, eta)."""
    e, i = p.populations(g, eta)
    return self_consistent_pairs(*transfer(p, g, eta), 1e3 / e.tau_rp, 1e3 / i.tau_rp, n_grid,
                                 highest_only=highest_only)


def stationary_pairs(p: Params, g: float, eta: float, n_grid: int = 400
                     ) -> list[tuple[float, float]]:
    """Every self-consistent pair (nu_E, nu_I) (Hz) of
    nu_a = Siegert_a(mu_a(nu_E, nu_I), sigma_a(nu_E, nu_I)), a = E, I, ascending in nu_E
    (``analysis.theory_two_pop.self_consistent_pairs``: the method and why it finds
    every pair). Identical populations: (nu0, nu0) for each of ``stationary_rates``
    (every solution then has nu_E = nu_I)."""
    if _model_a(p, g, eta):
        return [(nu, nu) for nu in stationary_rates(p, g, eta, n_grid)]
    return _pairs_2d(p, g, eta, n_grid)


@functools.lru_cache(maxsize=1024)  # the lines' solvers ask again at the same point
def _highest_2d(p: Params, g: float, eta: float) -> tuple[float, float]:
    pairs = _pairs_2d(p, g, eta, highest_only=True)
    return pairs[-1] if pairs else (0.0, 0.0)


def nu0_pair(p: Params, g: float, eta: float) -> tuple[float, float]:
    """The stationary rates (nu_E, nu_I) (Hz) the theory reports: the highest
    self-consistent pair, the high-activity state simulations show."""
    if _model_a(p, g, eta):
        nu = nu0(p, g, eta)
        return nu, nu
    return _highest_2d(p, float(g), float(eta))


def nu0(p: Params, g: float, eta: float) -> float:
    """The stationary rate (Hz) the theory reports: the highest self-consistent root
    (two populations: the E rate of ``nu0_pair``)."""
    if not _model_a(p, g, eta):
        return nu0_pair(p, g, eta)[0]
    roots = stationary_rates(p, g, eta)
    return roots[-1] if roots else 0.0


def network_rate(p: Params, nu_e: float, nu_i: float) -> float:
    """Hz, the mean rate over all neurons, (nu_E + gamma nu_I) / (1 + gamma) (N_I / N_E =
    C_I / C_E): the rate the classifier calls quiescent or not. nu_E when they are equal,
    as in model A."""
    return nu_e if nu_e == nu_i else (nu_e + p.gamma * nu_i) / (1 + p.gamma)


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


def gain_matrix(p: Params, g: float, eta: float, w: float, rates: tuple[float, float]
                ) -> np.ndarray:
    """The 2x2 loop gain of the asynchronous state with rates (nu_E, nu_I) (Hz) at w
    (units of E's 1/tau):

        G_ab(w) = [d mu_a/d nu_b chi_mu,a(w_a) + d Dn_a/d nu_b chi_D,a(w_a)] / tau_a
                  * exp(i w D / tau),

    chi of population a's neuron at its own w_a = w tau_a / tau (``rate_response``
    takes and returns quantities per 1/tau_a, hence the 1 / tau_a). Identical
    populations: both rows equal, rank 1, the nonzero eigenvalue model A's G."""
    c_i = p.gamma * p.C_E
    rows = []
    for pop, nu in zip(p.populations(g, eta), rates, strict=True):
        d_mu, d_dn = couplings(pop, p.C_E, c_i)
        if nu <= 0:  # a silent population does not respond
            rows.append(np.zeros(2, complex))
            continue
        mu, sigma = mean_field(pop, p.C_E, c_i, pop.eta * p.nu_thr, *rates)
        tau_s = pop.tau * MS
        chi_mu, chi_d = rate_response(p.neuron(pop), mu, sigma, nu * tau_s, w * pop.tau / p.tau)
        rows.append((d_mu * chi_mu + d_dn * chi_d) / tau_s)
    return np.array(rows) * np.exp(1j * w * p.D / p.tau)


def _as_pair(rate: float | tuple[float, float]) -> tuple[float, float]:
    return (rate, rate) if np.isscalar(rate) else (float(rate[0]), float(rate[1]))


def loop_gain(p: Params, g: float, eta: float, w: float,
              rate: float | tuple[float, float] | None = None) -> complex:
    """G(w) of the asynchronous state at (g, eta); w in units of 1/tau. ``rate``: nu0,
    or (nu_E, nu_I), if known. Two populations: the characteristic gain
    F = 1 - det(I - G(w)) of ``gain_matrix``, which equals model A's G where the
    populations are identical and is 1 exactly where det(I - G) = 0."""
    if not _model_a(p, g, eta):
        rates = nu0_pair(p, g, eta) if rate is None else _as_pair(rate)
        return characteristic_gain(gain_matrix(p, g, eta, w, rates))
    nu = nu0(p, g, eta) if rate is None else _as_pair(rate)[0]
    mu, sigma = mu_sigma(p, g, eta * p.nu_thr, nu)
    chi_mu, chi_d = rate_response(p, mu, sigma, nu * p.tau_s, w)
    r_mu = p.C_E * p.J * (1 - g * p.gamma)
    r_d = p.C_E * p.J**2 * (1 + g**2 * p.gamma) / 2
    return (r_mu * chi_mu + r_d * chi_d) * np.exp(1j * w * p.D / p.tau)


def unstable_modes(p: Params, g: float, eta: float, f_max: float | None = None,
                   n_freq: int = 40, rate: float | tuple[float, float] | None = None
                   ) -> list[tuple[float, float]]:
    """Crossings of the positive real axis by G: [(frequency in Hz, Re G)], found by
    scanning Im G on a log frequency grid up to ``f_max`` (default 1.5 / D, past the
    SR mode near 1 / D) and refining each sign change. The asynchronous state is
    unstable where some Re G exceeds 1. ``rate``: nu0, or (nu_E, nu_I), if known. Two
    populations: G is ``loop_gain``'s characteristic gain F."""
    f_max = f_max or 1.5 / (p.D * MS)
    rates = nu0_pair(p, g, eta) if rate is None else _as_pair(rate)
    if max(rates) <= 0:
        return []
    to_w = 2 * math.pi * p.tau_s
    freqs = np.geomspace(2.0, f_max, n_freq)
    gains = [loop_gain(p, g, eta, f * to_w, rates) for f in freqs]
    modes = []
    for a, b, ga, gb in zip(freqs[:-1], freqs[1:], gains[:-1], gains[1:], strict=True):
        if ga.imag * gb.imag < 0 and (ga.real > 0 or gb.real > 0):
            f = optimize.brentq(lambda f: loop_gain(p, g, eta, f * to_w, rates).imag, a, b,
                                xtol=1e-3)
            re = loop_gain(p, g, eta, f * to_w, rates).real
            if re > 0:
                modes.append((f, re))
    return modes


@dataclass(frozen=True)
class Prediction:
    state: str
    nu0: float  # Hz, the E rate (model A: the rate)
    f_unstable: float | None  # Hz, the most unstable mode (largest Re G above 1)
    margin: float  # max Re G over real-axis crossings, minus 1 (< 0: stable)
    cv: float  # CV of the E neurons' ISIs in the stationary state (diffusion approximation)
    bistable: bool = False  # a quiescent stationary state coexists with this one
    nu0_I: float = math.nan  # Hz, the I rate (model A: nu0)


def predict(p: Params, g: float, eta: float, f_fast: float, quiescent_rate: float
            ) -> Prediction:
    """The state the theory gives at (g, eta): quiescent below ``quiescent_rate``;
    else asynchronous if stable (AR where excitation dominates, g gamma < 1, AI
    otherwise), else SR (g gamma < 1), SI-fast or SI-slow by the unstable mode's
    frequency against ``f_fast`` (the same split as the classifier). ``bistable``: the
    lowest root is quiescent too (always stable: without activity there is no
    feedback), so which state a network reaches depends on how it starts.

    Two populations: the highest pair (nu_E, nu_I); quiescent and bistable by the mean
    rate over all neurons (``network_rate``), what the classifier reads; stability by
    the characteristic gain F; "excitation dominates" where the E neurons' net
    recurrent input grows with the network's rate, d mu_E / d nu at nu_E = nu_I = nu,
    tau J C_E (1 - g gamma) > 0: the same g gamma < 1 (g is E's)."""
    pairs = stationary_pairs(p, g, eta)
    nu, nu_i = pairs[-1] if pairs else (0.0, 0.0)
    if network_rate(p, nu, nu_i) < quiescent_rate:
        return Prediction("quiescent", nu, None, -1.0, 1.0, nu0_I=nu_i)
    bistable = network_rate(p, *pairs[0]) < quiescent_rate
    if _model_a(p, g, eta):
        cv = isi_cv(p, *mu_sigma(p, g, eta * p.nu_thr, nu))
    else:
        e = p.populations(g, eta)[0]
        cv = isi_cv(p, *mean_field(e, p.C_E, p.gamma * p.C_E, eta * p.nu_thr, nu, nu_i))
    modes = unstable_modes(p, g, eta, rate=(nu, nu_i))
    margin = max((re for _, re in modes), default=0.0) - 1.0
    excitatory = g * p.gamma < 1
    if margin <= 0:
        return Prediction("AR" if excitatory else "AI", nu, None, margin, cv, bistable, nu_i)
    f = max(modes, key=lambda m: m[1])[0]
    state = "SR" if excitatory else ("SI-fast" if f >= f_fast else "SI-slow")
    return Prediction(state, nu, f, margin, cv, bistable, nu_i)


def state_map(p: Params, pairs, f_fast: float, quiescent_rate: float, jobs: int = -1,
              code: str = ""):
    """``predict`` at every (g, eta) of ``pairs``, in parallel processes: a DataFrame
    with g, eta, state, nu0, nu0_I, f_unstable, margin, cv, bistable. ``code`` only keys
    caches (``code_version()``)."""
    import pandas as pd
    from joblib import Parallel, delayed

    pairs = [(float(g), float(e)) for g, e in pairs]
    preds = Parallel(n_jobs=jobs)(delayed(predict)(p, g, e, f_fast, quiescent_rate)
                                  for g, e in pairs)
    return pd.DataFrame({"g": [g for g, _ in pairs], "eta": [e for _, e in pairs],
                         "state": [r.state for r in preds], "nu0": [r.nu0 for r in preds],
                         "nu0_I": [r.nu0_I for r in preds],
                         "f_unstable": [r.f_unstable for r in preds],
                         "margin": [float(r.margin) for r in preds],
                         "cv": [r.cv for r in preds],
                         "bistable": [r.bistable for r in preds]})


def code_version() -> str:
    """A hash of the theory's sources (this module, ``theory_two_pop`` and
    ``theory_lines``): cached theory results are keyed by it."""
    import hashlib

    here = Path(__file__).parent
    source = b"".join((here / name).read_bytes()
                      for name in ("theory.py", "theory_two_pop.py", "theory_lines.py"))
    return hashlib.sha256(source).hexdigest()[:12]


def cache_dir() -> Path:
    """Where computed theory is kept across runs and commands: ``$BRUNEL_SWEEP_CACHE``, else
    ``$XDG_CACHE_HOME/brunel-sweep`` (default ``~/.cache/brunel-sweep``)."""
    import os

    if os.environ.get("BRUNEL_SWEEP_CACHE"):
        return Path(os.environ["BRUNEL_SWEEP_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brunel-sweep"


def cached(fn):
    """``fn`` memoized on disk in ``cache_dir()`` by its arguments (joblib.Memory; ``jobs``
    does not change a result, so it is not part of the key), or ``fn`` itself where that
    directory cannot be made: a cache must never stop a run. Callers pass
    ``code=code_version()`` so that a change of the theory's sources is a miss."""
    from joblib import Memory

    where = cache_dir()
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return fn
    return Memory(where, verbose=0).cache(fn, ignore=["jobs"])
