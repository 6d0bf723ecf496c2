"""Internal: the benchmark's Brian2 peer (brunel-bench engine --peer brian2): the same
network, on the same instance, in Brian2's C++ standalone mode.

``python -m sweep.brian2_peer [overrides]`` resolves the configuration in this project's
environment, draws this project's instance (every neuron's sources, the initial
potentials, the Vm sample) and writes it with the parameters into a temporary
directory; ``python -m sweep.brian2_peer --child DIR``, run by the Brian2 environment's
interpreter, builds, compiles and runs the network there and writes the spikes, the Vm
sample and its timings back; this process then computes the statistics (the same
``summarize`` as a MOOSE point) and prints them with the timings as one JSON object.

The child imports nothing but the standard library, numpy and Brian2: Brian2 2.9 needs
numpy < 2, so it lives in an environment of its own, ``.venv-brian2`` at the repository
root (``brunel-bench brian2-env`` creates it), or the interpreter named by
``BRUNEL_BRIAN2_PYTHON``. Its standalone mode also needs make and a C++ compiler.

The model is Brunel's neuron as this project defines it (docs/model.md), step for step:

- Synapses (E and I sources apart, from ``Synapses.connect(i=..., j=...)`` with this
  project's sources, multapses included) add ``w * int(not_refractory_post)``, w = J or
  -g J; the external drive is a ``PoissonInput`` of C_E sources at nu_ext per neuron with
  the weight ``J * int(not_refractory)``: input during the refractory period is ignored.
  Brian2 draws the drive as Binomial(C_E, nu_ext dt) per neuron and step (exactly, by
  inversion, up to a mean of 5 events per step, eta = 5 at dt = 0.1 ms; a normal
  approximation above), from its own random numbers: rates and states compare with
  MOOSE's, spike trains do not.
- Brian2's step is leak, threshold, synaptic input, reset; Brunel's is input, threshold,
  leak. So Brian2's v after the input of its step k is Brunel's V after the input of
  step k + 1, tested in Brian2's step k + 1 after one more leak: the threshold is
  theta x (1 + THRESHOLD_TIE), x = exp(-dt / tau); the reset V_r / x (the leak of the
  first free step restores V_r); the initial potentials V0 / x; the delay D - dt (an
  event is added one step before its target's test); the refractory period tau_rp.
  Brian2's test at t = 0 would be one of V0 before any input, which Brunel's neuron
  does not make (``t > 0*second`` in the threshold), and the run is one step longer so
  that Brunel's last step is tested. Spike times are then Brunel's, and the Vm sample,
  recorded after the leak, is Brunel's V (V_r written into the firing step and the
  refractory steps).
- One thread (``openmp_threads = 0``), dt = ``sim.dt``; the binary is compiled with one
  make job. ``--same-drive`` replaces the PoissonInput by this project's own external
  counts (a ``TimedArray``; small networks only): the spike trains must then be the
  numpy reference's, which the tests check.

Timings: ``build_s`` is the instance (drawn and written), Brian2's Python-side setup and
the binary's own setup (loading the arrays, creating the synapses: its wall time outside
the simulation loop); ``compile_s`` is code generation and compilation; ``run_s`` the
simulation loop's wall time (``run_cpu_s`` Brian2's own CPU-time measure of it).
``peak_rss_mb`` is the simulation binary's peak resident memory (``getrusage`` of that
process); ``python_rss_mb`` the child's Python process, which waits while it runs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ENV_DIR = ROOT / ".venv-brian2"
PYTHON_VARIABLE = "BRUNEL_BRIAN2_PYTHON"
REQUIREMENTS = ("brian2==2.9.*", "numpy<2")
CREATE = "brunel-bench brian2-env"


def brian2_python() -> Path:
    """The interpreter of the Brian2 environment: ``BRUNEL_BRIAN2_PYTHON`` if set, else
    ``.venv-brian2/bin/python`` at the repository root."""
    return Path(os.environ.get(PYTHON_VARIABLE) or ENV_DIR / "bin" / "python")


def missing() -> str | None:
    """What the peer lacks, in one line naming the command that provides it; None if
    nothing. Runs nothing heavy (the interpreter is asked whether brian2 is findable)."""
    python, chosen = brian2_python(), os.environ.get(PYTHON_VARIABLE)
    wanted = f"a Python with {' and '.join(REQUIREMENTS)}"
    if chosen:
        named = f"{PYTHON_VARIABLE}={python}"
        fix = (f"point {PYTHON_VARIABLE} at {wanted}, or unset it and create "
               f"{ENV_DIR.name} with `{CREATE}`")
    else:
        named = str(python.relative_to(ROOT))
        fix = f"create it with `{CREATE}` (or set {PYTHON_VARIABLE} to {wanted})"
    if not (python.is_file() and os.access(python, os.X_OK)):
        return f"no Brian2 environment: {named} does not exist; {fix}"
    probe = subprocess.run([str(python), "-c", "import importlib.util as u, sys; "
                            "sys.exit(u.find_spec('brian2') is None)"],
                           capture_output=True, check=False)
    if probe.returncode:
        return f"no Brian2 in {named}; {fix}"
    if not (shutil.which("make") and (shutil.which("g++") or shutil.which("c++"))):
        return ("Brian2's standalone mode needs make and a C++ compiler: "
                "apt-get install build-essential")
    return None


def env_commands(python: str | None = None) -> list[list[str]]:
    """The commands that create the Brian2 environment at ``.venv-brian2``."""
    return [[python or sys.executable, "-m", "venv", str(ENV_DIR)],
            [str(ENV_DIR / "bin" / "python"), "-m", "pip", "install", *REQUIREMENTS]]


# ---------------------------------------------------------------- parent (project env)

def external_counts(inst, cfg) -> np.ndarray:
    """The external counts MOOSE and the numpy reference receive, (n_steps, N), drawn
    chunk by chunk and neuron by neuron exactly as they draw them."""
    d, dt = inst.derived, cfg.sim.dt
    counts, chunk = inst.drive(), round(cfg.sim.chunk / dt)
    out = np.empty((d.n_steps, d.N), dtype=np.uint16)
    for first in range(0, d.n_steps, chunk):
        n = min(chunk, d.n_steps - first)
        for i in range(d.N):
            out[first:first + n, i] = counts(i, n)
    return out


def run_brian2(cfg, same_drive: bool = False, spikes_path: Path | None = None) -> dict:
    """Draw the instance, run the child in the Brian2 environment, and measure: the
    point's statistics and timings; ``spikes_path`` also saves its spikes and Vm sample
    (npz, as ``brunel-point --spikes``)."""
    from analysis.summary import summarize_point
    from sweep.instance import draw_instance
    from sweep.model import THRESHOLD_TIE
    from sweep.rundir import atomic_write

    t0 = time.perf_counter()
    inst = draw_instance(cfg)
    d, net, sim = inst.derived, cfg.network, cfg.sim
    x = float(np.exp(-sim.dt / net.tau))  # the leak of one step, as the reference has it
    params = {
        "N": d.N, "N_E": net.N_E, "C_E": d.C_E, "tau": net.tau, "dt": sim.dt,
        "J": net.J, "J_I": -net.g * net.J, "decay": x,
        "threshold": net.theta * x * (1 + THRESHOLD_TIE), "V_r": net.V_r,
        "reset": net.V_r / x, "delay_steps": d.delay_steps,
        "refractory_steps": d.refractory_steps, "n_steps": d.n_steps,
        "nu_ext": d.nu_ext, "seed": sim.seed, "same_drive": same_drive,
    }
    with tempfile.TemporaryDirectory(prefix="brian2-peer-") as tmp:
        work = Path(tmp)
        arrays = {"sources": inst.sources.astype(np.int32), "v_init": inst.v_init,
                  "vm_ids": inst.vm_ids.astype(np.int32)}
        if same_drive:
            arrays["counts"] = external_counts(inst, cfg)
        np.savez(work / "instance.npz", **arrays)
        (work / "params.json").write_text(json.dumps(params))
        instance_s = time.perf_counter() - t0
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([str(brian2_python()), "-m", "sweep.brian2_peer", "--child",
                              str(work)], cwd=work, env=env, capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            raise RuntimeError(f"the Brian2 child failed ({out.returncode}): "
                               f"{(out.stderr or out.stdout).strip()[-2000:]}")
        with np.load(work / "result.npz") as f:
            times, ids, vm = f["times"], f["ids"].astype(np.int64), f["vm"]
        child = json.loads((work / "timings.json").read_text())
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    result = summarize_point(times, ids, vm, cfg)
    if spikes_path is not None:
        def save(tmp: Path) -> None:
            with tmp.open("wb") as f:  # a file: np.savez would append .npz to a name
                np.savez_compressed(f, times=times, ids=ids, vm=vm.astype(np.float32),
                                    vm_ids=inst.vm_ids)

        atomic_write(spikes_path, save)
    result.update(
        engine="brian2", brian2_version=child["brian2_version"], seed=sim.seed, g=net.g,
        eta=net.eta, N=d.N, duration_ms=sim.duration, n_spikes=int(times.size),
        build_s=instance_s + child["setup_s"] + child["binary_setup_s"],
        compile_s=child["compile_s"], drive_s=0.0, run_s=child["run_s"],
        run_cpu_s=child["run_cpu_s"], instance_s=instance_s, import_s=child["import_s"],
        setup_s=child["setup_s"], binary_setup_s=child["binary_setup_s"],
        codegen_s=child["codegen_s"], make_s=child["make_s"],
        peak_rss_mb=child["binary_rss_mb"], python_rss_mb=child["python_rss_mb"],
        same_drive=same_drive, total_s=time.perf_counter() - t0,
    )
    return result


def _peer_main(argv: list[str]) -> int:
    from sweep.cli import UsageError, add_overrides, parser
    from sweep.config import load_config, require_model_a

    ap = parser("python -m sweep.brian2_peer", __doc__, "sweep.brian2_peer")
    ap.add_argument("--same-drive", action="store_true",
                    help="this project's external counts instead of Brian2's PoissonInput "
                         "(a check against the numpy reference; small networks)")
    ap.add_argument("--spikes", type=Path, metavar="FILE",
                    help="also save spikes and Vm (npz)")
    add_overrides(ap)
    args = ap.parse_intermixed_args(argv)
    cfg = load_config(args.overrides)
    require_model_a(cfg.network, "the Brian2 peer")
    problem = missing()
    if problem:
        raise UsageError(problem)
    print(json.dumps(run_brian2(cfg, args.same_drive, args.spikes)))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"] and len(argv) == 2:
        return child(Path(argv[1]))
    from sweep.cli import command

    return command(_peer_main)(argv)


# ---------------------------------------------------------------- child (Brian2 env)

# Runs the simulation binary and writes its own wall time and peak RSS (Brian2 starts
# the binary as ``run_cmd_unix + run_args``).
_MEASURE = """import json, os, sys, time
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"wall_s": time.perf_counter() - t, "rss_mb": usage.ru_maxrss / 1024}, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""

