"""Paired statistics over seeds and the verdicts of the quality report."""

from fractions import Fraction

import numpy as np

from ._quality import _WITHOUT_DECISION_LAYER, METHODS, PEERS

_METRICS = ["mean_recall", "min_recall", "hmean", "min_coverage", "fit_seconds"]
_COVERAGE_ALPHA = 0.95
# What each objective is judged on, against every other method. The
# constrained objective is judged on its constraint, met at 0.95.
_JUDGED = {"min_recall": "min_recall", "hmean": "hmean",
           "mean_recall_min_coverage": "coverage_capped"}
# SelMix may trade mean recall for the objective, but not fall more than
# this below the plug-in's on the same data.
_MEAN_RECALL_TOLERANCE = 0.01
# Without a validation set, fit(X, y) should gain this much on the target, on
# average over the data sets, over the network it starts from: most on min
# recall, the objective the decision layer and the search were built for.
_NO_VALIDATION_GAIN = {"min_recall": 0.05, "hmean": 0.02, "mean_recall_min_coverage": 0.02}
# fit(X, y) at least the plug-in on the target on this share of the data sets.
_PLUGIN_SHARE = Fraction(7, 9)
# With a validation set, on the long-tailed digits (the paper's claim): SelMix
# with its decision layer this much min recall above the plug-in.
_DIGITS_GAIN = 0.03
_DIGITS = "digits"
# The constrained objective's test coverage may fall this far below its target.
_COVERAGE_SLACK = 0.05
# The search should move the weights: at most this share of the fits that
# fine-tune may keep the start.
_KEPT_START_SHARE = Fraction(1, 3)
_LABELS = {"mean_recall": "mean recall", "min_recall": "min recall", "hmean": "H-mean",
           "min_coverage": "min coverage", "coverage_capped": "min coverage (capped at 0.95)",
           "fit_seconds": "fit s"}


def _with_capped_coverage(runs):
    capped = {"coverage_capped": runs["min_coverage"].clip(upper=_COVERAGE_ALPHA)}
    if "val_min_coverage" in runs:
        capped["val_coverage_capped"] = runs["val_min_coverage"].clip(upper=_COVERAGE_ALPHA)
    return runs.assign(**capped)


def _summarize(runs):
    """Mean and standard deviation over seeds per (data set, objective, method)."""
    runs = _with_capped_coverage(runs)
    grouped = runs.groupby(["dataset", "objective", "method"], sort=False)
    metrics = [*_METRICS, "coverage_capped"]
    summary = grouped[metrics].agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary["n_seeds"] = grouped["seed"].nunique()
    return summary


def _compare(a, b):
    """+1, 0 or -1 as ``a`` beats, ties or loses to ``b`` at the report's 3 decimals.

    Numbers that print alike tie, so that no verdict reads "0.713 < 0.713".
    """
    return int(np.sign(round(a, 3) - round(b, 3)))


class _Paired:
    """Two methods' scores on the seeds both ran: means and the paired difference.

    ``outcome`` is ``"ok"`` where ``a`` is at least ``b`` (at 3 decimals),
    ``"noise"`` where it falls short by at most two standard errors of the
    per-seed difference, and ``"loss"`` where it falls short by more.
    """

    def __init__(self, scores, a, b):
        paired = scores[[a, b]].dropna()
        difference = paired[a] - paired[b]
        self.a, self.b = paired[a].mean(), paired[b].mean()
        self.n = len(difference)
        self.error = difference.std(ddof=1) / np.sqrt(self.n) if self.n > 1 else np.nan
        self.difference = difference.mean()
        if _compare(self.a, self.b) >= 0:
            self.outcome = "ok"
        elif self.b - self.a <= 2 * self.error:
            self.outcome = "noise"
        else:
            self.outcome = "loss"

    def difference_text(self):
        """The mean paired difference, ± its standard error where there are two seeds or more."""
        if self.n < 2:
            return f"{self.difference:+.3f}"
        return f"{self.difference:+.3f} ± {self.error:.3f}"

    def spread(self):
        if self.n < 2:
            return "1 seed"
        return (f"{self.n} seeds, paired difference {self.difference:+.3f} ± {self.error:.3f} "
                "s.e.")


