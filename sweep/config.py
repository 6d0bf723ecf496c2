"""Typed configuration: the schema, its composition from ``conf/``, and validation.

Values are in the paper's units (ms, mV, Hz). The schema lives here as
dataclasses; the values live in ``conf/*.yaml``. Every error becomes a
``ConfigError`` whose message is one line naming the offending key and what is
allowed, raised before MOOSE is imported.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig
# omegaconf and hydra are imported where they are used: a point's process needs only
# the dataclasses (config_from_dict), and every import there is paid once per point.


def _conf_dir() -> Path:
    """The configs: the repository's ``conf/`` in a source checkout (an editable install
    reads them in place), else the copy a plain install ships as ``sweep/conf``."""
    here = Path(__file__).resolve().parent
    source = here.parent / "conf"
    return source if (source / "config.yaml").is_file() else here / "conf"


CONF_DIR = _conf_dir()


class ConfigError(ValueError):
    """A configuration that cannot be run. The message is a single line."""


@dataclass
class NetworkConfig:
    N_E: int = 10000  # excitatory neurons
    N_I: int = 2500  # inhibitory neurons
    epsilon: float = 0.1  # connection probability: C_E = epsilon * N_E
    J: float = 0.1  # mV, excitatory jump (inhibitory: -g J)
    g: float = 5.0  # relative strength of inhibition
    eta: float = 2.0  # nu_ext / nu_thr
    D: float = 1.5  # ms, transmission delay
    theta: float = 20.0  # mV, threshold
    V_r: float = 10.0  # mV, reset
    tau: float = 20.0  # ms, membrane time constant
    tau_rp: float = 2.0  # ms, absolute refractory period
    multapses: bool = True  # Brunel allows repeated source-target pairs
    # The inhibitory population's own values (``INHIBITORY``); None: the value of the
    # key above, so that a config without them is model A (same ids and seeds).
    tau_I: float | None = None  # ms
    tau_rp_I: float | None = None  # ms
    theta_I: float | None = None  # mV
    V_r_I: float | None = None  # mV
    J_I: float | None = None  # mV, an excitatory input (recurrent or external) onto an I neuron
    g_I: float | None = None  # an inhibitory input onto an I neuron jumps by -g_I J_I
    eta_I: float | None = None  # the I neurons' nu_ext / nu_thr (nu_thr as above)

    # Derived, never configured (properties are not fields: Hydra cannot set them).
    @property
    def N(self) -> int:  # noqa: N802 (the paper's symbol)
        return self.N_E + self.N_I

    @property
    def C_E(self) -> int:  # noqa: N802
        """Excitatory inputs per neuron."""
        return round(self.epsilon * self.N_E)

    @property
    def C_I(self) -> int:  # noqa: N802
        """Inhibitory inputs per neuron."""
        return round(self.epsilon * self.N_I)

    def population(self, name: str) -> Population:
        """The resolved values of population ``name`` ("E" or "I")."""
        def value(own: str, base: str) -> float:
            mine = getattr(self, own) if name == "I" else None
            return float(getattr(self, base) if mine is None else mine)

        return Population(**{base: value(own, base) for own, base in INHIBITORY.items()})

    @property
    def two_populations(self) -> bool:
        """Whether the inhibitory neurons differ from the excitatory ones (not model A)."""
        return self.population("I") != self.population("E")

    def identity(self) -> dict[str, Any]:
        """The fields that define the network: every inhibitory key that says no more
        than its model-A default (None or the same value) is left out, so a model-A
        network has the same content, hence the same point id and seed, as before the
        keys existed."""
        out = dataclasses.asdict(self)
        for own, base in INHIBITORY.items():
            if out[own] is None or out[own] == out[base]:
                del out[own]
        return out


def require_model_a(net: NetworkConfig, who: str) -> None:
    """Refuse a two-population network where only model A is simulated (the peers)."""
    if net.two_populations:
        raise ConfigError(f"{who}: simulates model A only; leave out the inhibitory "
                          "network.*_I keys")


# Each inhibitory key and the excitatory (model A) key whose value it defaults to.
INHIBITORY = {"tau_I": "tau", "tau_rp_I": "tau_rp", "theta_I": "theta", "V_r_I": "V_r",
              "J_I": "J", "g_I": "g", "eta_I": "eta"}


@dataclass(frozen=True)
class Population:
    """One population's neuron and inputs, resolved (paper units: ms, mV)."""

    tau: float
    tau_rp: float
    theta: float
    V_r: float
    J: float  # jump of an excitatory input onto it, recurrent or external
    g: float  # an inhibitory input onto it jumps by -g J
    eta: float  # its external rate nu_ext = eta nu_thr, nu_thr = theta / (J C_E tau) of E


