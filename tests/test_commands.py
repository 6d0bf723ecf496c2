"""Every command answers --help with its usage and exit code 0, in one argument style;
internal modules say that they are internal, without a traceback."""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
INTERNAL = ("sweep.worker", "sweep.nest_peer", "sweep.brian2_peer")


def _module(target: str) -> str:
    return target.split(":")[0].removesuffix(".__main__")


def test_every_user_facing_module_has_a_console_script():
    commands = {"sweep", "sweep.point", "sweep.gather", "analysis", "analysis.fig2",
                "analysis.windows", "sweep.slurm", "sweep.reference", "sweep.bench"}
    assert {_module(t) for t in SCRIPTS.values()} == commands
    assert all(name.startswith("brunel-") for name in SCRIPTS)


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(set(SCRIPTS) - {"brunel-sweep"}))
def test_command_answers_help_in_one_style(name, capsys):
    """argparse, one style: usage naming the console script, the module's docstring."""
    module, func = SCRIPTS[name].split(":")
    with pytest.raises(SystemExit) as done:
        getattr(importlib.import_module(module), func)(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: {name} ")
    assert f"Also: python -m {_module(SCRIPTS[name])}." in " ".join(text.split())


@pytest.mark.parametrize("name", ["brunel-sweep", "brunel-point"])
def test_console_scripts_are_installed_and_answer_help(name):
    """The installed scripts themselves (brunel-sweep's help is Hydra's, its own text)."""
    script = Path(sys.executable).parent / name
    assert script.exists(), f"{script}: install the project (pip install -e .)"
    out = run_cli(str(script), "--help", python=False)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stdout.startswith("brunel-sweep (python -m sweep)" if name == "brunel-sweep"
                                 else "usage: brunel-point ")


@pytest.mark.parametrize("module", INTERNAL)
def test_internal_modules_say_so_on_help(module):
    out = run_cli("-m", module, "--help")
    assert out.returncode == 0, out.stderr
    assert "Internal:" in out.stdout and "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize(("argv", "expected"), [
    (["sweep.point", "--spikes"], "argument --spikes: expected one argument"),
    (["sweep.gather"], "the following arguments are required: RUN_DIR"),
    (["sweep.reference", "walk"], "invalid choice: 'walk'"),
    (["sweep.bench", "refined"], "the following arguments are required: RUN_DIR"),
])
def test_a_bad_command_line_is_a_usage_error_exit_2(argv, expected):
    out = run_cli("-m", *argv)
    assert out.returncode == 2
    assert expected in out.stderr and "Traceback" not in out.stderr

