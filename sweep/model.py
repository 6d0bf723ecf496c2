"""Brunel's model A: quantities derived from the configuration, and the one place
where the paper's units (ms, mV, Hz) become MOOSE's SI units (s, V)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sweep.config import Config, steps

MS = 1e-3  # s per ms
MV = 1e-3  # V per mV

# Where MOOSE cannot follow Brunel's model (README, "The model, and where MOOSE departs
# from it"): carried by every result, the dataset's metadata and every report.
DEVIATION = "moose-lif-refractory-accumulates"
DEVIATION_NOTE = (
    "MOOSE's LIF accumulates input during the refractory period (Brunel's neuron ignores "
    "it): rates are higher, +2.5% at N=12,500 and +18% at N=2,500 (g=5, eta=2), +43% at "
    "N=12,500 and +126% at N=2,500 (g=3, eta=2, near saturation); python -m "
    "sweep.reference measures it for any network")


@dataclass(frozen=True)
class Derived:
    """Derived quantities, in the paper's units. Computed, never configured."""

    N: int  # neurons
    C_E: int  # excitatory inputs per neuron
    C_I: int  # inhibitory inputs per neuron
    gamma: float  # C_I / C_E
    nu_thr: float  # Hz, external rate that brings the mean input to threshold
    nu_ext: float  # Hz, rate of each of the C_E external sources
    ext_rate: float  # Hz, summed external Poisson rate per neuron (C_E nu_ext)
    delay_steps: int  # D / dt
    refractory_steps: int  # tau_rp / dt
    n_steps: int  # duration / dt
    transient_steps: int  # transient / dt

    def as_dict(self) -> dict:
        return asdict(self)


def derive(cfg: Config) -> Derived:
    n, s = cfg.network, cfg.sim
    c_e, c_i = round(n.epsilon * n.N_E), round(n.epsilon * n.N_I)
    nu_thr = n.theta / (n.J * c_e * n.tau * MS)
    nu_ext = n.eta * nu_thr
    return Derived(
        N=n.N_E + n.N_I, C_E=c_e, C_I=c_i, gamma=c_i / c_e, nu_thr=nu_thr,
        nu_ext=nu_ext, ext_rate=c_e * nu_ext, delay_steps=steps(n.D, s.dt),
        refractory_steps=steps(n.tau_rp, s.dt), n_steps=steps(s.duration, s.dt),
        transient_steps=steps(s.transient, s.dt),
    )


@dataclass(frozen=True)
class MooseParams:
    """Everything MOOSE is given, in SI units, with its step-exact encodings.

    MOOSE delivers an event due at t at the first step whose time is >= t, and a
    neuron is refractory while ``now < t_spike + refractoryPeriod``. Floating-point
    jitter makes whole multiples of dt land on either side, so delays are encoded as
    (m - 0.5) dt (delivered exactly m steps after the spike) and the refractory
    period as (n + 0.5) dt (clamped at V_r for exactly the n steps after the spike
    step, as in NEST's iaf_psc_delta).
    """

    dt: float  # s
    tau: float  # s, as Rm * Cm with Cm = 1
    theta: float  # V
    V_r: float  # V
    J_E: float  # V, jump of an excitatory (and external) spike
    J_I: float  # V, jump of an inhibitory spike (negative)
    delay: float  # s, encoded
    refractory: float  # s, encoded
    ext_per_step: float  # mean external events per step and neuron


def to_moose(cfg: Config, d: Derived) -> MooseParams:
    n, s = cfg.network, cfg.sim
    dt = s.dt * MS
    return MooseParams(
        dt=dt, tau=n.tau * MS, theta=n.theta * MV, V_r=n.V_r * MV, J_E=n.J * MV,
        J_I=-n.g * n.J * MV, delay=(d.delay_steps - 0.5) * dt,
        refractory=(d.refractory_steps + 0.5) * dt, ext_per_step=d.ext_rate * dt,
    )