@dataclass
class SimConfig:
    dt: float = 0.1  # ms, one step for every MOOSE tick
    duration: float = 1200.0  # ms, simulated time including the transient
    transient: float = 200.0  # ms, discarded before any statistic
    seed: int = 0
    V_init_low: float = 0.0  # mV, initial Vm drawn uniformly in [low, high)
    V_init_high: float = 20.0
    vm_sample: int = 200  # neurons whose Vm is recorded (for chi)
    chunk: float = 400.0  # ms of external drive held in memory at once


@dataclass
class AnalysisConfig:
    cv_min_isis: int = 5  # a neuron needs this many ISIs to enter the CV mean
    pop_bin: float = 0.5  # ms, population-rate bin for the spectrum
    sync_bin: float = 2.0  # ms, spike-count bin for the spike synchrony
    welch_segment: float = 250.0  # ms, segment length of the spectrum estimate
    f_min: float = 5.0  # Hz, lowest frequency searched for a peak
    quiescent_rate: float = 0.2  # Hz, below this a network is quiescent
    cv_regular: float = 0.25  # CV below this is regular firing
    rhythm_band: float = 0.3  # the rhythm's band: peak frequency (1 +- rhythm_band)
    sync_env_cv: float = 0.40  # envelope CV of the rhythm below this: synchronous
    coherence_neurons: int = 2000  # neurons (evenly spaced ids) in the spike coherence
    f_fast: float = 60.0  # Hz, oscillations at or above this are SI-fast


@dataclass
class RefineConfig:
    """Rounds after the grid that add the midpoint of every two neighbours whose
    states differ (``sweep.refine``); on when ``min_step`` is set."""

    min_step: float | None = None  # a midpoint only while half the spacing is at least this
    levels: int | None = None  # at most this many rounds after the grid; None: no cap

    @property
    def on(self) -> bool:
        return self.min_step is not None and self.levels != 0
    axes: list[str] = field(default_factory=lambda: ["network.g", "network.eta"])


@dataclass
class ConfidenceConfig:
    """More seeds where a point is undecided (``sweep.refine.extra_seeds``): a point is
    decided when the margin of its replicates' pooled measures
    (``analysis.states.point_decision``) is at least ``z`` standard errors; a point that
    is not gets one more seed per round, up to ``max_replicates``."""

    on: bool = False
    z: float = 2.0  # standard errors between a measure and its threshold
    max_replicates: int = 5  # seeds per point at most, the grid's own included


@dataclass
class GridConfig:
    """Points of a sweep: ``points`` (partial configs, default one empty point) crossed
    with every axis in ``axes`` and with ``replicates`` seeds. ``axes`` is nested like
    the config; a leaf is a list of values or "start:stop:step" (stop included).
    ``refine``: rounds that add points where the states change; ``confidence``:
    rounds that add seeds where a point is undecided."""

    axes: dict[str, Any] = field(default_factory=dict)
    points: list[Any] = field(default_factory=list)
    replicates: int = 1
    refine: RefineConfig = field(default_factory=RefineConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)


@dataclass
class RunConfig:
    jobs: int = 0  # points run at once, each in its own process; 0: one per core
    timeout: float = 3600.0  # s of wall time per point, then it is killed
    mem_cap_mb: int = 6000  # MB of resident memory per point, then it is killed
    retry_failed: bool = False  # on resume, run failed points again
    save_spikes: bool = False  # keep each point's spikes and Vm sample (npz)
    progress: bool = True
    theory: bool = True  # after gathering: theory overlay and agreement.txt


