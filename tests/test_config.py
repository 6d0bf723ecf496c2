"""Bad input fails with one line naming the key, exit code 2, before MOOSE is imported;
the defaults live in one place."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest
import yaml

from sweep.config import Config, load_config
from sweep.model import derive, to_moose
from tests.helpers import ROOT, run_cli

PROBE = ("import sys; from sweep.point import main; rc = main(sys.argv[1:]); "
         "print('moose imported' if 'moose' in sys.modules else 'moose not imported'); "
         "sys.exit(rc)")


@pytest.mark.parametrize(("overrides", "key", "allowed"), [
    (["network.g=-1"], "network.g", ">= 0"),
    (["network.g=nan"], "network.g", "a finite number"),
    (["network.eta=inf"], "network.eta", "a finite number"),
    (["run.timeout=-inf"], "run.timeout", "a finite number"),
    (["network.eta=0"], "network.eta", "> 0"),
    (["network.eta=-2"], "network.eta", "> 0"),
    (["network.epsilon=0"], "network.epsilon", "in (0, 1]"),
    (["network.epsilon=1.5"], "network.epsilon", "in (0, 1]"),
    (["network.multapses=false", "network.epsilon=1.0", "network.N_E=50", "network.N_I=50"],
     "network.N_E", "larger than its in-degree"),
    (["network.D=1.55"], "network.D", "whole number of steps"),
    (["network.D=0.1"], "network.D", "at least 2 steps of sim.dt=0.1 ms"),
    (["network.tau_rp=0.1"], "network.tau_rp", "at least 2 steps of sim.dt=0.1 ms"),
    (["sim.duration=200"], "sim.duration", "> sim.transient"),
    (["network.foo=1"], "network.foo", "network allows: N_E, N_I"),
    (["+sim.bar=1"], "sim.bar", "sim allows: dt"),
    (["network.N_E=many"], "network.N_E", "could not be converted to Integer"),
    (["sim.seed=0.5"], "sim.seed", "could not be converted to Integer"),
    (["network=huge"], "network=huge", "network allows: brunel_a, small"),
])
def test_bad_input_is_one_line_exit_2_before_moose(overrides, key, allowed):
    out = run_cli("-c", PROBE, *overrides)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"error: {key}")
    assert allowed in lines[0]
    assert out.stdout.strip() == "moose not imported"

@pytest.mark.fast
def test_standard_parameters_give_brunels_derived_values():
    cfg = load_config(["network=brunel_a"])
    d = derive(cfg)
    assert (d.N, d.C_E, d.C_I, d.gamma) == (12500, 1000, 250, 0.25)
    assert d.nu_thr == pytest.approx(10.0)
    assert d.ext_rate == pytest.approx(20000.0)  # eta = 2: 20 kHz per neuron
    assert (d.delay_steps, d.refractory_steps) == (15, 20)
    assert (d.n_steps, d.transient_steps) == (12000, 2000)
    p = to_moose(cfg, d)
    x = math.exp(-0.1 / 20)
    assert (p.dt, p.Rm, p.V_r) == pytest.approx((1e-4, 0.02, 0.01))
    assert p.thresh == pytest.approx(0.02 * x, rel=1e-10)  # MOOSE tests Vm after the leak
    # MOOSE sees a spike one step late: delivered 14 steps later, clamped for 19 steps
    # (the input of the detection step is dropped by the first); each encoded half a
    # step early against floating-point jitter.
    assert p.delay == pytest.approx(13.5e-4)
    assert p.refractory == pytest.approx(19.5e-4)
    # The current that makes Brunel's jump of J = 0.1 mV through the leak step.
    assert p.current(0.1) * p.Rm * (1 - x) == pytest.approx(1e-4 * x)
    assert p.jump_mv(p.current(-0.5)) == pytest.approx(-0.5)

@pytest.mark.fast
def test_small_preset_changes_only_the_size():
    small, full = load_config(["network=small"]), load_config([])
    assert full == load_config(["network=brunel_a"])  # the default is Brunel's network
    assert (small.network.N_E, small.network.N_I) == (2000, 500)
    assert {k: v for k, v in vars(small.network).items() if k not in ("N_E", "N_I")} == \
        {k: v for k, v in vars(full.network).items() if k not in ("N_E", "N_I")}


def test_help_opens_with_the_apps_own_help():
    out = run_cli("-m", "sweep", "--help")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("brunel-sweep (python -m sweep): parameter sweeps of Brunel's (2000)")
    presets = {ln.split(":")[0].strip(): ln.split(":", 1)[1].strip().split(", ")
               for ln in text.split("== Presets")[1].split("== Examples")[0].splitlines()
               if ":" in ln}
    assert sorted(presets["grid"]) == sorted(p.stem for p in (ROOT / "conf/grid").glob("*.yaml"))
    assert presets["launcher"] == ["joblib", "submitit_local", "submitit_slurm"]
    assert presets["network"] == ["brunel_a", "small", "two_pop"]
    examples = text.split("== Examples ==")[1].split("== Config")[0]
    assert [ln.split()[0] for ln in examples.splitlines()
            if ln.strip().startswith("brunel")] == ["brunel-sweep"] * 3
    assert "network:\n  N_E: 10000" in text  # the composed config follows


GROUPS = ("network", "sim", "analysis", "run", "slurm")


def _defaults(cfg: Config) -> dict:
    """Every default a user can see: the groups' settings and the grid's knobs."""
    out = {f"{g}.{k}": v for g in GROUPS for k, v in dataclasses.asdict(getattr(cfg, g)).items()}
    out["grid.replicates"] = cfg.grid.replicates
    for knob in ("refine", "confidence"):
        out.update({f"grid.{knob}.{k}": v
                    for k, v in dataclasses.asdict(getattr(cfg.grid, knob)).items()})
    return out

@pytest.mark.fast
def test_the_composed_default_config_is_the_schemas():
    """conf/*.yaml and the dataclasses of sweep/config.py spell the same defaults."""
    assert _defaults(load_config([])) == _defaults(Config())

@pytest.mark.fast
def test_the_defaults_the_docs_quote_are_the_configs():
    """docs/usage.md's configuration table: every setting, each with the default it has."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "usage.md").read_text()
    quoted = {m[1]: yaml.safe_load(m[2]) for m in
              re.finditer(r"^\| `([a-z_]+\.[\w.]+)` \| `([^`]*)` \|", text, re.M)}
    assert quoted == _defaults(load_config([]))
