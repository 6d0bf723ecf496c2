"""The random instance of a network, in pure numpy: who connects to whom, the initial
potentials, the external Poisson counts and the Vm sample. The MOOSE builder and
the reference simulator both take it from here, so they simulate the same network.

Each quantity has its own random stream, spawned from ``sim.seed``, so that
changing how one is drawn never changes another.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sweep.config import Config
from sweep.model import MS, Derived, derive

STREAM_WIRING, STREAM_VINIT, STREAM_DRIVE, STREAM_SAMPLE = range(4)


def draw_sources(rng: np.random.Generator, n_targets: int, pool: int, offset: int,
                 c: int, multapses: bool) -> np.ndarray:
    """Sources (shape n_targets x c) drawn uniformly from [offset, offset + pool),
    never the target itself (targets are 0..n_targets-1)."""
    targets = np.arange(n_targets)[:, None]
    if multapses:
        # Draw from pool - 1 candidates and step over the target's own index.
        own = targets - offset
        src = rng.integers(0, pool - 1, size=(n_targets, c))
        inside = (own >= 0) & (own < pool)
        src += (inside & (src >= own)).astype(src.dtype)
        return src + offset
    out = np.empty((n_targets, c), dtype=np.int64)
    for t in range(n_targets):
        own = t - offset
        if 0 <= own < pool:
            pick = rng.choice(pool - 1, size=c, replace=False)
            out[t] = pick + (pick >= own)
        else:
            out[t] = rng.choice(pool, size=c, replace=False)
    return out + offset


def poisson_cdf(lam: float) -> np.ndarray:
    """CDF of Poisson(lam) at 0, 1, ..., up to where it reaches 1 in double precision
    (the mass left out is below 1e-15); the last entry is set to exactly 1."""
    k = np.arange(int(lam + 40 * math.sqrt(lam) + 40))
    log_pmf = k * math.log(lam) - lam - np.array([math.lgamma(x + 1) for x in k])
    cdf = np.cumsum(np.exp(log_pmf))
    cdf = cdf[: int(np.searchsorted(cdf, 1.0 - 1e-15)) + 1]
    cdf[-1] = 1.0
    return cdf


class PoissonSampler:
    """Poisson(lam) by inversion of one uniform per draw, 5x faster than
    ``Generator.poisson`` at the means used here (about 2 per step).

    The count of u is the number of CDF entries <= u. A table over 2^16 equal buckets
    of [0, 1) holds that count for every bucket that lies inside one step of the CDF
    (all but a few dozen); draws in the other buckets are searched, so every count is
    exactly what searching the CDF gives.
    """

    BUCKETS = 1 << 16

    def __init__(self, lam: float) -> None:
        self.cdf = poisson_cdf(lam)
        edges = np.arange(self.BUCKETS + 1) / self.BUCKETS
        first = np.searchsorted(self.cdf, edges[:-1], side="right")
        last = np.searchsorted(self.cdf, np.nextafter(edges[1:], 0), side="right")
        self.table = np.where(first == last, first, -1)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.random(n)
        counts = self.table[(u * self.BUCKETS).astype(np.intp)]
        split = counts < 0
        if split.any():
            counts[split] = np.searchsorted(self.cdf, u[split], side="right")
        return counts


@dataclass
class Instance:
    derived: Derived
    sources: np.ndarray  # (N, C_E + C_I): row t lists t's sources, E first
    v_init: np.ndarray  # mV, (N,)
    vm_ids: np.ndarray  # sorted neuron indices whose Vm is recorded
    rng_drive: np.random.Generator
    ext_per_step: float  # mean external events per E neuron and step
    ext_per_step_I: float  # mean external events per I neuron and step

    def out_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """The connections grouped by source (CSR): ``targets[row_start[s]:row_start[s +
        1]]`` are s's targets, in target order, repeated pairs repeated."""
        src = self.sources.ravel()
        # A stable sort of 16-bit keys is a radix sort, 2x faster than of 64-bit ones.
        keys = src.astype(np.uint16 if self.derived.N <= 1 << 16 else np.uint32)
        order = np.argsort(keys, kind="stable")
        row_start = np.concatenate([[0], np.cumsum(np.bincount(src,
                                                               minlength=self.derived.N))])
        return row_start, order // self.sources.shape[1]

    def drive(self) -> Callable[[int, int], np.ndarray]:
        """``counts(neuron, n)``: external events of the next n steps of one neuron.
        Must be called for neurons 0..N-1 in order, chunk after chunk. Each draw takes one
        uniform whatever its mean, so the I neurons' own rate leaves the E neurons'
        counts as they were."""
        rng, sampler = self.rng_drive, PoissonSampler(self.ext_per_step)
        sampler_i = (sampler if self.ext_per_step_I == self.ext_per_step
                     else PoissonSampler(self.ext_per_step_I))
        n_e = self.derived.N_E

        def counts(neuron: int, n: int) -> np.ndarray:
            return (sampler if neuron < n_e else sampler_i).draw(rng, n)

        return counts


def draw_instance(cfg: Config) -> Instance:
    d = derive(cfg)
    net, sim = cfg.network, cfg.sim
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(sim.seed).spawn(4)]
    sources = np.hstack([
        draw_sources(rng[STREAM_WIRING], d.N, net.N_E, 0, d.C_E, net.multapses),
        draw_sources(rng[STREAM_WIRING], d.N, net.N_I, net.N_E, d.C_I, net.multapses),
    ])
    # Every neuron starts below its own threshold: I neurons with a lower theta_I start
    # in [V_init_low, min(V_init_high, theta_I)); the same draws as model A otherwise.
    high = d.per_neuron(sim.V_init_high, min(sim.V_init_high, net.population("I").theta))
    v_init = rng[STREAM_VINIT].uniform(sim.V_init_low, high, d.N)
    vm_ids = np.sort(rng[STREAM_SAMPLE].choice(d.N, size=min(sim.vm_sample, d.N),
                                               replace=False))
    return Instance(d, sources, v_init, vm_ids, rng[STREAM_DRIVE],
                    d.ext_rate * sim.dt * MS, d.C_E * d.nu_ext_I * sim.dt * MS)