@dataclass
class SlurmConfig:
    """Array jobs (``python -m sweep.slurm``): each task runs one shard of points."""

    points_per_task: int = 4  # shard size
    max_running: int = 0  # array throttle (--array=0-K%max_running); 0: no throttle
    cpus_per_task: int = 1  # also the points a task runs at once
    mem_mb: int = 8000  # per CPU, i.e. per point running (--mem-per-cpu)
    time: str = "04:00:00"  # per task, sbatch --time format
    partition: str | None = None  # None: the cluster's default
    extra: list[str] = field(default_factory=list)  # more sbatch options, e.g. --account=x


@dataclass
class Config:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    run: RunConfig = field(default_factory=RunConfig)
    slurm: SlurmConfig = field(default_factory=SlurmConfig)


POINT_GROUPS = ("network", "sim", "analysis")  # what defines a point; grid and run do not


def point_keys() -> dict[str, Any]:
    """Every setting of a point, by dotted key ("network.g"), with its schema type."""
    groups = {f.name: f.default_factory for f in dataclasses.fields(Config)}
    return {f"{g}.{f.name}": f.type for g in POINT_GROUPS for f in dataclasses.fields(groups[g])}


def cores(jobs: int) -> int:
    """``run.jobs`` as a count: 0 means one per core."""
    import os

    return int(jobs) or os.cpu_count() or 1


def register_schema() -> None:
    """Register the schema so that ``conf/config.yaml`` can name it in its defaults, and
    the ``cores`` resolver (``${cores:${run.jobs}}``) that launcher presets use."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    ConfigStore.instance().store(name="schema", node=Config)
    OmegaConf.register_new_resolver("cores", cores, replace=True)


def steps(value_ms: float, dt_ms: float) -> int | None:
    """``value_ms / dt_ms`` if it is a whole number (to 1e-9 relative), else None."""
    n = value_ms / dt_ms
    return round(n) if math.isclose(n, round(n), rel_tol=1e-9, abs_tol=1e-9) else None


def _fail(key: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{key}={value!r}: must be {allowed}")


def validate(cfg: Config) -> None:
    """Check the combinations the schema's types cannot express."""
    n, s, a = cfg.network, cfg.sim, cfg.analysis
    for group in (*POINT_GROUPS, "run"):
        for f in dataclasses.fields(getattr(cfg, group)):
            value = getattr(getattr(cfg, group), f.name)
            if isinstance(value, float) and not math.isfinite(value):
                _fail(f"{group}.{f.name}", value, "a finite number")
    positive = {
        "network.N_E": n.N_E, "network.N_I": n.N_I, "network.J": n.J,
        "network.eta": n.eta, "network.D": n.D, "network.theta": n.theta,
        "network.tau": n.tau, "sim.dt": s.dt, "sim.duration": s.duration,
        "analysis.pop_bin": a.pop_bin, "analysis.sync_bin": a.sync_bin,
        "analysis.welch_segment": a.welch_segment, "analysis.cv_min_isis": a.cv_min_isis,
        "analysis.sync_env_cv": a.sync_env_cv,
    }
    for key, value in positive.items():
        if not value > 0:
            _fail(key, value, "> 0")
    for key, value in {"network.g": n.g, "network.tau_rp": n.tau_rp,
                       "sim.transient": s.transient, "sim.vm_sample": s.vm_sample,
                       "sim.seed": s.seed}.items():
        if value < 0:
            _fail(key, value, ">= 0")
    r = cfg.run
    for key, value in {"run.jobs": r.jobs + 1, "run.timeout": r.timeout,
                       "run.mem_cap_mb": r.mem_cap_mb}.items():
        if not value > 0:
            _fail(key, getattr(r, key.split(".")[1]), ">= 0" if key == "run.jobs" else "> 0")
    _validate_slurm(cfg.slurm)
    if not 0 < n.epsilon <= 1:
        _fail("network.epsilon", n.epsilon, "in (0, 1]")
    if n.V_r >= n.theta:
        _fail("network.V_r", n.V_r, f"below network.theta={n.theta}")
    if not s.V_init_low < s.V_init_high <= n.theta:
        _fail("sim.V_init_high", s.V_init_high,
              f"above sim.V_init_low={s.V_init_low} and at most network.theta={n.theta}")
    _validate_inhibitory(n, s)
    c_e, c_i = n.C_E, n.C_I
    if c_e < 1 or c_i < 1:
        _fail("network.epsilon", n.epsilon, "large enough that C_E and C_I are at least 1")
    # A neuron may not be its own source, so it has N_E - 1 (or N_I - 1) candidates.
    for key, c, pool in (("network.N_E", c_e, n.N_E), ("network.N_I", c_i, n.N_I)):
        available = pool if n.multapses else pool - 1
        if c > available or pool < 2:
            _fail(key, pool, f"larger than its in-degree C={c} (multapses={n.multapses})")
    for key, value in (("network.D", n.D), ("network.tau_rp", n.tau_rp),
                       ("sim.duration", s.duration), ("sim.transient", s.transient),
                       ("sim.chunk", s.chunk)):
        if steps(value, s.dt) is None:
            _fail(key, value, f"a whole number of steps of sim.dt={s.dt} ms")
    # MOOSE's LIF is Brunel's neuron only with these (sweep.model.MooseParams): it sees
    # a spike one step late, so a delay and a refractory clamp each lose one step.
    for key, value in (("network.D", n.D), ("network.tau_rp", n.tau_rp)):
        if steps(value, s.dt) < 2:
            _fail(key, value, f"at least 2 steps of sim.dt={s.dt} ms")
    if s.duration <= s.transient:
        _fail("sim.duration", s.duration, f"> sim.transient={s.transient}")
    if s.chunk <= 0:
        _fail("sim.chunk", s.chunk, "> 0")
    window = s.duration - s.transient
    if a.welch_segment > window:
        _fail("analysis.welch_segment", a.welch_segment,
              f"at most the analysis window sim.duration - sim.transient = {window} ms")
    if not 0 < a.rhythm_band < 1:
        _fail("analysis.rhythm_band", a.rhythm_band, "in (0, 1)")
    if a.coherence_neurons < 2:
        _fail("analysis.coherence_neurons", a.coherence_neurons, ">= 2")
    for key, value in (("analysis.pop_bin", a.pop_bin), ("analysis.sync_bin", a.sync_bin)):
        if value < s.dt:
            _fail(key, value, f">= sim.dt={s.dt} ms")


