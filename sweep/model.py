"""Brunel's model A: quantities derived from the configuration, and the one place
where the paper's units (ms, mV, Hz) become MOOSE's SI units (s, V)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sweep.config import Config, NetworkConfig, steps

MS = 1e-3  # s per ms
MV = 1e-3  # V per mV

# The neuron every result is simulated with, carried by every row, the dataset's
# metadata, every figure and report (docs/model.md).
NEURON_RULE = "brunel"
NEURON_RULE_NOTE = (
    "Brunel's neuron: each input is a jump of exactly its weight and input arriving "
    "during the refractory period is ignored; MOOSE's LIF is driven through injectMsg so "
    "that it follows this rule step for step (spike trains identical to the numpy "
    "reference, sweep/numpy_sim.py)")


# The parts of MOOSE's network (sweep.network) that a benchmark may switch off to
# measure what each costs per step: the external drive's tables, the relays, and the
# relays' fan-out to their targets.
MOOSE_PARTS = ("drive", "relays", "fan")


# A potential exactly at theta does not fire (the test is strict). Such ties happen: in
# the first free step after the refractory period V is exactly V_r plus a sum of
# weights, which can equal theta - V_r (a synchronous volley at SR). Summed in floating
# point, in any order, the tie lands a few ulps (1e-14 relative) on either side. Both
# engines test V > theta (1 + THRESHOLD_TIE) instead, which resolves every tie as exact
# arithmetic does and moves the threshold by 2e-10 mV.
THRESHOLD_TIE = 1e-11


@dataclass(frozen=True)
class Derived:
    """Derived quantities, in the paper's units. Computed, never configured."""

    N: int  # neurons
    C_E: int  # excitatory inputs per neuron
    C_I: int  # inhibitory inputs per neuron
    gamma: float  # C_I / C_E
    nu_thr: float  # Hz, external rate that brings the mean input to threshold
    nu_ext: float  # Hz, rate of each of the C_E external sources of an E neuron
    ext_rate: float  # Hz, summed external Poisson rate per E neuron (C_E nu_ext)
    delay_steps: int  # D / dt
    refractory_steps: int  # tau_rp / dt of an E neuron
    n_steps: int  # duration / dt
    transient_steps: int  # transient / dt
    N_E: int  # excitatory neurons: 0..N_E-1; the rest are inhibitory
    nu_ext_I: float  # Hz, nu_ext of an I neuron (eta_I nu_thr)
    refractory_steps_I: int  # tau_rp_I / dt

    def as_dict(self) -> dict:
        return asdict(self)

    def per_neuron(self, e_value: float, i_value: float) -> np.ndarray:
        """A value per neuron: ``e_value`` for the N_E excitatory ones (first), then
        ``i_value``."""
        return np.where(np.arange(self.N) < self.N_E, e_value, i_value)


def threshold_rate(theta: float, J: float, C_E: int, tau: float) -> float:
    """nu_thr (Hz): the external rate per input that brings the mean input to theta
    (theta, J in mV; tau in ms)."""
    return theta / (J * C_E * tau * MS)


def derive(cfg: Config) -> Derived:
    n, s = cfg.network, cfg.sim
    c_e, c_i = n.C_E, n.C_I
    nu_thr = threshold_rate(n.theta, n.J, c_e, n.tau)
    nu_ext = n.eta * nu_thr
    inh = n.population("I")
    return Derived(
        N=n.N, C_E=c_e, C_I=c_i, gamma=c_i / c_e, nu_thr=nu_thr,
        nu_ext=nu_ext, ext_rate=c_e * nu_ext, delay_steps=steps(n.D, s.dt),
        refractory_steps=steps(n.tau_rp, s.dt), n_steps=steps(s.duration, s.dt),
        transient_steps=steps(s.transient, s.dt), N_E=n.N_E, nu_ext_I=inh.eta * nu_thr,
        refractory_steps_I=steps(inh.tau_rp, s.dt),
    )


