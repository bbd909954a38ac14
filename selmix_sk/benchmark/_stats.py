"""Paired statistics over seeds and the verdicts of the quality report."""

import numpy as np

from ._quality import PEERS

_METRICS = ["mean_recall", "min_recall", "hmean", "min_coverage", "fit_seconds"]
_COVERAGE_ALPHA = 0.95
# What each objective is judged on: alone against uniform mixup and the starting
# network, and beside mean recall for a Pareto win over the tuned offsets. The
# constrained objective is judged on its constraint, met at 0.95.
_JUDGED = {"min_recall": "min_recall", "hmean": "hmean",
           "mean_recall_min_coverage": "coverage_capped"}
# "Do no harm": fine-tuning may cost at most this much mean recall.
_MEAN_RECALL_TOLERANCE = 0.01
# Without a validation set, fit(X, y) should gain this much on the target, on
# average over the data sets, over the network it starts from.
_NO_VALIDATION_GAIN = 0.02
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


def _target_verdicts(runs, other, selmix="SelMix"):
    """The method ``selmix`` against the method ``other`` on each objective's target.

    Both fit on the same seeds, so the comparison is on the paired difference
    per seed: a shortfall within two of its standard errors is told apart
    from a loss. Returns ``(lines, losses, within_noise, total)``.
    """
    lines, outcomes = [], []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        scores = group.pivot_table(index="seed", columns="method", values=target)
        if selmix not in scores or other not in scores:
            continue
        pair = _Paired(scores, selmix, other)
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
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        scores = group.pivot_table(index="seed", columns="method", values=target)
        peers = [peer for peer in PEERS if peer in scores]
        if selmix not in scores or not peers:
            continue
        best = max(peers, key=lambda peer: scores[peer].mean())
        pair = _Paired(scores, selmix, best)
        outcomes.append(pair.outcome)
        lines.append(_pair_line(dataset, objective, target, pair, selmix, f"best peer ({best})"))
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


def _harm_verdicts(runs, selmix, start):
    """Whether fine-tuning (``selmix``) harms the network it could have kept (``start``).

    Harm is a mean recall more than ``_MEAN_RECALL_TOLERANCE`` below, or the
    target below beyond two standard errors of the paired difference; a
    target below within them is noise. Returns ``(lines, losses,
    within_noise, total)``.
    """
    lines, outcomes = [], []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        if not {selmix, start} <= set(group["method"]):
            continue
        pairs = {metric: _Paired(group.pivot_table(index="seed", columns="method",
                                                   values=metric), selmix, start)
                 for metric in dict.fromkeys((target, "mean_recall"))}
        judged, mean = pairs[target], pairs["mean_recall"]
        mean_drop = round(mean.b - mean.a, 3)
        if judged.outcome == "loss" or mean_drop > _MEAN_RECALL_TOLERANCE:
            outcome = "loss"
        else:
            outcome = judged.outcome
        outcomes.append(outcome)
        verdict = {"ok": "no harm", "noise": "no harm beyond noise",
                   "loss": "**HARMS**"}[outcome]
        lines.append(f"- {dataset}, {objective}: {selmix} vs {start}: {_LABELS[target]} "
                     f"{judged.a:.3f} vs {judged.b:.3f} ({judged.spread()}); mean recall "
                     f"{mean.a:.3f} vs {mean.b:.3f} ({mean.spread()}): {verdict}")
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


def _average_gains(runs, selmix, start):
    """Per objective: the mean over data sets of ``selmix``'s gain on the target over ``start``.

    Returns ``{objective: (gain, number of data sets)}``.
    """
    gains = {}
    for (_, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        scores = group.pivot_table(index="seed", columns="method", values=target)
        if selmix in scores and start in scores:
            gains.setdefault(objective, []).append(_Paired(scores, selmix, start).difference)
    return {objective: (float(np.mean(values)), len(values))
            for objective, values in gains.items()}


_PARETO_REFERENCE = "logit-adjusted + offsets"


def _pareto_candidate(scores, candidate, guard):
    """One candidate against the reference on the guarded metric and mean recall.

    Pareto-better needs the guard at least as high and mean recall higher (at
    3 decimals); a shortfall on either that is within two standard errors of
    its paired difference is noise; a larger one is a loss.
    """
    pairs = {metric: _Paired(scores[metric], candidate, _PARETO_REFERENCE)
             for metric in (guard, "mean_recall")}
    worse = [f"{_LABELS[metric]} {pair.a:.3f} < {pair.b:.3f} ({pair.spread()})"
             for metric, pair in pairs.items() if pair.outcome != "ok"]
    outcomes = {pair.outcome for pair in pairs.values()}
    mean = pairs["mean_recall"]
    if "loss" in outcomes:
        outcome, text = "loss", "**LOSES** on " + " and ".join(worse)
    elif "noise" in outcomes:
        outcome, text = "noise", "below within two standard errors on " + " and ".join(worse)
    elif _compare(mean.a, mean.b) > 0:
        outcome, text = "win", "Pareto-better"
    else:
        outcome, text = "noise", f"not better (ties on mean recall {mean.a:.3f})"
    guarded = pairs[guard]
    return outcome, (f"{candidate} ({_LABELS[guard]} {guarded.a:.3f}, mean recall "
                     f"{mean.a:.3f}): {text}")


def _pareto_verdicts(runs):
    """SelMix (+ offsets) against logit-adjusted + offsets, paired over seeds.

    A case is a win where either candidate is Pareto-better, a loss where
    both lose beyond the noise, and within noise otherwise. Returns
    ``(lines, losses, within_noise, total)``.
    """
    lines, verdicts = [], []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        guard = _JUDGED[objective]
        scores = {metric: group.pivot_table(index="seed", columns="method", values=metric)
                  for metric in (guard, "mean_recall")}
        methods = set(scores[guard].columns)
        candidates = [c for c in ("SelMix", "SelMix + offsets") if c in methods]
        if _PARETO_REFERENCE not in methods or not candidates:
            continue
        outcomes, parts = zip(*(_pareto_candidate(scores, c, guard) for c in candidates),
                              strict=True)
        verdict = ("win" if "win" in outcomes else "noise" if "noise" in outcomes else "loss")
        verdicts.append(verdict)
        reference = {metric: frame[_PARETO_REFERENCE].mean() for metric, frame in scores.items()}
        answer = {"win": "yes", "noise": "no, within noise", "loss": "**NO**"}[verdict]
        lines.append(
            f"- {dataset}, {objective}: Pareto-better than {_PARETO_REFERENCE} "
            f"({_LABELS[guard]} {reference[guard]:.3f}, mean recall "
            f"{reference['mean_recall']:.3f})? {answer}. " + "; ".join(parts)
        )
    return lines, verdicts.count("loss"), verdicts.count("noise"), len(verdicts)