def _validate_inhibitory(n: NetworkConfig, s: SimConfig) -> None:
    """The inhibitory keys that are set, as their model-A keys are checked."""
    inh = n.population("I")
    for own in ("tau_I", "theta_I", "J_I", "eta_I"):
        if getattr(n, own) is not None and not getattr(n, own) > 0:
            _fail(f"network.{own}", getattr(n, own), "> 0")
    for own in ("tau_rp_I", "g_I"):
        if getattr(n, own) is not None and getattr(n, own) < 0:
            _fail(f"network.{own}", getattr(n, own), ">= 0")
    if inh.V_r >= inh.theta:
        key = "network.V_r_I" if n.V_r_I is not None else "network.theta_I"
        _fail(key, getattr(n, key.split(".")[1]),
              f"such that the I neurons' reset V_r_I={inh.V_r} is below their threshold "
              f"theta_I={inh.theta}")
    if n.tau_rp_I is not None:
        whole = steps(inh.tau_rp, s.dt)
        if whole is None or whole < 2:
            _fail("network.tau_rp_I", n.tau_rp_I,
                  f"a whole number of steps of sim.dt={s.dt} ms, at least 2")
    if n.theta_I is not None and not s.V_init_low < inh.theta:
        _fail("network.theta_I", n.theta_I, f"above sim.V_init_low={s.V_init_low} (I neurons "
              "start in [V_init_low, min(V_init_high, theta_I)))")


SWEEP_SETS = ("--array", "--output", "--error", "--parsable", "--job-name", "--clusters",
              "--cpus-per-task", "--mem", "--mem-per-cpu", "--time", "--partition")
SLURM_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")


def _validate_slurm(sl: SlurmConfig) -> None:
    for key in ("points_per_task", "cpus_per_task", "mem_mb"):
        if not getattr(sl, key) >= 1:
            _fail(f"slurm.{key}", getattr(sl, key), ">= 1")
    if sl.max_running < 0:
        _fail("slurm.max_running", sl.max_running, ">= 0 (0: no throttle)")
    if not SLURM_TIME.match(sl.time):
        _fail("slurm.time", sl.time, "a Slurm time: minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]")
    if sl.partition is not None and not re.fullmatch(r"[\w.,-]+", sl.partition):
        _fail("slurm.partition", sl.partition, "a partition name (letters, digits, _ . , -)")
    for option in sl.extra:
        if not re.fullmatch(r"--[a-z][\w-]*(=\S.*)?", option) or option.split("=")[0] in (
                SWEEP_SETS):
            _fail("slurm.extra", option, "sbatch long options like '--account=name', "
                  f"other than {', '.join(SWEEP_SETS)} (the sweep sets those)")


