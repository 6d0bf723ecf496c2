"""Three seeds at both ends of every SI-fast bracket of the refined run that lies farther
than 0.25 from the theory's line (docs/results-confidence.md#three-seeds-at-the-far-brackets),
from the datasets beside this file:

  python docs/data/refined_reps.py > docs/data/refined_reps.txt

Per bracket: each end's state with one seed (the refined run's), its three seeds' states,
and whether the bracket is still a transition when each end takes its pooled state
(``analysis.states.point_decision``: the seeds' measures averaged, then classified; the
project's rule) and, for comparison, when each end takes the state most of its seeds
show (a vote, a tie to the lowest replicate). The datasets are
schema 3, without standard errors, so a pooled state is never "decided" here; only its
state is used. Computes the theory's lines (about a minute).
"""
from collections import Counter
from pathlib import Path

import pandas as pd

from analysis.agreement import lines_for, located_boundaries
from analysis.states import MEASURES, point_decision
from sweep.storage import load, row_config

HERE = Path(__file__).resolve().parent
G, E = "network.g", "network.eta"


def vote(states) -> str:
    """The state seen most often, a tie to the one seen first (lowest replicate)."""
    states = list(states)
    counts = Counter(states)
    return next(s for s in states if counts[s] == max(counts.values()))


ref, _ = load(HERE / "phase_diagram_refined.parquet")
reps, _ = load(HERE / "refined_reps.parquet")
reps = reps[reps.status == "ok"].sort_values("replicate", kind="stable")
b = pd.read_parquet(HERE / "boundaries_refined.parquet")  # not a results dataset
th = row_config(reps.iloc[0].to_dict()).analysis
lines = lines_for(ref, jobs=1)
loc = located_boundaries(b, lines)
far = loc[(loc.line == "SI-fast") & (loc.distance > 0.25)]
by_point = reps.groupby([G, E])
voted = by_point.state.agg(vote)
pooled = by_point.apply(lambda s: point_decision(
    s.reindex(columns=list(MEASURES)).astype(float).to_dict("records"), th, 0.0)[0])
seeds = by_point.state.agg(lambda s: "/".join(s))
one = ref.set_index([G, E]).state
kept = {"pooled": 0, "vote": 0}
for _, r in far.iterrows():
    other = E if r.axis == G else G
    ends = [{r.axis: v, other: r[other]} for v in (r.low, r.high)]
    keys = [(p[G], p[E]) for p in ends]
    still = {"pooled": pooled.get(keys[0]) != pooled.get(keys[1]),
             "vote": voted.get(keys[0]) != voted.get(keys[1])}
    for rule in kept:
        kept[rule] += still[rule]
    print(f"{r.axis.split('.')[1]} {r.low}-{r.high} at {other.split('.')[1]}={r[other]}: "
          f"one seed {one.get(keys[0])}|{one.get(keys[1])}, 3 seeds {seeds.get(keys[0])} | "
          f"{seeds.get(keys[1])}, pooled {pooled.get(keys[0])}|{pooled.get(keys[1])} -> "
          f"{'still a transition' if still['pooled'] else 'no transition'} "
          f"(by a vote: {'still' if still['vote'] else 'no'}) (distance {r.distance:.2f})")
for rule, name in (("pooled", "by the pooled state of 3 seeds"),
                   ("vote", "by a vote of 3 seeds")):
    print(f"{len(far)} far SI-fast brackets: {kept[rule]} remain transitions {name}, "
          f"{len(far) - kept[rule]} vanish")
flips = (by_point.state.nunique() > 1).sum()
print(f"{by_point.ngroups} bracket ends with 3 seeds: {flips} change state between seeds")
