"""The boundaries of Brunel's Fig. 2 as lines, by root-finding (``analysis.theory``).

- Instabilities (asynchronous -> SR, AI -> SI-fast, the SI-slow band): where the loop
  gain G(w) of the asynchronous state equals 1 at a real frequency, solved for the
  frequency and one coordinate at fixed values of the other (two real equations,
  Re G = 1 and Im G = 0, in two unknowns), following each line by continuation
  from a point the cross-check values of docs/theory.md give.
- Onset of activity: where the stationary rate nu0 (the highest root) reaches the
  classifier's rate floor, solved in eta at fixed g.
- Balance: g gamma = 1, where the theory's asynchronous state changes from
  excitation-dominated (AR) to inhibition-dominated (AI).

Two populations (``Params`` with inhibitory values): the same lines, with G the
characteristic gain F = 1 - det(I - G) of the 2x2 loop gain (``analysis.theory.loop_gain``),
so that Re F = 1, Im F = 0 is det(I - G) = 0 as two real equations; the onset is where
the mean rate over all neurons (``network_rate``) reaches the floor; g_I and eta_I
follow g and eta where they are None.

Any plane of two parameters (``axes``: g, eta or any number ``Params`` holds, e.g.
``("g", "J_I")``; the network's g and eta where they are not axes): the same equations
along the same continuation. Only Fig. 2's plane has known first points; on another
plane the SI lines start from a coarse scan along each axis (the longer line is kept),
the SR line from first guesses spread over the plane, and the onset is solved along
eta if it is an axis, else along the second axis.

A line is a table of (line, x, y, f_hz) rows in the order of the line, x and y named by
the axes ((line, g, eta, f_hz) on Fig. 2's plane); f_hz is the frequency of the mode
that becomes unstable there (NaN for the onset and the balance).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from analysis.theory import Params, loop_gain, network_rate, nu0_pair

LINES = ("SR", "SI-fast", "SI-slow", "onset", "balance")
Plane = tuple[tuple[float, float], tuple[float, float]]  # (x from, to), (y from, to)
FIG2_AXES = ("g", "eta")
# What an axis may be besides g and eta: the numbers of Params, C_E (a count) aside.
PARAMS_AXES = tuple(f.name for f in dataclasses.fields(Params) if f.name != "C_E")
_SIGNED = ("V_r", "V_r_I")  # the only parameters that may be zero or negative


def axis_name(key: str) -> str:
    """``key`` as an axis of ``line`` ("network.J_I" or "J_I" -> "J_I"), or ValueError
    naming the keys an axis may be."""
    name = key.removeprefix("network.")
    if name not in ("g", "eta", *PARAMS_AXES):
        raise ValueError(f"{key!r} cannot be an axis of the theory's plane: use g, eta or "
                         f"one of {', '.join(PARAMS_AXES)}")
    return name


@dataclass(frozen=True)
class _Frame:
    """The network at a point (x, y) of a plane: ``p`` with the axes' values, and the
    g and eta there (``held`` where they are not axes)."""

    p: Params
    axes: tuple[str, str]
    held: tuple[float, float]  # g, eta

    def at(self, x: float, y: float) -> tuple[Params, float, float]:
        values = dict(zip(FIG2_AXES, self.held, strict=True))
        extra = {}
        for key, v in zip(self.axes, (x, y), strict=True):
            (values if key in values else extra)[key] = float(v)
        p = dataclasses.replace(self.p, **extra) if extra else self.p
        return p, values["g"], values["eta"]

    def valid(self, x: float, y: float) -> bool:
        return all(v > 0 or key in _SIGNED for key, v in zip(self.axes, (x, y), strict=True))

    def point(self, fixed: int, value: float, free: float) -> tuple[float, float]:
        """(x, y) with axis ``fixed`` (0: x, 1: y) at ``value``, the other at ``free``."""
        return (value, free) if fixed == 0 else (free, value)

    def gain(self, x: float, y: float, f_hz: float, rates=None) -> complex:
        p, g, eta = self.at(x, y)
        return loop_gain(p, g, eta, 2 * math.pi * f_hz * p.tau_s, rates)

    def rate(self, x: float, y: float) -> float:
        p, g, eta = self.at(x, y)
        return network_rate(p, *nu0_pair(p, g, eta))


def _solve(fr: _Frame, fixed: int, value: float, guess: tuple[float, float]
           ) -> tuple[float, float] | None:
    """(f in Hz, the free coordinate) where G = 1, the other coordinate (``fixed``: 0
    for x, 1 for y) held at ``value``; None if the solver does not converge."""
    def residual(x: np.ndarray) -> list[float]:
        f, free = x[0] * 100, x[1]  # f in units of 100 Hz: both unknowns of order 1
        at = fr.point(fixed, value, free)
        if f <= 0 or not fr.valid(*at):
            return [1e3, 1e3]
        gain = fr.gain(*at, f)
        return [gain.real - 1, gain.imag]

    sol = optimize.root(residual, [guess[0] / 100, guess[1]], method="hybr",
                        options={"xtol": 1e-7})
    if not sol.success or max(abs(v) for v in sol.fun) > 1e-6:
        return None
    return float(sol.x[0] * 100), float(sol.x[1])


def _crossing(fr: _Frame, fixed: int, value: float, free: float, band: tuple[float, float],
              n_freq: int = 8) -> tuple[float, float] | None:
    """(f, Re G) where G crosses the real axis in ``band`` (Hz), linearly interpolated on
    a coarse frequency grid; the crossing with the largest Re G; None if none."""
    at = fr.point(fixed, value, free)
    p, g, eta = fr.at(*at)
    rates = nu0_pair(p, g, eta)
    if network_rate(p, *rates) < 0.2:
        return None
    freqs = np.geomspace(*band, n_freq)
    gains = [fr.gain(*at, f, rates) for f in freqs]
    found = []
    for fa, fb, ga, gb in zip(freqs[:-1], freqs[1:], gains[:-1], gains[1:], strict=True):
        if ga.imag * gb.imag < 0:
            t = ga.imag / (ga.imag - gb.imag)
            found.append((fa + t * (fb - fa), ga.real + t * (gb.real - ga.real)))
    return max(found, key=lambda c: c[1]) if found else None


def _seed(fr: _Frame, fixed: int, values: np.ndarray, start: int, guess: tuple[float, float],
          free_grid: np.ndarray | None, band: tuple[float, float]) -> tuple[int, tuple] | None:
    """A first point of the line: the guess solved at ``values[start]``; failing that
    (another network), a coarse scan of ``free_grid`` (None: no scan) for Re G
    crossing 1, at every fourth fixed value, nearest ``start`` first."""
    sol = _solve(fr, fixed, float(values[start]), guess)
    if sol is not None and band[0] <= sol[0] <= band[1]:
        return start, sol
    if free_grid is None:
        return None
    for i in sorted(range(0, len(values), 4), key=lambda i: abs(i - start)):
        prev = None
        for free in free_grid:
            here = _crossing(fr, fixed, float(values[i]), float(free), band)
            if prev and here and (prev[1][1] - 1) * (here[1] - 1) < 0:
                sol = _solve(fr, fixed, float(values[i]), (here[0], float(free)))
                if sol is not None and band[0] <= sol[0] <= band[1]:
                    return i, sol
            prev = (free, here) if here else None
    return None


def _follow(fr: _Frame, fixed: int, values: np.ndarray, start: int,
            guess: tuple[float, float], free_range: tuple[float, float],
            band: tuple[float, float], scan: bool = True) -> list[tuple[float, float, float]]:
    """Continue a G = 1 line over ``values`` of the fixed coordinate, both ways from
    its first point (``_seed``, scanning only if ``scan``): (fixed value, free value,
    f) while the solution stays in ``free_range`` and its frequency in ``band`` (Hz)."""
    low = max(free_range[0], 0.25) if fr.axes[1 - fixed] in FIG2_AXES else free_range[0]
    grid = np.linspace(low, free_range[1], 8) if scan else None
    seed = _seed(fr, fixed, values, start, guess, grid, band)
    if seed is None:
        return []
    start, first = seed
    found: dict[float, tuple[float, float]] = {}
    for direction in (values[start:], values[:start][::-1]):
        last = found.get(float(values[start]), first)
        for v in direction:
            sol = _solve(fr, fixed, float(v), last)
            if sol is None or not (free_range[0] <= sol[1] <= free_range[1]
                                   and band[0] <= sol[0] <= band[1]):
                break
            found[float(v)] = last = sol
    return [(v, found[v][1], found[v][0]) for v in sorted(found)]


def _onset(fr: _Frame, along: int, value: float, span: tuple[float, float], floor: float
           ) -> float | None:
    """The coordinate ``along`` (0: x, 1: y) at which the mean rate nu0 reaches
    ``floor`` Hz, the other axis at ``value`` (None if it does not within ``span``)."""
    def excess(v: float) -> float:
        return math.log(max(fr.rate(*fr.point(1 - along, value, v)), 1e-12) / floor)

    lo, hi = span
    if excess(lo) * excess(hi) > 0:
        return None
    return float(optimize.brentq(excess, lo, hi, xtol=1e-4))


def _rows(line: str, axes: tuple[str, str], pts: Iterator[tuple[float, float, float]]
          ) -> list[dict]:
    return [{"line": line, axes[0]: x, axes[1]: y, "f_hz": f} for x, y, f in pts]


# Where each instability's frequency lies (Hz): a solution outside its band is another line.
BANDS = {"SR": (300.0, 2000.0), "SI-fast": (60.0, 300.0), "SI-slow": (1.0, 60.0)}


def _fig2_line(fr: _Frame, name: str, quiescent_rate: float, gs: np.ndarray,
               etas: np.ndarray, e1: float, g1: float, step: float
               ) -> list[tuple[float, float, float]]:
    """A line of Fig. 2's plane (g, eta) as (g, eta, f), from the standard network's
    starting guesses (docs/theory.md); where they do not converge (another network) a
    coarse scan finds the first point of the SI lines, and a line neither finds (the
    SR line of such a network) is empty."""
    eta_span = (0.01, e1 + 0.5)
    g_bal = 1 / fr.p.gamma  # SR needs excitation to dominate, SI-slow inhibition
    if name == "SR":  # followed along eta: the line is nearly parallel to it
        # No scan: the loop gain near 650 Hz costs about 0.5 s (parabolic cylinder
        # functions of large order), so a scan would take minutes.
        # Instead, a few first guesses of g at eta = 2, the standard network's first
        # (another network's line lies elsewhere: theta_I = 19 puts it at g = 3.10).
        for g_guess in (3.3, 3.1, 3.5, 2.9, 3.7):
            pts = _follow(fr, 1, etas, int(np.argmin(abs(etas - 2.0))), (650.0, g_guess),
                          (0.5, g_bal), BANDS["SR"], scan=False)
            if pts:
                break
        return [(g, eta, f) for eta, g, f in pts]
    if name == "SI-fast":
        return _follow(fr, 0, gs, int(np.argmin(abs(gs - 6.0))), (176.0, 3.25),
                       eta_span, BANDS["SI-fast"])
    if name == "SI-slow":  # a thin band: its lower edge, then its upper edge reversed
        fine = np.round(np.arange(g_bal, g1 + 1e-9, step / 2), 6)
        start = int(np.argmin(abs(fine - 4.5)))
        lower = _follow(fr, 0, fine, start, (12.0, 0.85), eta_span, BANDS["SI-slow"])
        upper = _follow(fr, 0, fine, start, (28.0, 0.89), eta_span, BANDS["SI-slow"])
        return lower + upper[::-1]
    return [(float(g), e, math.nan) for g in gs
            if (e := _onset(fr, 1, float(g), (0.01, 2.0), quiescent_rate)) is not None]


def _sr_guesses(fr: _Frame, fixed: int, values: np.ndarray, free: tuple[float, float],
                band: tuple[float, float]) -> list[tuple[float, float, float]]:
    """The SR line followed from the first of five guesses of the free coordinate, at
    five places along the fixed one, that converges. The SR mode's period is about
    the delay (650 Hz at D = 1.5 ms), and it needs excitation to dominate
    (g < 1 / gamma)."""
    lo, hi = free
    if fr.axes[1 - fixed] == "g":
        lo, hi = max(lo, 0.5), min(hi, 1 / fr.p.gamma)
    n = len(values)
    for start in dict.fromkeys((n // 2, n // 4, 3 * n // 4, 0, n - 1)):
        d = fr.at(*fr.point(fixed, float(values[start]), lo))[0].D
        for guess in np.linspace(lo, hi, 5):
            pts = _follow(fr, fixed, values, start, (975.0 / d, float(guess)), free, band,
                          scan=False)
            if pts:
                return pts
    return []


def _any_line(fr: _Frame, name: str, quiescent_rate: float, xs: np.ndarray,
              ys: np.ndarray) -> list[tuple[float, float, float]]:
    """A line on a plane other than Fig. 2's, as (x, y, f): see the module's notes."""
    ranges = ((xs[0], xs[-1]), (ys[0], ys[-1]))
    if name == "onset":
        along = fr.axes.index("eta") if "eta" in fr.axes else 1
        span = (0.01, 2.0) if fr.axes[along] == "eta" else ranges[along]
        other = ys if along == 0 else xs
        pts = [(float(v), e) for v in other
               if (e := _onset(fr, along, float(v), span, quiescent_rate)) is not None]
        return [(e, v, math.nan) if along == 0 else (v, e, math.nan) for v, e in pts]
    band = BANDS[name]
    f_guess = math.sqrt(band[0] * band[1])
    best: list[tuple[float, float, float]] = []
    ways = [(0, xs, ranges[1]), (1, ys, ranges[0])]
    if name == "SR" and fr.axes[0] == "g":  # g free first: a guess of g is a good guess
        ways.reverse()
    for fixed, values, free in ways:
        mid = len(values) // 2
        if name == "SR":  # no scan (too costly near 650 Hz): first guesses
            pts = _sr_guesses(fr, fixed, values, free, band)
        else:
            pts = _follow(fr, fixed, values, mid, (f_guess, float(np.mean(free))), free, band)
        if fixed == 1:
            pts = [(x, y, f) for y, x, f in pts]
        if len(pts) > len(best):
            best = pts
        if len(best) == len(values) or (name == "SR" and best):  # SR: each way costs minutes
            break
    return best


def line(p: Params, name: str, quiescent_rate: float, plane: Plane, step: float = 0.25,
         axes: tuple[str, str] = FIG2_AXES, held: tuple[float, float] = (5.0, 2.0)
         ) -> list[dict]:
    """One boundary as rows (line, x, y, f_hz) over ``plane`` ((x range, y range); Fig.
    2's is ``sweep.grid.fig2_plane()``) of the parameters ``axes`` (``axis_name``),
    sampled every ``step`` of the axis it is followed along (on a plane other than
    Fig. 2's, 1/24 of that axis's range); g and eta are ``held`` where they are not
    axes."""
    if name not in LINES:
        raise ValueError(f"line {name!r}: must be one of {', '.join(LINES)}")
    axes = (axis_name(axes[0]), axis_name(axes[1]))
    fr = _Frame(p, axes, held)
    (x0, x1), (y0, y1) = plane
    fig2 = axes == FIG2_AXES
    xs, ys = ((np.round(np.arange(x0, x1 + 1e-9, step), 6),
               np.round(np.arange(y0, y1 + 1e-9, step), 6)) if fig2 else
              (np.linspace(x0, x1, 25), np.linspace(y0, y1, 25)))
    if name == "balance":  # g gamma = 1: a line only where g is an axis
        g_bal = 1 / p.gamma
        pts = ([(g_bal, float(y)) for y in ys] if axes[0] == "g" else
               [(float(x), g_bal) for x in xs] if axes[1] == "g" else [])
        return _rows(name, axes, ((x, y, math.nan) for x, y in pts))
    if fig2:
        return _rows(name, axes, iter(_fig2_line(fr, name, quiescent_rate, xs, ys, y1, x1,
                                                 step)))
    return _rows(name, axes, iter(_any_line(fr, name, quiescent_rate, xs, ys)))


def theory_lines(p: Params, quiescent_rate: float, plane: Plane, step: float = 0.25,
                 jobs: int = -1, code: str = "", axes: tuple[str, str] = FIG2_AXES,
                 held: tuple[float, float] = (5.0, 2.0)):
    """Every line (``line``), computed in parallel processes, as one DataFrame.
    ``code`` only keys caches (``analysis.theory.code_version``)."""
    import pandas as pd
    from joblib import Parallel, delayed

    parts = Parallel(n_jobs=jobs)(delayed(line)(p, name, quiescent_rate, plane, step, axes,
                                                held) for name in LINES)
    rows = [r for part in parts for r in part]
    names = (axis_name(axes[0]), axis_name(axes[1]))
    return pd.DataFrame(rows, columns=["line", *names, "f_hz"])
