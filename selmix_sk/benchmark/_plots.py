"""The report's plots, drawn without pyplot."""

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ._quality import METHODS
from ._speed import _STEP_BATCH
from ._stats import _JUDGED, _LABELS, _summarize


def _plot_quality(runs, output):
    """One PNG per objective: the guarded metric against mean recall, per data set."""
    summary = _summarize(runs).reset_index()
    paths = []
    methods = [m for m in METHODS if m in set(summary["method"])]
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    for objective, frame in summary.groupby("objective", sort=False):
        metric = "min_coverage" if _JUDGED[objective] == "coverage_capped" else _JUDGED[objective]
        datasets = list(dict.fromkeys(frame["dataset"]))
        ncols = min(4, len(datasets))
        nrows = math.ceil(len(datasets) / ncols)
        # Drawn without pyplot, so no display or GUI backend is needed.
        figure = Figure(figsize=(4 * ncols + 2.5, 3.4 * nrows), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, dataset in zip(axes, datasets, strict=False):
            for _, row in frame[frame["dataset"] == dataset].iterrows():
                ax.errorbar(row["mean_recall_mean"], row[f"{metric}_mean"],
                            xerr=np.nan_to_num(row["mean_recall_std"]),
                            yerr=np.nan_to_num(row[f"{metric}_std"]),
                            fmt="o", color=colours[row["method"]], label=row["method"],
                            capsize=3)
            ax.set_title(dataset)
            ax.set_xlabel("test mean recall")
            ax.set_ylabel(f"test {_LABELS[metric]}")
            ax.grid(alpha=0.3)
        for ax in axes[len(datasets):]:
            ax.set_visible(False)
        legend = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(label, handle)
        figure.legend(legend.values(), legend.keys(), loc="outside right upper",
                      fontsize="small")
        figure.suptitle(f"Objective {objective}: mean ± std over seeds")
        path = Path(output) / f"quality_{objective}.png"
        figure.savefig(path, dpi=90)
        paths.append(path)
    return paths



def _plot_speed(speed, output):
    gain, step = speed["gain"], speed["step"]
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for name, frame in gain.dropna(subset=["seconds"]).groupby("implementation", sort=False):
        left.loglog(frame["K"], frame["seconds"], "o-", label=name)
    left.set_xlabel("number of classes K")
    left.set_ylabel("median seconds per gain")
    left.set_title("Gain of all K^2 pairs")
    left.grid(alpha=0.3, which="both")
    left.legend()
    positions = np.arange(len(step))
    width = 0.25
    for offset, (column, label) in zip(
        (-width, 0.0, width),
        [("plain_step_ms", "plain step"), ("selmix_step_ms", "SelMix step"),
         ("pair_draw_ms", "pair draw")],
        strict=True,
    ):
        right.bar(positions + offset, step[column], width, label=label)
    right.set_xticks(positions, step["module"], fontsize="small")
    right.set_ylabel("median ms")
    right.set_title(f"Training step, {_STEP_BATCH} pairs / {2 * _STEP_BATCH} samples")
    right.legend()
    path = Path(output) / "speed.png"
    figure.savefig(path, dpi=90)
    return path