def _pair_line(dataset, objective, target, pair, selmix, rival):
    """One verdict line: ``selmix`` against ``rival`` on ``target``, paired over seeds."""
    shortfall = pair.b - pair.a
    return (f"- {dataset}, {objective}: {selmix} {pair.a:.3f} vs {rival} {pair.b:.3f} "
            f"{_LABELS[target]} ({pair.spread()})" + {
                "ok": f": {selmix} >= {rival}",
                "noise": f": below by {shortfall:.3f}, within two standard errors",
                "loss": f": **LOSES** by {shortfall:.3f}",
            }[pair.outcome])


def _cases(runs, *methods):
    """``(data set, objective, group)`` of every case on which all ``methods`` ran.

    ``group`` holds the case's runs, the coverage capped at the constraint.
    """
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        if set(methods) <= set(group["method"]):
            yield dataset, objective, group


def _per_seed(group, metric):
    """A case's ``metric`` as a table of seeds by methods."""
    return group.pivot_table(index="seed", columns="method", values=metric)


def _target_verdicts(runs, other, selmix="SelMix"):
    """The method ``selmix`` against the method ``other`` on each objective's target.

    Both fit on the same seeds, so the comparison is on the paired difference
    per seed: a shortfall within two of its standard errors is told apart
    from a loss. Returns ``(lines, losses, within_noise, total)``.
    """
    lines, outcomes = [], []
    for dataset, objective, group in _cases(runs, selmix, other):
        target = _JUDGED[objective]
        pair = _Paired(_per_seed(group, target), selmix, other)
        outcomes.append(pair.outcome)
        lines.append(_pair_line(dataset, objective, target, pair, selmix, other))
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


def _peer_verdicts(runs, selmix):
    """``selmix`` against the best classic peer of each data set, on the target.

    The best peer is the one with the highest mean target on that data set
    and objective, chosen after the fact: the comparison favours the peers.
    Returns ``(lines, losses, within_noise, total)``.
    """
    lines, outcomes = [], []
    for dataset, objective, group in _cases(runs, selmix):
        target = _JUDGED[objective]
        scores = _per_seed(group, target)
        peers = [peer for peer in PEERS if peer in scores]
        if not peers:
            continue
        best = max(peers, key=lambda peer: scores[peer].mean())
        pair = _Paired(scores, selmix, best)
        outcomes.append(pair.outcome)
        lines.append(_pair_line(dataset, objective, target, pair, selmix, f"best peer ({best})"))
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


def _harm_verdicts(runs, selmix, start):
    """Whether fine-tuning (``selmix``) harms the objective of the network it starts from.

    Harm is the target below ``start``'s beyond two standard errors of the
    paired difference; a target below within them is noise. Mean recall is
    reported beside it, not judged: fine-tuning may trade it for the
    objective. Returns ``(lines, losses, within_noise, total)``.
    """
    lines, outcomes = [], []
    for dataset, objective, group in _cases(runs, selmix, start):
        target = _JUDGED[objective]
        judged, mean = (_Paired(_per_seed(group, metric), selmix, start)
                        for metric in (target, "mean_recall"))
        outcomes.append(judged.outcome)
        verdict = {"ok": "no harm", "noise": "no harm beyond noise",
                   "loss": "**HARMS**"}[judged.outcome]
        lines.append(f"- {dataset}, {objective}: {selmix} vs {start}: {_LABELS[target]} "
                     f"{judged.a:.3f} vs {judged.b:.3f} ({judged.spread()}): {verdict}; mean "
                     f"recall {mean.a:.3f} vs {mean.b:.3f} ({mean.spread()})")
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


def _average_gains(runs, selmix, start):
    """Per objective: the mean over data sets of ``selmix``'s gain on the target over ``start``.

    Returns ``{objective: (gain, number of data sets)}``.
    """
    gains = {}
    for _, objective, group in _cases(runs, selmix, start):
        pair = _Paired(_per_seed(group, _JUDGED[objective]), selmix, start)
        gains.setdefault(objective, []).append(pair.difference)
    return {objective: (float(np.mean(values)), len(values))
            for objective, values in gains.items()}


