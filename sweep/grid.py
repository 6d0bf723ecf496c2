"""Expand a configuration's grid into points, each with a resolved, validated config,
a content-derived id and a content-derived seed.

A point's identity is its resolved network, simulation and analysis settings plus
the base seed and replicate index, never its position: the same point gets the
same id and seed in any grid, in a Hydra multirun, and on a cluster.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from omegaconf import OmegaConf

from sweep.config import (
    CONF_DIR,
    Config,
    ConfigError,
    GridConfig,
    RunConfig,
    point_keys,
    typed_config,
)

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Point:
    point_id: str
    params: dict[str, Any]  # swept key -> value, including "replicate"
    config: Config  # resolved, with the point's own seed in sim.seed


def _is_range(spec: Any) -> bool:
    return isinstance(spec, dict) and set(spec) == {"start", "stop", "step"}


def axis_values(key: str, spec: Any) -> list[Any]:
    """A list as given, or a range "start:stop:step" (or {start, stop, step}): start,
    start + step, ... up to and including stop, computed in decimal so that 0.1
    steps give 0.7, not 0.7000000000000001."""
    where = f"grid.axes.{key}={spec!r}"
    if isinstance(spec, str) and spec.count(":") == 2:
        spec = dict(zip(("start", "stop", "step"), spec.split(":"), strict=True))
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"{where}: empty list; give at least one value")
        if any(isinstance(v, (dict, list)) for v in spec):
            raise ConfigError(f"{where}: values must be scalars")
        return list(spec)
    if not _is_range(spec):
        raise ConfigError(f"{where}: must be a list or 'start:stop:step'")
    try:
        start, stop, step = (Decimal(str(spec[k])) for k in ("start", "stop", "step"))
    except InvalidOperation:
        raise ConfigError(f"{where}: start, stop and step must be numbers") from None
    if not all(d.is_finite() for d in (start, stop, step)):
        raise ConfigError(f"{where}: start, stop and step must be finite numbers")
    if step <= 0 or stop < start:
        raise ConfigError(f"{where}: needs step > 0 and stop >= start")
    n = int((stop - start) / step) + 1
    if n > MAX_POINTS:
        raise ConfigError(f"{where}: {n} values, more than {MAX_POINTS}")
    integral = all(d == d.to_integral_value() for d in (start, step))
    return [int(start + i * step) if integral else float(start + i * step) for i in range(n)]


def flatten_axes(axes: dict[str, Any], prefix: str = "") -> dict[str, list[Any]]:
    """{"network": {"g": [..]}} -> {"network.g": [..]}; each leaf checked against the schema."""
    known = point_keys()
    out: dict[str, list[Any]] = {}
    for name, spec in axes.items():
        key = f"{prefix}{name}"
        if isinstance(spec, dict) and not _is_range(spec):
            out.update(flatten_axes(spec, f"{key}."))
            continue
        if key not in known:
            group = key.rpartition(".")[0]
            allowed = sorted(k for k in known if k.rpartition(".")[0] == group) or sorted(
                {k.partition(".")[0] for k in known})
            raise ConfigError(f"grid.axes.{key}: unknown key; allowed: {', '.join(allowed)}")
        if key == "sim.seed":
            raise ConfigError("grid.axes.sim.seed: not an axis; use grid.replicates")
        out[key] = axis_values(key, spec)
    return out


def _flatten_point(point: Any, prefix: str = "") -> dict[str, Any]:
    out = {}
    for name, value in point.items():
        if isinstance(value, dict):
            out.update(_flatten_point(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def identity(cfg: Config, replicate: int) -> tuple[str, int]:
    """(point_id, seed) from the point's content. The seed depends on what is
    simulated (network, sim, base seed, replicate); the id also on the analysis."""
    sim = dataclasses.asdict(cfg.sim)
    base_seed = sim.pop("seed")
    content = {"network": cfg.network.identity(), "sim": sim,
               "base_seed": base_seed, "replicate": replicate}
    seed_hash = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    content["analysis"] = dataclasses.asdict(cfg.analysis)
    point_id = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    return point_id, int(seed_hash[:8], 16) & 0x7FFFFFFF


def make_point(cfg: Config, params: dict[str, Any], replicate: int = 0) -> Point:
    """The point of an already resolved config (its sim.seed is the base seed)."""
    point_id, seed = identity(cfg, replicate)
    resolved = dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, seed=seed),
                                   grid=GridConfig(), run=RunConfig())
    return Point(point_id, {**params, "replicate": replicate}, resolved)


def expand(cfg: Config) -> list[Point]:
    """All points of ``cfg.grid``, in grid order; every point validated."""
    grid = cfg.grid
    if grid.replicates < 1:
        raise ConfigError(f"grid.replicates={grid.replicates}: must be >= 1")
    axes = flatten_axes(grid.axes)
    partials = [_flatten_point(p) for p in grid.points] or [{}]
    for i, partial in enumerate(partials):
        flatten_axes({k: [v] for k, v in partial.items()})  # same key checks
        if set(partial) & set(axes):
            raise ConfigError(f"grid.points[{i}]: sets {sorted(set(partial) & set(axes))}, "
                              "which are also axes")
    combos = list(itertools.product(*axes.values()))
    if len(partials) * len(combos) * grid.replicates > MAX_POINTS:
        raise ConfigError(f"grid: more than {MAX_POINTS} points")
    _check_refine(grid, axes)
    c = grid.confidence
    if not (math.isfinite(c.z) and c.z > 0):
        raise ConfigError(f"grid.confidence.z={c.z}: must be a finite number > 0")
    if c.on and c.max_replicates < grid.replicates:  # a cap only confidence uses
        raise ConfigError(f"grid.confidence.max_replicates={c.max_replicates}: must be at "
                          f"least grid.replicates={grid.replicates}")
    return points_at(cfg, [{**partial, **dict(zip(axes, combo, strict=True))}
                           for partial in partials for combo in combos])


def _check_refine(grid: GridConfig, axes: dict[str, list[Any]]) -> None:
    r = grid.refine
    if r.levels is not None and r.levels < 0:
        raise ConfigError(f"grid.refine.levels={r.levels}: must be >= 0 (0: off) or null")
    if r.min_step is None:
        if r.levels:
            raise ConfigError(f"grid.refine.levels={r.levels}: needs grid.refine.min_step, "
                              "the finest spacing to refine to")
        return
    if not r.min_step > 0:
        raise ConfigError(f"grid.refine.min_step={r.min_step}: must be > 0")
    real = {k for k, kind in point_keys().items() if kind in ("float", float, "float | None")}
    for key in r.axes:
        values = axes.get(key)
        if values is None or key not in real:
            floats = [k for k in axes if k in real]
            raise ConfigError(f"grid.refine.axes: {key} must be a grid axis of real values "
                              f"(midpoints); such axes here: {', '.join(floats) or 'none'}")


def refine_steps(cfg: Config) -> dict[str, float]:
    """Each refined axis's grid step: the widest spacing of its grid values. Two points
    farther apart than this are not neighbours."""
    axes = flatten_axes(cfg.grid.axes)
    steps = {}
    for key in cfg.grid.refine.axes:
        values = sorted(axes[key])
        steps[key] = max((b - a for a, b in itertools.pairwise(values)), default=0.0)
    return steps


def points_at(cfg: Config, settings: list[dict[str, Any]]) -> list[Point]:
    """The points of ``settings`` (each a dict of swept keys and values) with
    ``cfg.grid.replicates`` seeds each, or the one its ``replicate`` key names, in
    order; every point validated."""
    base = OmegaConf.structured(dataclasses.replace(cfg, grid=GridConfig(), run=RunConfig()))
    points, seen = [], set()
    for params in settings:
        params = dict(params)
        replicates = ([params.pop("replicate")] if "replicate" in params
                      else range(cfg.grid.replicates))
        try:  # base is on the schema already: no key check, no merge per point
            resolved = typed_config(base.copy(), params)
        except ConfigError as err:
            where = ", ".join(f"{k}={v}" for k, v in params.items())
            raise ConfigError(f"{err} (grid point {where})") from None
        for r in replicates:
            point = make_point(resolved, params, r)
            if point.point_id not in seen:  # e.g. the same value listed twice
                seen.add(point.point_id)
                points.append(point)
    return points


def _preset_grid(name: str) -> dict[str, Any]:
    """``grid`` of the preset ``conf/grid/<name>.yaml``, as written."""
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / "grid" / f"{name}.yaml"))["grid"]


def fig2_plane() -> tuple[tuple[float, float], tuple[float, float]]:
    """Brunel's Fig. 2 plane, ((g_min, g_max), (eta_min, eta_max)), from the preset that
    sweeps it (``grid=phase_diagram``)."""
    axes = _preset_grid("phase_diagram")["axes"]["network"]
    return tuple((float(v[0]), float(v[-1])) for v in (axis_values(f"network.{k}", axes[k])
                                                        for k in ("g", "eta")))


def fig8_panels() -> dict[tuple[float, float], str]:
    """Fig. 8's panels, A to D in the order of the preset that runs them (``grid=fig8``),
    at their (g, eta)."""
    points = _preset_grid("fig8")["points"]
    return {(float(p["network"]["g"]), float(p["network"]["eta"])): chr(ord("A") + i)
            for i, p in enumerate(points)}
