"""Parquet storage: one part per point, written atomically with an explicit schema,
gathered into ``results.parquet`` with the run's provenance in its metadata. Where
each file lives: ``sweep.rundir``."""

from __future__ import annotations

import dataclasses
import json
import platform
import socket
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.states import MEASURES
from analysis.summary import STATISTICS
from sweep.claims import tidy
from sweep.config import (
    INHIBITORY,
    POINT_GROUPS,
    ConfidenceConfig,
    Config,
    config_from_dict,
    point_keys,
)
from sweep.model import NEURON_RULE_NOTE, derive
from sweep.rundir import RunDir, atomic_write

SCHEMA_VERSION = "5"  # 2: neuron_rule replaces deviation (engine v2); 3: env_cv, coherence;
# 4: standard errors and the decision margin; 5: two populations
META_KEY = b"brunel_sweep"
G, ETA = "network.g", "network.eta"  # the columns of the (g, eta) plane
_ARROW = {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string(),
          "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def _config_fields() -> list[pa.Field]:
    """Every network/sim/analysis setting as a column named by its dotted key; the
    point's seed is the ``seed`` column. An optional setting (the inhibitory keys,
    null: model A's value) is a nullable column."""
    optional = " | None"
    return [pa.field(key, _ARROW[kind.removesuffix(optional)], nullable=kind.endswith(optional))
            for key, kind in point_keys().items() if key != "sim.seed"]


SCHEMA = pa.schema([
    pa.field("point_id", pa.string(), nullable=False),
    pa.field("status", pa.string(), nullable=False),  # "ok" or "failed"
    pa.field("error", pa.string()),
    pa.field("replicate", pa.int64(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
    *_config_fields(),
    pa.field("N", pa.int64(), nullable=False),
    pa.field("C_E", pa.int64(), nullable=False),
    pa.field("C_I", pa.int64(), nullable=False),
    pa.field("nu_thr", pa.float64(), nullable=False),
    pa.field("nu_ext", pa.float64(), nullable=False),
    *[pa.field(name, _ARROW[kind]) for name, kind in STATISTICS.items()],
    pa.field("n_spikes", pa.int64()),
    pa.field("syn_events", pa.int64()),
    pa.field("build_s", pa.float64()),
    pa.field("drive_s", pa.float64()),
    pa.field("run_s", pa.float64()),
    pa.field("total_s", pa.float64()),  # from the point process's start to its part
    pa.field("peak_rss_mb", pa.float64()),
    pa.field("host", pa.string()),
    pa.field("started_at", pa.timestamp("us", tz="UTC")),
    pa.field("finished_at", pa.timestamp("us", tz="UTC")),
    pa.field("git_commit", pa.string()),
    pa.field("neuron_rule", pa.string()),  # sweep.model.NEURON_RULE
    pa.field("spikes_file", pa.string()),
], metadata={b"schema_version": SCHEMA_VERSION.encode()})

# Columns added since schema 3: a part or dataset written before them reads with
# nulls there (``upgrade``; for the inhibitory keys null is model A's value), so that
# older run directories keep resuming and gathering.
LATER = ("rate_se", "cv_isi_se", "env_cv_se", "margin", "rate_E_hz", "rate_I_hz", "cv_isi_E",
         "cv_isi_I", *(f"network.{key}" for key in INHIBITORY))

# What a point's process measures beside its statistics, each a column.
MEASURED = ("n_spikes", "syn_events", "build_s", "drive_s", "run_s", "neuron_rule")
# Columns that legitimately differ between two runs of the same points.
VOLATILE = ("build_s", "drive_s", "run_s", "total_s", "peak_rss_mb", "host", "started_at",
            "finished_at", "git_commit")


def base_row(point_id: str, replicate: int, cfg: Config) -> dict[str, Any]:
    """The columns known before a point runs: identity, settings, derived quantities."""
    d = derive(cfg)
    row: dict[str, Any] = {f.name: None for f in SCHEMA}
    row.update(point_id=point_id, replicate=replicate, seed=cfg.sim.seed, N=d.N, C_E=d.C_E,
               C_I=d.C_I, nu_thr=d.nu_thr, nu_ext=d.nu_ext, host=socket.gethostname())
    for key in point_keys():
        if key != "sim.seed":  # the point's seed is the ``seed`` column
            group, _, name = key.partition(".")
            row[key] = getattr(getattr(cfg, group), name)
    return row


def row_config(row: dict[str, Any]) -> Config:
    """The point's config back from its row (the inverse of ``base_row``)."""
    groups: dict[str, dict[str, Any]] = {g: {} for g in POINT_GROUPS}
    for key, kind in point_keys().items():
        group, _, name = key.partition(".")
        value = row["seed" if key == "sim.seed" else key]
        value = value.item() if hasattr(value, "item") else value
        if kind.endswith("| None") and value != value:  # pandas reads a null float as NaN
            value = None
        groups[group][name] = value
    return config_from_dict(groups)


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Write a Parquet file atomically (``sweep.rundir.atomic_write``)."""
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_part(run_dir: Path, row: dict[str, Any]) -> Path:
    """Write one point's row atomically (temporary file, then rename)."""
    return write_parquet(pa.Table.from_pylist([row], schema=SCHEMA),
                         RunDir(run_dir).part(row["point_id"]))


def upgrade(table: pa.Table) -> pa.Table | None:
    """``table`` in this version's ``SCHEMA``: columns of ``LATER`` that it lacks added
    as nulls; None if it differs in anything else."""
    for name in LATER:
        if name not in table.schema.names:
            table = table.append_column(SCHEMA.field(name), pa.nulls(table.num_rows,
                                                                    SCHEMA.field(name).type))
    if sorted(table.schema.names) != sorted(SCHEMA.names):
        return None
    table = table.select(SCHEMA.names)
    return table if table.schema.equals(SCHEMA, check_metadata=False) else None


def _part_values(run_dir: Path, point_id: str, columns: list[str]) -> list[Any] | None:
    """The values of ``columns`` in a point's part; None when it has no readable part."""
    path = RunDir(run_dir).part(point_id)
    if not path.exists():
        return None
    try:
        table = pq.read_table(path, columns=columns)
        return [table.column(c)[0].as_py() for c in columns]
    except (pa.ArrowException, OSError, KeyError, IndexError):
        return None


def part_status(run_dir: Path, point_id: str) -> str | None:
    """"ok", "failed", or None when the point has no readable part."""
    values = _part_values(run_dir, point_id, ["status"])
    return values[0] if values else None


def part_measures(run_dir: Path, point_id: str) -> dict[str, float] | None:
    """What a point's decision reads of its part (``analysis.states.MEASURES``, NaN
    where a part predates them); None if it failed or has no readable part."""
    path = RunDir(run_dir).part(point_id)
    try:  # only the columns the decision reads: the runner asks for every part each round
        present = set(pq.read_schema(path).names) if path.exists() else set()
    except (pa.ArrowException, OSError):
        return None
    columns = ["status", *(m for m in MEASURES if m in present)]
    values = _part_values(run_dir, point_id, columns)
    if not values or values[0] != "ok":
        return None
    found = dict(zip(columns[1:], values[1:], strict=True))
    return {m: float("nan") if found.get(m) is None else float(found[m]) for m in MEASURES}


def error_line(error: str | None, default: str = "no error recorded") -> str:
    """The last line of a failed point's error: its reason, or its traceback's end."""
    lines = [ln for ln in (error or "").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else default


def part_error(run_dir: Path, point_id: str) -> str:
    """``error_line`` of a point's part."""
    return error_line(pq.read_table(RunDir(run_dir).part(point_id), columns=["error"])
                      .column(0)[0].as_py())


def part_line(run_dir: Path, point_id: str) -> str:
    """One line on a point's part: its state and time, or why it failed."""
    values = _part_values(run_dir, point_id, ["status", "state", "total_s", "rate_hz", "error"])
    if values is None:
        return "no part"
    status, state, total_s, rate, error = values
    if status != "ok":
        return f"failed after {total_s:.1f} s: {error_line(error)}"
    return f"{state} ({rate:.1f} Hz), {total_s:.1f} s"


def now() -> datetime:
    return datetime.now(UTC)


def git_commit() -> str | None:
    """The project's commit, with "-dirty" if it has uncommitted changes; None outside a
    source checkout (a plain install's code is not the checkout it may sit in)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("pymoose", "numpy", "pyarrow", "pandas", "hydra-core", "brunel-sweep"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


@dataclass
class Gathered:
    path: Path
    rows: int
    ok: int
    failed: int
    incompatible: list[str]  # "<part>: <reason>"


def _run_config_text(run_dir: Path) -> str | None:
    for path in RunDir(run_dir).config_files:
        if path.exists():
            return path.read_text()
    return None


def gather(run_dir: Path) -> Gathered:
    """Compact all parts into ``results.parquet``; parts whose schema differs from this
    version's are reported and left out, never mixed in."""
    run_dir = Path(run_dir)
    tidy(run_dir)
    tables, incompatible = [], []
    for path in sorted(RunDir(run_dir).parts.glob("*.parquet")):
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as err:
            incompatible.append(f"{path.name}: unreadable ({err})")
            continue
        upgraded = upgrade(table)
        if upgraded is None:
            incompatible.append(f"{path.name}: {_schema_difference(table.schema)}")
            continue
        tables.append(upgraded.replace_schema_metadata(SCHEMA.metadata))
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    order = [(G, "ascending"), (ETA, "ascending")]
    order += [(f.name, "ascending") for f in SCHEMA if f.name.split(".")[0] in POINT_GROUPS]
    order += [("replicate", "ascending"), ("point_id", "ascending")]
    table = table.sort_by(order)
    status = table.column("status").to_pylist()
    meta = {
        "schema_version": SCHEMA_VERSION,
        "run_config": _run_config_text(run_dir),
        "versions": versions(),
        "git_commits": sorted({c for c in table.column("git_commit").to_pylist() if c}),
        "hosts": sorted({h for h in table.column("host").to_pylist() if h}),
        "started_at": _iso(min(table.column("started_at").drop_null().to_pylist(), default=None)),
        "finished_at": _iso(max(table.column("finished_at").drop_null().to_pylist(),
                                default=None)),
        "gathered_at": now().isoformat(),
        "incompatible_parts": incompatible,
        "neuron_rule": NEURON_RULE_NOTE,
    }
    table = table.replace_schema_metadata({**(SCHEMA.metadata or {}),
                                           META_KEY: json.dumps(meta).encode()})
    out = write_parquet(table, RunDir(run_dir).results)
    return Gathered(out, table.num_rows, status.count("ok"), status.count("failed"),
                        incompatible)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _schema_difference(schema: pa.Schema) -> str:
    have, want = dict(zip(schema.names, schema.types, strict=True)), dict(
        zip(SCHEMA.names, SCHEMA.types, strict=True))
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    typed = sorted(k for k in set(have) & set(want) if have[k] != want[k])
    parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
             f"other types for {typed}" if typed else ""]
    return "incompatible schema: " + "; ".join(p for p in parts if p) if any(parts) else \
        "incompatible schema: column order differs"


def load(dataset: Path) -> tuple[Any, dict]:
    """(DataFrame, metadata) of a run directory's ``results.parquet``, or of a results
    file given by its path."""
    import pandas as pd

    path = Path(dataset)
    path = path if path.is_file() else RunDir(path).results
    table = upgrade(pq.read_table(path))
    if table is None:
        raise ValueError(f"{path}: {_schema_difference(pq.read_schema(path))}")
    raw = pq.read_schema(path).metadata or {}
    meta = json.loads(raw.get(META_KEY, b"{}"))
    df = pd.DataFrame(table.to_pandas())
    df.attrs["confidence"] = _confidence(meta.get("run_config"))
    return df, meta


def _confidence(run_config: str | None) -> ConfidenceConfig:
    """``grid.confidence`` of a run's composed config text: what it sets, defaults for
    the rest (and for text from another version)."""
    if not run_config:
        return ConfidenceConfig()
    from omegaconf import OmegaConf

    known = {f.name for f in dataclasses.fields(ConfidenceConfig)}
    try:
        c = OmegaConf.select(OmegaConf.create(run_config), "grid.confidence") or {}
        return ConfidenceConfig(**{k: v for k, v in c.items() if k in known})
    except Exception:  # provenance text from another version: the defaults apply
        return ConfidenceConfig()