# Wall-clock seconds (CLOCK_MONOTONIC, through the vDSO: tens of ns a call), for the
# simulation loop's own wall time: Brian2's measure of it is CPU time without OpenMP.
_WALL_TIME_CPP = """
double wall_time()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
"""


def child(work: Path) -> int:
    """Build, compile and run the network described in ``work``; write the spikes, the
    Vm sample and the timings there."""
    p = json.loads((work / "params.json").read_text())
    with np.load(work / "instance.npz") as f:
        arrays = {k: f[k] for k in f.files}
    t0 = time.perf_counter()
    import brian2 as b2

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    b2.prefs.logging.file_log = False
    b2.prefs.logging.std_redirection = False
    b2.BrianLogger.log_level_warn()
    b2.set_device("cpp_standalone", build_on_run=False)
    standalone = b2.prefs.devices.cpp_standalone
    standalone.openmp_threads = 0
    standalone.extra_make_args_unix = ["-j1"]
    standalone.run_cmd_unix = [sys.executable, "-c", _MEASURE, str(work / "binary.json"),
                                 "./main"]
    dt = p["dt"] * b2.ms
    b2.defaultclock.dt = dt
    b2.seed(p["seed"])
    N, N_E, C_E = p["N"], p["N_E"], p["C_E"]
    sources = arrays["sources"]
    namespace = {"tau": p["tau"] * b2.ms, "threshold": p["threshold"], "reset": p["reset"]}
    if p["same_drive"]:
        namespace.update(J=p["J"], ext=b2.TimedArray(arrays.pop("counts").astype(np.float64),
                                                    dt=dt))
    # v in mV as a plain number
    group = b2.NeuronGroup(
        N, "dv/dt = -v / tau : 1 (unless refractory)", method="exact",
        threshold="v > threshold and t > 0*second", reset="v = reset",
        refractory=p["refractory_steps"] * dt,
        namespace=namespace, name="neurons")
    group.v = arrays["v_init"] / p["decay"]
    delay = (p["delay_steps"] - 1) * dt
    targets = np.repeat(np.arange(N, dtype=np.int32), sources.shape[1]).reshape(N, -1)
    synapses = []
    for name, pre, cols, offset, w in (("exc", group[:N_E], slice(0, C_E), 0, p["J"]),
                                       ("inh", group[N_E:], slice(C_E, None), N_E, p["J_I"])):
        s = b2.Synapses(pre, group, on_pre="v_post += w * int(not_refractory_post)",
                        delay=delay, namespace={"w": w}, name=name)
        s.connect(i=(sources[:, cols] - offset).ravel(), j=targets[:, cols].ravel())
        synapses.append(s)
    del targets
    if p["same_drive"]:
        group.run_regularly("v += J * ext(t, i) * int(not_refractory)", when="synapses",
                            name="external")
        drive = None
    else:
        drive = b2.PoissonInput(group, "v", C_E, p["nu_ext"] * b2.Hz,
                                weight=f"{p['J']!r} * int(not_refractory)")
    spikes = b2.SpikeMonitor(group, name="spikes")
    vm_ids = arrays["vm_ids"]
    vm = (b2.StateMonitor(group, "v", record=vm_ids, when="thresholds", order=-1,
                          name="vm") if vm_ids.size else None)
    network = b2.Network([group, *synapses, spikes]
                         + [o for o in (drive, vm) if o is not None])
    # One step more: the threshold test of Brunel's last step is Brian2's next step.
    duration = (p["n_steps"] + 1) * dt
    wall_time = b2.Function(None, arg_units=[], return_unit=1, stateless=False,
                            auto_vectorise=False)
    wall_time.implementations.add_implementation(
        "cpp", _WALL_TIME_CPP, name="wall_time", compiler_kwds={"headers": ["<time.h>"]})
    timer = b2.NeuronGroup(1, "loop_start : 1\nloop_end : 1",
                           namespace={"wall_time": wall_time}, name="timer")
    timer.run_regularly("loop_start = wall_time()", when="start", dt=duration,
                        name="timer_start")
    timer.run_regularly("loop_end = wall_time()", when="end", name="timer_end")
    network.add(timer)
    network.run(duration, namespace={})
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    b2.device.build(directory=str(work / "build"), compile=True, run=False,
                    with_output=False)
    compile_s = time.perf_counter() - t0
    b2.device.run(with_output=False)
    binary = json.loads((work / "binary.json").read_text())
    run_s = float(timer.loop_end[0] - timer.loop_start[0])
    dt_ms = p["dt"]
    steps = np.rint(np.asarray(spikes.t_) / (dt_ms * 1e-3)).astype(np.int64)
    ids = np.asarray(spikes.i[:], dtype=np.int64)
    if vm is not None:
        v = np.asarray(vm.v)[:, 1:]  # column k - 1: after the leak of step k
        row = np.searchsorted(vm_ids, ids)
        mine = (row < vm_ids.size) & (vm_ids[np.minimum(row, vm_ids.size - 1)] == ids)
        for r, k in zip(row[mine], steps[mine], strict=True):
            v[r, k - 1:k - 1 + p["refractory_steps"]] = p["V_r"]  # firing, refractory
    else:
        v = np.empty((0, p["n_steps"]))
    np.savez(work / "result.npz", times=steps * dt_ms, ids=ids, vm=v)
    make_s = b2.device.timers["compile"]["make"] or 0.0
    timings = {
        "brian2_version": b2.__version__, "import_s": import_s, "setup_s": setup_s,
        "compile_s": compile_s, "make_s": make_s, "codegen_s": compile_s - make_s,
        "run_s": run_s, "run_cpu_s": b2.device._last_run_time,
        "binary_setup_s": binary["wall_s"] - run_s, "binary_rss_mb": binary["rss_mb"],
        "python_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    (work / "timings.json").write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
