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
follow g and eta where they are None. The plane's axes stay g and eta.

A line is a table of (line, g, eta, f_hz) rows in the order of the line; f_hz is the
frequency of the mode that becomes unstable there (NaN for the onset).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy import optimize

from analysis.theory import Params, loop_gain, network_rate, nu0_pair

LINES = ("SR", "SI-fast", "SI-slow", "onset", "balance")
Plane = tuple[tuple[float, float], tuple[float, float]]  # (g from, to), (eta from, to)


def _solve(p: Params, fixed: str, value: float, guess: tuple[float, float]
           ) -> tuple[float, float] | None:
    """(f in Hz, the free coordinate) where G = 1, the other coordinate (``fixed``:
    "g" or "eta") held at ``value``; None if the solver does not converge."""
    to_w = 2 * math.pi * p.tau_s

    def residual(x: np.ndarray) -> list[float]:
        f, free = x[0] * 100, x[1]  # f in units of 100 Hz: both unknowns of order 1
        g, eta = (value, free) if fixed == "g" else (free, value)
        if f <= 0 or free <= 0:
            return [1e3, 1e3]
        gain = loop_gain(p, g, eta, f * to_w)
        return [gain.real - 1, gain.imag]

    sol = optimize.root(residual, [guess[0] / 100, guess[1]], method="hybr",
                        options={"xtol": 1e-7})
    if not sol.success or max(abs(v) for v in sol.fun) > 1e-6:
        return None
    return float(sol.x[0] * 100), float(sol.x[1])


def _crossing(p: Params, fixed: str, value: float, free: float, band: tuple[float, float],
              n_freq: int = 8) -> tuple[float, float] | None:
    """(f, Re G) where G crosses the real axis in ``band`` (Hz), linearly interpolated on
    a coarse frequency grid; the crossing with the largest Re G; None if none."""
    g, eta = (value, free) if fixed == "g" else (free, value)
    rates = nu0_pair(p, g, eta)
    if network_rate(p, *rates) < 0.2:
        return None
    freqs = np.geomspace(*band, n_freq)
    gains = [loop_gain(p, g, eta, 2 * math.pi * f * p.tau_s, rates) for f in freqs]
    found = []
    for fa, fb, ga, gb in zip(freqs[:-1], freqs[1:], gains[:-1], gains[1:], strict=True):
        if ga.imag * gb.imag < 0:
            t = ga.imag / (ga.imag - gb.imag)
            found.append((fa + t * (fb - fa), ga.real + t * (gb.real - ga.real)))
    return max(found, key=lambda c: c[1]) if found else None


def _seed(p: Params, fixed: str, values: np.ndarray, start: int, guess: tuple[float, float],
          free_grid: np.ndarray | None, band: tuple[float, float]) -> tuple[int, tuple] | None:
    """A first point of the line: the guess solved at ``values[start]``; failing that
    (another network), a coarse scan of ``free_grid`` (None: no scan) for Re G
    crossing 1, at every fourth fixed value, nearest ``start`` first."""
    sol = _solve(p, fixed, float(values[start]), guess)
    if sol is not None and band[0] <= sol[0] <= band[1]:
        return start, sol
    if free_grid is None:
        return None
    for i in sorted(range(0, len(values), 4), key=lambda i: abs(i - start)):
        prev = None
        for free in free_grid:
            here = _crossing(p, fixed, float(values[i]), float(free), band)
            if prev and here and (prev[1][1] - 1) * (here[1] - 1) < 0:
                sol = _solve(p, fixed, float(values[i]), (here[0], float(free)))
                if sol is not None and band[0] <= sol[0] <= band[1]:
                    return i, sol
            prev = (free, here) if here else None
    return None


def _follow(p: Params, fixed: str, values: np.ndarray, start: int,
            guess: tuple[float, float], free_range: tuple[float, float],
            band: tuple[float, float], scan: bool = True) -> list[tuple[float, float, float]]:
    """Continue a G = 1 line over ``values`` of the fixed coordinate, both ways from
    its first point (``_seed``, scanning only if ``scan``): (fixed value, free value,
    f) while the solution stays in ``free_range`` and its frequency in ``band`` (Hz)."""
    grid = np.linspace(max(free_range[0], 0.25), free_range[1], 8) if scan else None
    seed = _seed(p, fixed, values, start, guess, grid, band)
    if seed is None:
        return []
    start, first = seed
    found: dict[float, tuple[float, float]] = {}
    for direction in (values[start:], values[:start][::-1]):
        last = found.get(float(values[start]), first)
        for v in direction:
            sol = _solve(p, fixed, float(v), last)
            if sol is None or not (free_range[0] <= sol[1] <= free_range[1]
                                   and band[0] <= sol[0] <= band[1]):
                break
            found[float(v)] = last = sol
    return [(v, found[v][1], found[v][0]) for v in sorted(found)]


