"""Majority of 3 seeds at the ends of the SI-fast brackets farther than 0.25 from the line
(docs/results.md, the refined diagram), from the datasets beside this file:
``python docs/data/refined_reps.py > docs/data/refined_reps.txt``."""
from collections import Counter
from pathlib import Path

import pandas as pd

from analysis.agreement import lines_for, located_boundaries

HERE = Path(__file__).resolve().parent


def majority_state(states) -> str:
    """The state seen most often, a tie to the one seen first (lowest replicate): the
    rule of this report's day (the project now pools the seeds' measures instead,
    analysis.states.point_decision)."""
    states = list(states)
    counts = Counter(states)
    return next(s for s in states if counts[s] == max(counts.values()))
G, E = "network.g", "network.eta"
ref = pd.read_parquet(HERE / "phase_diagram_refined.parquet")
reps = pd.read_parquet(HERE / "refined_reps.parquet").sort_values("replicate", kind="stable")
b = pd.read_parquet(HERE / "boundaries_refined.parquet")
lines = lines_for(ref)
loc = located_boundaries(b, lines)
far = loc[(loc.line == "SI-fast") & (loc.distance > 0.25)]
maj = reps[reps.status == "ok"].groupby([G, E]).state.agg(majority_state)
seeds = reps[reps.status == "ok"].groupby([G, E]).state.agg(lambda s: "/".join(s))
one = ref.set_index([G, E]).state
kept = changed = 0
for _, r in far.iterrows():
    other = E if r.axis == G else G
    ends = [{r.axis: v, other: r[other]} for v in (r.low, r.high)]
    keys = [(p[G], p[E]) for p in ends]
    m = [maj.get(k) for k in keys]
    still = m[0] != m[1]
    kept += still
    print(f"{r.axis.split('.')[1]} {r.low}-{r.high} at {other.split('.')[1]}={r[other]}: "
          f"one seed {one.get(keys[0])}|{one.get(keys[1])}, 3 seeds {seeds.get(keys[0])} | "
          f"{seeds.get(keys[1])} -> {'still a transition' if still else 'no transition'} "
          f"(distance {r.distance:.2f})")
print(f"{len(far)} far SI-fast brackets: {kept} remain transitions by majority of 3 seeds, "
      f"{len(far) - kept} vanish")
flips = (reps.groupby([G, E]).state.nunique() > 1).sum()
print(f"{reps.groupby([G, E]).ngroups} bracket ends with 3 seeds: {flips} change state "
      "between seeds")