def _best_method_gains(runs, start):
    """Per objective: the mean over data sets of the best method's gain over ``start``.

    The best method of a data set is the one with the highest mean target
    there among those fitted, as ``start`` is, without a validation set,
    chosen after the fact (a tie going to the method listed first but for a
    fit predicting without its offsets): a scale for :func:`_average_gains`,
    which no single method need reach. Returns ``{objective: (gain, number
    of data sets, {method: number of data sets it is best on})}``.
    """
    found = {}
    for _, objective, group in _cases(runs[runs["validation"] == "none"], start):
        means = _per_seed(group, _JUDGED[objective]).mean()
        # A fit predicting without its offsets ties the fit where they were not applied:
        # the tie goes to the fit as it is.
        means = means.sort_index(key=lambda methods: methods.isin(
            list(_WITHOUT_DECISION_LAYER.values())), kind="stable")
        gains, best = found.setdefault(objective, ([], {}))
        winner = means.idxmax()
        gains.append(means[winner] - means[start])
        best[winner] = best.get(winner, 0) + 1
    return {objective: (float(np.mean(gains)), len(gains), best)
            for objective, (gains, best) in found.items()}


def _mean_recall_verdicts(runs, selmix, reference):
    """Whether ``selmix``'s mean recall stays within ``_MEAN_RECALL_TOLERANCE`` of ``reference``'s.

    Returns ``(lines, short, total)``: a line per case, and the cases where
    it falls further below (at the report's 3 decimals).
    """
    lines, short = [], 0
    for dataset, objective, group in _cases(runs, selmix, reference):
        pair = _Paired(_per_seed(group, "mean_recall"), selmix, reference)
        drop = round(pair.b - pair.a, 3)
        short += drop > _MEAN_RECALL_TOLERANCE
        verdict = (f"**{drop:.3f} below**" if drop > _MEAN_RECALL_TOLERANCE
                   else f"within {_MEAN_RECALL_TOLERANCE:.2f}")
        lines.append(f"- {dataset}, {objective}: {selmix} {pair.a:.3f} vs {reference} "
                     f"{pair.b:.3f} mean recall ({pair.spread()}): {verdict}")
    return lines, short, len(lines)


def _digits_gains(runs, selmix, reference):
    """On the digits data sets under min_recall: ``selmix`` minus ``reference``, paired.

    Returns ``[(data set, min recall pair, mean recall pair, met)]``: met is
    a mean gain of at least ``_DIGITS_GAIN`` min recall at no lower mean
    recall (both at 3 decimals).
    """
    digits = runs["dataset"].str.startswith(_DIGITS) & (runs["objective"] == "min_recall")
    gains = []
    for dataset, _, group in _cases(runs[digits], selmix, reference):
        low, mean = (_Paired(_per_seed(group, metric), selmix, reference)
                     for metric in ("min_recall", "mean_recall"))
        gains.append((dataset, low, mean,
                      round(low.difference, 3) >= _DIGITS_GAIN and mean.outcome == "ok"))
    return gains


def _digits_coverage(runs, selmix):
    """On the digits data sets: ``selmix``'s test coverage under the constrained objective.

    Returns ``[(data set, coverage, validation coverage, decision layer
    applied, met)]``, means over seeds (the validation coverage is NaN
    without a validation set); met is a coverage within ``_COVERAGE_SLACK``
    of ``_COVERAGE_ALPHA`` (at 3 decimals).
    """
    rows = runs[runs["dataset"].str.startswith(_DIGITS) & (runs["method"] == selmix)
                & (runs["objective"] == "mean_recall_min_coverage")]
    coverage = []
    for dataset, group in rows.groupby("dataset", sort=False):
        test = group["min_coverage"].mean()
        coverage.append((dataset, test, group["val_min_coverage"].mean(),
                         group["decision_applied"].astype(float).mean(),
                         round(test, 3) >= _COVERAGE_ALPHA - _COVERAGE_SLACK))
    return coverage


def _kept_start_counts(runs):
    """Fits that fine-tuned and kept their start: counts per data set and method.

    Each fit counts once: the rows of a fit predicting without its offsets
    are left out. Returns ``(kept, fits)``, two tables of data sets by
    methods with the totals in a row and a column named "all".
    """
    fits = runs[runs["kept_start"].notna()
                & ~runs["method"].isin(list(_WITHOUT_DECISION_LAYER.values()))]
    counts = fits.assign(kept=fits["kept_start"].astype(float)).pivot_table(
        index="dataset", columns="method", values="kept", aggfunc=["sum", "count"],
        fill_value=0, margins=True, margins_name="all", sort=False)
    methods = [m for m in (*METHODS, "all") if m in counts["count"]]
    return counts["sum"][methods].astype(int), counts["count"][methods]
