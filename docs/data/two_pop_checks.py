"""Two-population networks at full size against the two-population theory
(docs/results-two-populations.md). Reads the gathered datasets of
``grid=two_pop_checks`` and ``grid=two_pop_sizes`` (their parquet files, given on the
command line) and prints, per network:

- the simulated E and I rates (mean over seeds, and their spread), state and envelope CV;
- the theory's stationary pair, its stability (state, most unstable mode, margin);
- open loop: each population's Siegert rate phi_a(nu_E, nu_I) evaluated at the
  *simulated* rates, against the simulated rate of that population. If the
  single-neuron description is right, phi_a(simulated) = simulated;
- the noise the neurons behave as if they had: sigma_a* with
  phi_a(mu_a, sigma_a*) = simulated rate, mu_a at the simulated rates, against the
  Poisson-input sigma_a; beside it the spike trains' CV (simulated, theory) and the
  mean pairwise spike-count correlation (``spike_sync``, 2-ms bins), the source of
  input fluctuations the theory leaves out;
- closed-loop sensitivity: how far the theory's E rate moves when one population's
  transfer function is lowered by 1% (phi_a -> 0.99 phi_a), i.e. how much a small
  error of the single-neuron description is amplified by the loop.

  python docs/data/two_pop_checks.py docs/data/two_pop_checks.parquet \
      docs/data/two_pop_sizes.parquet > docs/data/two_pop_checks.txt
"""

from __future__ import annotations

import sys

import pandas as pd
from scipy import optimize

from analysis.theory import Params, isi_cv, nu0_pair, predict, siegert, transfer
from analysis.theory_two_pop import mean_field, self_consistent_pairs
from sweep.config import INHIBITORY
from sweep.storage import row_config


def lowered(p: Params, g: float, eta: float, which: int, factor: float = 0.99) -> float:
    """The theory's (highest) E rate with population ``which``'s transfer times ``factor``."""
    phis = list(transfer(p, g, eta))
    base = phis[which]
    phis[which] = lambda nu_e, nu_i: factor * base(nu_e, nu_i)
    e, i = p.populations(g, eta)
    pairs = self_consistent_pairs(*phis, 1e3 / e.tau_rp, 1e3 / i.tau_rp, 400,
                                  highest_only=True)
    return pairs[-1][0] if pairs else 0.0


def effective_noise(p: Params, pop, nu_e: float, nu_i: float, rate: float
                    ) -> tuple[float, float, float]:
    """(mu, Poisson sigma, sigma* reproducing ``rate``) of population ``pop``'s input at
    the rates (nu_e, nu_i), mV; sigma* NaN where no sigma in [0.2, 5] sigma gives it."""
    mu, sigma = mean_field(pop, p.C_E, p.gamma * p.C_E, pop.eta * p.nu_thr, nu_e, nu_i)
    neuron = p.neuron(pop)
    f = lambda s: siegert(neuron, mu, s) - rate  # noqa: E731
    lo, hi = 0.2 * sigma, 5 * sigma
    star = optimize.brentq(f, lo, hi, xtol=1e-6) if f(lo) * f(hi) < 0 else float("nan")
    return mu, sigma, star


def label(row: pd.Series) -> str:
    own = [f"{k}={row[f'network.{k}']:g}" for k in INHIBITORY
           if pd.notna(row.get(f"network.{k}"))]
    return (f"N={int(row.N)} g={row['network.g']:g} eta={row['network.eta']:g} "
            f"{' '.join(own) or 'model A'}")


def main(paths: list[str]) -> None:
    df = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    df = df[df.status == "ok"]
    keys = ["N", "network.g", "network.eta", *(f"network.{k}" for k in INHIBITORY)]
    for _, runs in df.groupby(keys, dropna=False, sort=False):
        row = runs.iloc[0]
        cfg = row_config(row.to_dict())
        p = Params.from_config(cfg.network)
        g, eta = cfg.network.g, cfg.network.eta
        nu_e, nu_i = nu0_pair(p, g, eta)
        pred = predict(p, g, eta, cfg.analysis.f_fast, cfg.analysis.quiescent_rate)
        sim_e, sim_i = runs.rate_E_hz.mean(), runs.rate_I_hz.mean()
        phi_e, phi_i = transfer(p, g, eta)
        mode = (f"unstable at {pred.f_unstable:.0f} Hz, margin {pred.margin:+.2f}"
                if pred.f_unstable else f"stable, margin {pred.margin:+.2f}")
        print(label(row))
        print(f"  simulated ({len(runs)} seeds): E {sim_e:.2f} Hz (spread "
              f"{runs.rate_E_hz.max() - runs.rate_E_hz.min():.2f}), I {sim_i:.2f} Hz; "
              f"states {', '.join(runs.state)}; envelope CV "
              f"{', '.join(f'{v:.2f}' for v in runs.env_cv)}; peak "
              f"{', '.join(f'{v:.0f}' for v in runs.osc_freq_hz)} Hz")
        print(f"  theory: E {nu_e:.2f} Hz, I {nu_i:.2f} Hz ({sim_e / nu_e - 1:+.1%}, "
              f"{sim_i / nu_i - 1:+.1%}); {pred.state}, {mode}")
        print(f"  open loop, phi_a at the simulated rates: E {phi_e(sim_e, sim_i):.2f} Hz "
              f"({phi_e(sim_e, sim_i) / sim_e - 1:+.1%}), I {phi_i(sim_e, sim_i):.2f} Hz "
              f"({phi_i(sim_e, sim_i) / sim_i - 1:+.1%})")
        for name, pop, rate, cv in zip("EI", p.populations(g, eta), (sim_e, sim_i),
                                       (runs.cv_isi_E.mean(), runs.cv_isi_I.mean()),
                                       strict=True):
            mu, sigma, star = effective_noise(p, pop, sim_e, sim_i, rate)
            print(f"  {name} input at the simulated rates: mu {mu:.2f} mV (theta "
                  f"{pop.theta:g}), Poisson sigma {sigma:.2f} mV; the simulated rate needs "
                  f"sigma {star:.2f} mV ({star / sigma - 1:+.1%}); CV {cv:.2f} (theory "
                  f"{isi_cv(p.neuron(pop), mu, sigma):.2f})")
        print(f"  spike-count correlation (2-ms bins): "
              f"{', '.join(f'{v:.1e}' for v in runs.spike_sync)}")
        if nu_e > 0:
            moves = [lowered(p, g, eta, k) / nu_e - 1 for k in (0, 1)]
            # Each transfer too high by its open-loop error: lowering it by that much
            # moves the E rate by (error / 1%) times the move per 1%, to first order.
            errors = [phi_e(sim_e, sim_i) / sim_e - 1, phi_i(sim_e, sim_i) / sim_i - 1]
            expected = sum(m * e / 0.01 for m, e in zip(moves, errors, strict=True))
            print(f"  closed loop: E rate moves {moves[0]:+.1%} when phi_E is lowered by 1%, "
                  f"{moves[1]:+.1%} when phi_I is; with the open-loop errors, the E rate's "
                  f"gap to first order {expected:+.1%} (simulated {sim_e / nu_e - 1:+.1%})")


if __name__ == "__main__":
    main(sys.argv[1:])