@dataclass(frozen=True)
class MooseParams:
    """Everything MOOSE is given, in SI units, encoded so that its LIF is Brunel's neuron.

    Inputs go to ``injectMsg``, which MOOSE's LIF discards while refractory (Brunel's
    rule; its ``activation`` input would be kept and added after the refractory
    period). An injected current reaches Vm through the exponential-Euler leak step,
    Vm <- Vm x + I Rm (1 - x), so a current of ``amp_per_volt`` per volt makes the step's
    Vm exactly Brunel's (V + w) x. MOOSE tests the threshold at the start of the next
    step, on that post-leak value: the threshold is theta x and every spike is seen one
    step after Brunel's neuron fires (recordings subtract it). Hence the delay is
    one step shorter, and the refractory clamp too: the input of the step that
    detects the spike is dropped by the first clamped step. MOOSE delivers an event
    due at t at the first step whose time is >= t, and a neuron is clamped while
    ``now < t_spike + refractoryPeriod``; floating-point jitter makes whole multiples
    of dt land on either side, so both are encoded half a step early.
    """

    dt: float  # s
    Rm: float  # ohm, with Rm Cm = tau (Cm = 1 F in model A)
    Cm: float  # F
    decay: float  # x = exp(-dt / tau), the leak of one step
    thresh: float  # V, theta x (1 + THRESHOLD_TIE)
    V_r: float  # V
    amp_per_volt: float  # A of injected current per V of jump: x / (Rm (1 - x))
    delay: float  # s, (m - 1.5) dt: delivered m - 1 steps after MOOSE sees the spike
    refractory: float  # s, (n - 0.5) dt: n - 1 clamped steps after the detection step

    def current(self, jump_mv: float | np.ndarray) -> float | np.ndarray:
        """The injected current (A) that moves Vm by ``jump_mv`` (mV), leak included."""
        return jump_mv * MV * self.amp_per_volt

    def jump_mv(self, current: float | np.ndarray) -> float | np.ndarray:
        """Inverse of ``current``: the jump (mV) that an injected current makes."""
        return current / self.amp_per_volt / MV

    def delay_ms(self, stored: float | np.ndarray) -> float | np.ndarray:
        """The transmission delay (ms) a relay's stored delay (s) produces: delivered
        at the first step at or after it, plus the step MOOSE sees a spike late."""
        return (np.ceil(stored / self.dt) + 1) * self.dt / MS


def jumps(net: NetworkConfig) -> np.ndarray:
    """The jump (mV) of one input, ``[source population, target population]`` with E = 0
    and I = 1: J and -g J onto E neurons, J_I and -g_I J_I onto I neurons."""
    e, i = net.population("E"), net.population("I")
    return np.array([[e.J, i.J], [-e.g * e.J, -i.g * i.J]])


def to_moose(cfg: Config, d: Derived, name: str = "E") -> MooseParams:
    """Population ``name``'s encoding.

    Every input is a current, and one current must mean the right jump in either
    population, because a neuron's relay sends one current to all its targets. An
    injected current I moves Vm by I Rm (1 - x) / x before the leak, so population a's
    Rm is chosen to make that J_a / J times the excitatory neurons' jump: one
    current per source then serves both populations wherever g_I = g. Model A keeps
    Rm = tau and Cm = 1 exactly.
    """
    n = cfg.network
    e, a = n.population("E"), n.population(name)
    dt = cfg.sim.dt * MS

    def decay(tau: float) -> float:
        return math.exp(-dt / (tau * MS))

    x, x_e = decay(a.tau), decay(e.tau)
    Rm = e.tau * MS  # the same expression as the scaled one would differ in the last bit
    if (a.tau, a.J) != (e.tau, e.J):
        Rm *= (a.J / e.J) * (1 - x_e) / x_e * x / (1 - x)
    refractory = d.refractory_steps if name == "E" else d.refractory_steps_I
    return MooseParams(
        dt=dt, Rm=Rm, Cm=a.tau * MS / Rm, decay=x, thresh=a.theta * MV * x * (1 + THRESHOLD_TIE),
        V_r=a.V_r * MV, amp_per_volt=x / (Rm * (1 - x)),
        delay=(d.delay_steps - 1.5) * dt, refractory=(refractory - 0.5) * dt,
    )