def _onset(p: Params, g: float, floor: float) -> float | None:
    """eta at which nu0 (two populations: the mean rate over all neurons) reaches
    ``floor`` Hz at this g (None outside eta in (0.01, 2])."""
    def excess(eta: float) -> float:
        return math.log(max(network_rate(p, *nu0_pair(p, g, eta)), 1e-12) / floor)

    lo, hi = 0.01, 2.0
    if excess(lo) >= 0 or excess(hi) < 0:
        return None
    return float(optimize.brentq(excess, lo, hi, xtol=1e-4))


def _rows(line: str, pts: Iterator[tuple[float, float, float]]) -> list[dict]:
    return [{"line": line, "g": g, "eta": eta, "f_hz": f} for g, eta, f in pts]


def line(p: Params, name: str, quiescent_rate: float, plane: Plane, step: float = 0.25
         ) -> list[dict]:
    """One boundary of Fig. 2 as rows (line, g, eta, f_hz) over ``plane`` ((g range, eta
    range); Fig. 2's is ``sweep.grid.fig2_plane()``), sampled every ``step`` in the
    coordinate it is followed along. The starting guesses are the standard network's
    (docs/theory.md); where they do not
    converge (another network) a coarse scan finds the first point of the SI lines,
    and a line neither finds (the SR line of such a network) is empty."""
    (g0, g1), (e0, e1) = plane
    gs = np.round(np.arange(g0, g1 + 1e-9, step), 6)
    etas = np.round(np.arange(e0, e1 + 1e-9, step), 6)
    eta_span = (0.01, e1 + 0.5)
    g_bal = 1 / p.gamma  # SR needs excitation to dominate, SI-slow inhibition
    if name == "SR":  # followed along eta: the line is nearly parallel to it
        # No scan: the loop gain near 650 Hz costs about 0.5 s (parabolic cylinder
        # functions of large order), so a scan would take minutes.
        # Instead, a few first guesses of g at eta = 2, the standard network's first
        # (another network's line lies elsewhere: theta_I = 19 puts it at g = 3.10).
        for g_guess in (3.3, 3.1, 3.5, 2.9, 3.7):
            pts = _follow(p, "eta", etas, int(np.argmin(abs(etas - 2.0))), (650.0, g_guess),
                          (0.5, g_bal), (300.0, 2000.0), scan=False)
            if pts:
                break
        return _rows(name, ((g, eta, f) for eta, g, f in pts))
    if name == "SI-fast":
        pts = _follow(p, "g", gs, int(np.argmin(abs(gs - 6.0))), (176.0, 3.25),
                      eta_span, (60.0, 300.0))
        return _rows(name, iter(pts))
    if name == "SI-slow":  # a thin band: its lower edge, then its upper edge reversed
        fine = np.round(np.arange(g_bal, g1 + 1e-9, step / 2), 6)
        start = int(np.argmin(abs(fine - 4.5)))
        lower = _follow(p, "g", fine, start, (12.0, 0.85), eta_span, (1.0, 60.0))
        upper = _follow(p, "g", fine, start, (28.0, 0.89), eta_span, (1.0, 60.0))
        return _rows(name, iter(lower + upper[::-1]))
    if name == "onset":
        return _rows(name, ((float(g), e, math.nan) for g in gs
                            if (e := _onset(p, float(g), quiescent_rate)) is not None))
    if name == "balance":
        return _rows(name, ((g_bal, float(e), math.nan) for e in etas))
    raise ValueError(f"line {name!r}: must be one of {', '.join(LINES)}")


def theory_lines(p: Params, quiescent_rate: float, plane: Plane, step: float = 0.25,
                 jobs: int = -1, code: str = ""):
    """Every line of Fig. 2 (``line``), computed in parallel processes, as one DataFrame.
    ``code`` only keys caches (``analysis.theory.code_version``)."""
    import pandas as pd
    from joblib import Parallel, delayed

    parts = Parallel(n_jobs=jobs)(delayed(line)(p, name, quiescent_rate, plane, step)
                                  for name in LINES)
    rows = [r for part in parts for r in part]
    return pd.DataFrame(rows, columns=["line", "g", "eta", "f_hz"])
