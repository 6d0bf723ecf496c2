"""The boundaries of Brunel's Fig. 2 as lines, by root-finding (``analysis.theory``).

- Instabilities (asynchronous -> SR, AI -> SI-fast, the SI-slow band): where the loop
  gain G(w) of the asynchronous state equals 1 at a real frequency, solved for the
  frequency and one coordinate at fixed values of the other (two real equations,
  Re G = 1 and Im G = 0, in two unknowns), following each line by continuation
  from a point the cross-check values of ``brunel-model.md`` give.
- Onset of activity: where the stationary rate nu0 (the highest root) reaches the
  classifier's rate floor, solved in eta at fixed g.
- Balance: g gamma = 1, where the theory's asynchronous state changes from
  excitation-dominated (AR) to inhibition-dominated (AI).

A line is a table of (line, g, eta, f_hz) rows in the order of the line; f_hz is the
frequency of the mode that becomes unstable there (NaN for the onset).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy import optimize

from analysis.theory import Params, loop_gain, nu0

LINES = ("SR", "SI-fast", "SI-slow", "onset", "balance")
G_RANGE, ETA_RANGE = (2.0, 8.0), (0.5, 4.0)  # Fig. 2's plane (the sweep's phase_diagram)


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


def _follow(p: Params, fixed: str, values: np.ndarray, start: int,
            guess: tuple[float, float], free_range: tuple[float, float],
            band: tuple[float, float]) -> list[tuple[float, float, float]]:
    """Continue a G = 1 line over ``values`` of the fixed coordinate, both ways from
    ``values[start]``: (fixed value, free value, f) while the solution stays in
    ``free_range`` and its frequency in ``band`` (Hz)."""
    found: dict[float, tuple[float, float]] = {}
    for direction in (values[start:], values[:start][::-1]):
        last = found.get(float(values[start]), guess)
        for v in direction:
            sol = _solve(p, fixed, float(v), last)
            if sol is None or not (free_range[0] <= sol[1] <= free_range[1]
                                   and band[0] <= sol[0] <= band[1]):
                break
            found[float(v)] = last = sol
    return [(v, found[v][1], found[v][0]) for v in sorted(found)]


def _onset(p: Params, g: float, floor: float) -> float | None:
    """eta at which nu0 reaches ``floor`` Hz at this g (None outside eta in (0.01, 2])."""
    def excess(eta: float) -> float:
        return math.log(max(nu0(p, g, eta), 1e-12) / floor)

    lo, hi = 0.01, 2.0
    if excess(lo) >= 0 or excess(hi) < 0:
        return None
    return float(optimize.brentq(excess, lo, hi, xtol=1e-4))


def _rows(line: str, pts: Iterator[tuple[float, float, float]]) -> list[dict]:
    return [{"line": line, "g": g, "eta": eta, "f_hz": f} for g, eta, f in pts]


def line(p: Params, name: str, step: float = 0.25, quiescent_rate: float = 0.2
         ) -> list[dict]:
    """One boundary of Fig. 2 as rows (line, g, eta, f_hz) over the plane G_RANGE x
    ETA_RANGE, sampled every ``step`` in the coordinate it is followed along. The
    starting guesses are the standard network's (brunel-model.md); other networks are
    followed from the same guesses, and a line the solver cannot reach is empty."""
    gs = np.round(np.arange(G_RANGE[0], G_RANGE[1] + 1e-9, step), 6)
    etas = np.round(np.arange(ETA_RANGE[0], ETA_RANGE[1] + 1e-9, step), 6)
    eta_span = (0.01, ETA_RANGE[1] + 0.5)
    if name == "SR":  # followed along eta: the line is nearly parallel to it
        pts = _follow(p, "eta", etas, int(np.argmin(abs(etas - 2.0))), (650.0, 3.3),
                      (0.5, 4.0), (300.0, 2000.0))
        return _rows(name, ((g, eta, f) for eta, g, f in pts))
    if name == "SI-fast":
        pts = _follow(p, "g", gs, int(np.argmin(abs(gs - 6.0))), (176.0, 3.25),
                      eta_span, (60.0, 300.0))
        return _rows(name, iter(pts))
    if name == "SI-slow":  # a thin band: its lower edge, then its upper edge reversed
        fine = np.round(np.arange(4.0, G_RANGE[1] + 1e-9, step / 2), 6)
        start = int(np.argmin(abs(fine - 4.5)))
        lower = _follow(p, "g", fine, start, (12.0, 0.85), eta_span, (1.0, 60.0))
        upper = _follow(p, "g", fine, start, (28.0, 0.89), eta_span, (1.0, 60.0))
        return _rows(name, iter(lower + upper[::-1]))
    if name == "onset":
        return _rows(name, ((float(g), e, math.nan) for g in gs
                            if (e := _onset(p, float(g), quiescent_rate)) is not None))
    if name == "balance":
        return _rows(name, ((1 / p.gamma, float(e), math.nan) for e in etas))
    raise ValueError(f"line {name!r}: must be one of {', '.join(LINES)}")


def theory_lines(p: Params, step: float = 0.25, quiescent_rate: float = 0.2,
                 jobs: int = -1, code: str = ""):
    """Every line of Fig. 2 (``line``), computed in parallel processes, as one DataFrame.
    ``code`` only keys caches (``analysis.theory.code_version``)."""
    import pandas as pd
    from joblib import Parallel, delayed

    parts = Parallel(n_jobs=jobs)(delayed(line)(p, name, step, quiescent_rate)
                                  for name in LINES)
    rows = [r for part in parts for r in part]
    return pd.DataFrame(rows, columns=["line", "g", "eta", "f_hz"])