def config_from_dict(d: dict[str, Any]) -> Config:
    """A Config from ``dataclasses.asdict`` output, already validated where it was made
    (no OmegaConf: this is what a point's process starts from). Groups left out take
    their defaults."""
    return Config(**{f.name: f.default_factory(**d.get(f.name, {}))
                     for f in dataclasses.fields(Config)})


def _check_keys(node: Any, schema: type, prefix: str = "") -> None:
    """Reject keys the schema does not know (Hydra's ``+key=`` bypasses struct mode)."""
    fields = {f.name: f for f in dataclasses.fields(schema)}
    for key in node:
        full = f"{prefix}{key}"
        if key not in fields:
            allowed = ", ".join(fields)
            where = prefix.rstrip(".") or "the root"
            raise ConfigError(f"{full}: unknown key; {where} allows: {allowed}")
        sub = fields[key].default_factory
        if dataclasses.is_dataclass(sub) and hasattr(node[key], "keys"):
            _check_keys(node[key], sub, f"{full}.")


def _one_line(err: Exception) -> str:
    """Turn a Hydra/OmegaConf error into one line that names the key."""
    from omegaconf.errors import OmegaConfBaseException

    cause = err
    while not isinstance(cause, OmegaConfBaseException) and cause.__cause__ is not None:
        cause = cause.__cause__
    key = getattr(cause, "full_key", None)
    text = " ".join(str(cause).split("\n")[0].split()) or type(cause).__name__
    if key and " not in " in text:
        parent = key.rpartition(".")[0]
        schema = Config
        for part in filter(None, parent.split(".")):
            schema = {f.name: f.default_factory for f in dataclasses.fields(schema)}[part]
            if not dataclasses.is_dataclass(schema):  # a free mapping, e.g. grid.axes
                return f"{key}: not in this config; add it with +{key}=..."
        allowed = ", ".join(f.name for f in dataclasses.fields(schema))
        return f"{key}: unknown key; {parent or 'the root'} allows: {allowed}"
    if key:
        return f"{key}: {text}"
    options = re.search(r"Could not find '(\w+)/(\w+)'", text)
    if options:
        group, name = options.groups()
        known = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        return f"{group}={name}: no such preset; {group} allows: {', '.join(known)}"
    return text


def from_dictconfig(cfg: DictConfig) -> Config:
    """Merge a composed config onto the schema and return the typed, validated object."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    _check_keys(cfg, Config)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), cfg)
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from None
    return typed_config(merged)


def typed_config(structured: DictConfig, updates: dict[str, Any] | None = None) -> Config:
    """The typed, validated Config of a DictConfig already on the schema, after setting
    ``updates`` (dotted key -> value; each converted to the key's type or rejected)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        for key, value in (updates or {}).items():
            OmegaConf.update(structured, key, value, merge=False)
        typed = OmegaConf.to_object(structured)
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from None
    validate(typed)
    return typed


def compose(overrides: list[str], config_name: str = "config") -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with command-line style overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            return hydra_compose(config_name=config_name, overrides=list(overrides))
    except Exception as err:  # Hydra raises several unrelated types here
        raise ConfigError(_bad_override(overrides) or _one_line(err)) from None
    finally:
        GlobalHydra.instance().clear()


def _bad_override(overrides: list[str]) -> str | None:
    """The first override Hydra's grammar rejects, as a one-line message."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_override(override)
        except Exception:  # Hydra's grammar errors
            return (f"{override}: not a valid override; quote values with special characters, "
                    "e.g. slurm.extra='[\"--account=lab\"]'")
    return None


def standard_size(n: int) -> list[str]:
    """Overrides for Brunel's standard network scaled to n neurons (N_E : N_I = 4 : 1)."""
    return ["network=brunel_a", f"network.N_E={4 * n // 5}", f"network.N_I={n // 5}"]


def load_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Compose, type-check and validate a configuration: the entry of every command."""
    return from_dictconfig(compose(list(overrides)))
