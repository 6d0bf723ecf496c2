"""Memory and disk per point (docs/install.md#memory-and-disk).

  python docs/data/footprint.py RUN_DIR > docs/data/footprint.txt

Memory: the peak resident memory of each point's process (``peak_rss_mb``) over every
realization of the committed datasets beside this file, at N = 12,500 (Brunel's size),
2,500, 25,000 and 50,000. Disk: the spikes files of RUN_DIR, a tiny run with
``run.save_spikes=true``, made with

  brunel-sweep network.N_E=400 network.N_I=100 sim.duration=300 sim.transient=100 \\
      analysis.welch_segment=100 run.theory=false run.jobs=1 run.save_spikes=true \\
      'grid.axes.network.g=[3.0,5.0]' 'grid.axes.network.eta=[2.0]' hydra.run.dir=RUN_DIR

Each spikes file (``spikes/<point_id>.npz``, compressed) holds the spike times and
neuron ids (float64 and int64: 16 bytes per spike before compression) and the Vm of
``sim.vm_sample`` neurons at every step (float32: 4 bytes per sample). The report
splits each file into bytes per spike and bytes per Vm sample, and scales them to a
full-size point of 1.2 s with the median spike count of each state in
``phase_diagram_full.parquet``. The scaling assumes that compression does as well at
full size as in the tiny run; the uncompressed sizes are an upper bound.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pandas as pd

from sweep.config import SimConfig

HERE = Path(__file__).resolve().parent
MB = 1e6


def memory() -> list[str]:
    out = ["peak resident memory of a point's process (peak_rss_mb), every realization:"]
    for name in ("phase_diagram_confident", "phase_diagram_full", "phase_diagram_N2500",
                 "two_pop_sizes"):
        df = pd.read_parquet(HERE / f"{name}.parquet")
        ok = df[df.status == "ok"]
        for n, at_n in ok.groupby("N"):
            rss = at_n.peak_rss_mb
            out.append(f"  {name}.parquet, N = {n}: {len(at_n)} realizations, min "
                       f"{rss.min():.0f} MB, median {rss.median():.0f} MB, max "
                       f"{rss.max():.0f} MB")
        if name == "phase_diagram_confident":
            for state, rss in ok.groupby("state").peak_rss_mb:
                out.append(f"    {state}: {len(rss)} realizations, median {rss.median():.0f} "
                           f"MB, max {rss.max():.0f} MB")
    return out


def disk(run_dir: Path) -> list[str]:
    df = pd.read_parquet(run_dir / "results.parquet")
    out = [f"spikes files of a tiny run (N = {df.N.iloc[0]}, {df['sim.duration'].iloc[0]:g} ms, "
           f"Vm of {df['sim.vm_sample'].iloc[0]} neurons):"]
    per_spike, per_sample = [], []
    for _, row in df[df.status == "ok"].iterrows():
        path = run_dir / row.spikes_file
        with zipfile.ZipFile(path) as z:
            size = {i.filename.removesuffix(".npy"): i.compress_size for i in z.infolist()}
        spikes = size["times"] + size["ids"]
        samples = row["sim.vm_sample"] * round(row["sim.duration"] / row["sim.dt"])
        per_spike.append(spikes / row.n_spikes)
        per_sample.append(size["vm"] / samples)
        out.append(f"  g={row['network.g']:g} eta={row['network.eta']:g}: file "
                   f"{path.stat().st_size} bytes; {row.n_spikes} spikes in {spikes} bytes "
                   f"({per_spike[-1]:.2f} bytes per spike); {samples} Vm samples in "
                   f"{size['vm']} bytes ({per_sample[-1]:.2f} bytes per sample)")
    b_spike, b_sample = max(per_spike), max(per_sample)
    full = pd.read_parquet(HERE / "phase_diagram_full.parquet")
    sim = SimConfig()
    samples = sim.vm_sample * round(sim.duration / sim.dt)
    out.append(f"a full-size point ({sim.duration / 1000:g} s, Vm of {sim.vm_sample} neurons: "
               f"{samples} samples), at "
               f"{b_spike:.2f} bytes per spike and {b_sample:.2f} per sample (uncompressed: "
               "16 and 4):")
    for state, n in full[full.status == "ok"].groupby("state").n_spikes.median().items():
        size = (n * b_spike + samples * b_sample) / MB
        bound = (n * 16 + samples * 4) / MB
        out.append(f"  {state}: median {n:.0f} spikes in phase_diagram_full.parquet: about "
                   f"{size:.0f} MB (at most {bound:.0f} MB)")
    parts = sorted((run_dir / "parts").glob("*.parquet"))
    out.append(f"a point's part (parts/<point_id>.parquet): {parts[0].stat().st_size} bytes")
    return out


if __name__ == "__main__":
    print("\n".join([*memory(), *disk(Path(sys.argv[1]))]))
