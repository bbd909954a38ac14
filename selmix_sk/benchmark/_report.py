"""The markdown report: header, quality tables and verdicts, speed targets."""

import os
import platform
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skorch
import torch

from .. import __version__
from ._cost import COST_METHODS, COST_TARGET
from ._plots import _plot_quality, _plot_speed
from ._quality import PEERS, PLUGIN_PEERS, RUN_COLUMNS
from ._semi import semi_supervised_section
from ._speed import _GAIN_FEATURES, _TARGETS
from ._stats import (
    _COVERAGE_ALPHA,
    _COVERAGE_SLACK,
    _DIGITS,
    _DIGITS_GAIN,
    _JUDGED,
    _KEPT_START_SHARE,
    _LABELS,
    _MEAN_RECALL_TOLERANCE,
    _METRICS,
    _NO_VALIDATION_GAIN,
    _PLUGIN_SHARE,
    _average_gains,
    _best_method_gains,
    _cases,
    _digits_coverage,
    _digits_gains,
    _harm_verdicts,
    _kept_start_counts,
    _mean_recall_verdicts,
    _Paired,
    _peer_verdicts,
    _per_seed,
    _summarize,
    _target_verdicts,
)
from ._stream import stream_section
from ._user import _DEFAULT, _LIMITED, _PEER, USER_TARGETS

# The pairs of the plug-in targets: SelMix with its decision layer, and the
# decision layer over the network SelMix starts from, on the same data.
_WITH_VALIDATION = ("SelMix + decision layer", "logit-adjusted + plug-in")
_WITHOUT_VALIDATION = ("SelMix, fit(X, y)", "pre-trained + plug-in, fit(X, y)")


def _validation_section(runs):
    """SelMix's change of the target on the validation set beside its change on test."""
    if runs["val_smallest_class"].isna().all():
        return []
    rows = []
    for dataset, objective, group in _cases(runs, "SelMix", "logit-adjusted"):
        target = _JUDGED[objective]
        cells = {"data set": dataset, "objective": objective,
                 "smallest validation class": int(
                     group.loc[group["method"] == "SelMix", "val_smallest_class"].min())}
        for where, column in (("validation", f"val_{target}"), ("test", target)):
            pair = _Paired(_per_seed(group, column), "SelMix", "logit-adjusted")
            cells[f"on {where}"] = pair.difference_text()
        rows.append(cells)
    if not rows:
        return []
    return [
        "### Validation against test",
        "",
        "SelMix minus the network it starts from (logit-adjusted), on the target: on the "
        "validation set that steers the fine-tuning and on the test set; mean paired "
        "difference ± its standard error over seeds. A gain on validation that the test set "
        "does not show is the fine-tuning fitting the few validation samples of a class "
        "rather than the class.",
        "",
        _markdown_table(pd.DataFrame(rows)),
        "",
    ]


def _at_least(claim, verdicts, share):
    """The target line of ``claim`` met on at least ``share`` of the cases of ``verdicts``."""
    _, losses, within_noise, total = verdicts
    at_least = total - losses - within_noise
    return _check(claim, at_least >= share * total,
                  f"{at_least} of {total}; below within noise in {within_noise}; it **loses "
                  f"{losses}** by more")


def _no_validation_section(runs):
    """Targets (a) to (c): fit(X, y) without a validation set, no harm, the peers."""
    methods = set(runs["method"])
    selmix, start = "SelMix, fit(X, y)", "pre-trained, fit(X, y)"
    if not {selmix, start} <= methods and not methods & {*PEERS, *PLUGIN_PEERS}:
        return []
    lines = [
        "### Without a validation set, and the peers",
        "",
        "The rows without a validation set (`validation` is `none` in runs.csv) fit the "
        "training and validation parts together, as a user who has no validation set has "
        "them: `SelMixClassifier(objective=...).fit(X, y)` with the estimator's defaults "
        f"({selmix}; SelMix without decision layer, fit(X, y) is that fit predicting without "
        "its offsets), the same with `cv=0.2` (SelMix, single split: a fifth of every class "
        "held out, the `fit(X, y)` of before cross-fitting) and with `finetune_steps=0, "
        f"tune_offsets=False` ({start}); each pre-trains its own network. The peers train on "
        "the same data, as they need no validation set: the classic ones, logistic "
        "regression (`StandardScaler`, then `LogisticRegression(class_weight=\"balanced\")`), "
        "gradient boosting (`HistGradientBoostingClassifier(class_weight=\"balanced\")`) and "
        "imbalanced-learn's balanced random forest (`BalancedRandomForestClassifier`), and "
        "gradient boosting + plug-in, that gradient boosting with the decision layer tuned "
        "out of fold for the objective (`TunedOffsetsClassifierCV(cv=5)`). The best classic "
        "peer of a data set is the one with the highest mean target there, chosen after the "
        "fact.",
        "",
    ]
    harm_none = _harm_verdicts(runs, selmix, start)
    harm_explicit = _harm_verdicts(runs, "SelMix", "logit-adjusted")
    targets = []
    if harm_none[3]:
        _, losses, within_noise, total = harm_none
        targets.append(_check(
            f"(a) {selmix} at least {start} on the target on every data set (no loss beyond "
            "two standard errors)", losses == 0,
            f"{total - losses} of {total} cases, {within_noise} of them below within noise"))
        for objective, (gain, n) in _average_gains(runs, selmix, start).items():
            wanted = _NO_VALIDATION_GAIN[objective]
            targets.append(_check(
                f"(a) {objective}: mean gain of {selmix} over {start} on the target over "
                f"{n} data sets", round(gain, 3) >= wanted,
                f"{gain:+.3f} (target >= +{wanted:.2f})"))
    if harm_none[3] or harm_explicit[3]:
        losses = harm_none[1] + harm_explicit[1]
        total = harm_none[3] + harm_explicit[3]
        targets.append(_check(
            "(b) do no harm: SelMix never below the network it starts from (finetune_steps=0) "
            "on the target beyond noise, with or without a validation set (mean recall is "
            "reported, not judged against the start)", losses == 0,
            f"harms in {losses} of {total} cases"))
    peers = {(name, "the best classic peer"): _peer_verdicts(runs, name)
             for name in (_WITH_VALIDATION[0], selmix)}
    peers |= {(name, peer): _target_verdicts(runs, peer, selmix=name)
              for peer in PLUGIN_PEERS for name in (_WITH_VALIDATION[0], selmix)}
    targets += [_at_least(f"(c) {name} at least {peer} on the target on at least half the "
                          "cases", verdicts, Fraction(1, 2))
                for (name, peer), verdicts in peers.items() if verdicts[3]]
    lines += ["Targets:", "", *targets, ""]
    for objective, (gain, n, best) in _best_method_gains(runs, start).items():
        winners = ", ".join(f"{method} on {count}" for method, count in
                            sorted(best.items(), key=lambda item: (-item[1], item[0])))
        lines += [f"For scale, (a) {objective}: the best method of each data set among those "
                  "without a validation set, chosen after the fact, gains "
                  f"{gain:+.3f} over {start} on the target on average over {n} data sets "
                  f"(best: {winners}).", ""]
    if harm_none[3]:
        lines += [f"(a) {selmix} against {start}:", "", *harm_none[0], ""]
    if harm_explicit[3]:
        lines += ["(b) With a validation set, SelMix against logit-adjusted (the network it "
                  "starts from):", "", *harm_explicit[0], ""]
    for (name, peer), (verdict_lines, *_) in peers.items():
        if verdict_lines:
            lines += [f"(c) {name} against {peer}:", "", *verdict_lines, ""]
    single = _target_verdicts(runs, "SelMix, single split", selmix=selmix)
    if single[3]:
        lines += [f"Cross-fitting against the single split: {selmix} against SelMix, single "
                  "split: " + _verdict_count(">=", single), "", *single[0], ""]
    return lines


def _plugin_section(runs):
    """Targets (e) to (h): SelMix against the decision layer alone, on the same data."""
    selmix, plugin = _WITHOUT_VALIDATION
    targets, details = [], []
    for objective in runs["objective"].unique():
        verdicts = _target_verdicts(runs[runs["objective"] == objective], plugin, selmix=selmix)
        if verdicts[3]:
            targets.append(_at_least(
                f"(e) {objective}: {selmix} at least {plugin} on the target on at least "
                f"{_PLUGIN_SHARE.numerator} in {_PLUGIN_SHARE.denominator} data sets",
                verdicts, _PLUGIN_SHARE))
            details += [f"(e) {objective}, {selmix} against {plugin}:", "", *verdicts[0], ""]
    for dataset, low, mean, met in _digits_gains(runs, *_WITH_VALIDATION):
        seeds = "1 seed" if low.n == 1 else f"paired over {low.n} seeds"
        targets.append(_check(
            f"(f) {dataset}, min_recall: {' minus '.join(_WITH_VALIDATION)}", met,
            f"min recall {low.difference_text()} (target >= +{_DIGITS_GAIN:.2f}), mean recall "
            f"{mean.difference_text()} (target >= 0), {seeds}"))
    tolerance = f"{100 * _MEAN_RECALL_TOLERANCE:.0f} point"
    for name, reference in (_WITH_VALIDATION, _WITHOUT_VALIDATION):
        lines, short, total = _mean_recall_verdicts(runs, name, reference)
        if total:
            targets.append(_check(
                f"(g) mean recall of {name} never more than {tolerance} below {reference}'s",
                short == 0, f"more in {short} of {total} cases"))
            details += [f"(g) Mean recall, {name} against {reference}:", "", *lines, ""]
    floor = _COVERAGE_ALPHA - _COVERAGE_SLACK
    for name in (_WITH_VALIDATION[0], selmix):
        for dataset, test, val, applied, met in _digits_coverage(runs, name):
            seen = "" if np.isnan(val) else f"; {val:.3f} on the validation set"
            targets.append(_check(
                f"(h) {dataset}, mean_recall_min_coverage: test min coverage of {name}", met,
                f"{test:.3f} (target >= {floor:.2f}, within {_COVERAGE_SLACK:.2f} of "
                f"{_COVERAGE_ALPHA}){seen}; decision layer applied in {applied:.0%} of fits"))
    if not targets:
        return []
    return [
        "### SelMix against the plug-in",
        "",
        "The plug-in is the decision layer alone: per-class offsets added to the "
        "log-probabilities of the network SelMix starts from, tuned for the objective "
        f"(`TunedOffsetsClassifierCV`): {plugin} on out-of-fold predictions (`cv=5`), "
        f"{_WITH_VALIDATION[1]} on the validation set (`cv=\"prefit\"`). SelMix, with its "
        "own decision layer, must beat it on the same data: (e) on the target without a "
        f"validation set; (f) on the long-tailed digits (data sets `{_DIGITS}*`), with a "
        "validation set, by the paper's margin on min recall at no lower mean recall; (g) "
        "mean recall may fall below the start's where the objective asks for it, but not "
        f"more than {tolerance} below the plug-in's; (h) the constrained objective's test "
        "coverage within reach of its target on the digits, beside the coverage on the "
        "validation set that tuned it and how often the decision layer applied. Paired "
        "differences over seeds.",
        "",
        "Targets:",
        "",
        *targets,
        "",
        *details,
    ]


def _kept_start_section(runs):
    """Target (i): the share of fine-tuning fits that kept the weights they started from."""
    if runs["kept_start"].isna().all():
        return []
    kept, fits = _kept_start_counts(runs)
    table = (kept.astype(str) + "/" + fits.astype(str)).reset_index().rename(
        columns={"dataset": "data set"})
    overall, total = kept.at["all", "all"], fits.at["all", "all"]
    return [
        "### What the fits kept",
        "",
        "Fits whose kept refresh is the start (`kept_refresh_ == 0`: fine-tuning changed "
        "nothing), out of the fits that fine-tuned, per data set and method over every "
        "objective and seed (`kept_start` in runs.csv; a fit predicting without its offsets "
        "is the same fit, counted once).",
        "",
        _markdown_table(table),
        "",
        _check("(i) the search moves the weights: the kept refresh is the start in at most "
               f"{_KEPT_START_SHARE.numerator} in {_KEPT_START_SHARE.denominator} fits",
               overall <= _KEPT_START_SHARE * total,
               f"{overall} of {total} ({overall / total:.0%})"),
        "",
    ]


def _cost_section(cost):
    """Target (d): fit time of cross-fitting against the single split, ratio of medians."""
    medians = cost.groupby(["dataset", "method"], sort=False)["fit_seconds"].median().unstack()
    single, folds = COST_METHODS
    rows, targets = [], []
    for dataset, row in medians.iterrows():
        ratio = row[folds] / row[single]
        rows.append({"data set": dataset, f"{single} s": f"{row[single]:.2f}",
                     f"{folds} s": f"{row[folds]:.2f}", "ratio": f"{ratio:.2f}",
                     "seeds": cost.loc[cost["dataset"] == dataset, "seed"].nunique()})
        targets.append(_check(f"(d) {dataset}: fit time of {folds} / {single}",
                              ratio <= COST_TARGET,
                              f"{ratio:.2f}x (target <= {COST_TARGET:.0f}x)"))
    return [
        "## Cost of cross-fitting",
        "",
        f"Median seconds of `fit(X, y)` on a data set's training and validation parts, "
        f"{single} (`cv=0.2`) against {folds} (`cv=5, n_jobs=2`), objective min_recall. Each "
        "fit runs alone, one torch thread in the benchmark's process and joblib's thread "
        "limit in the folds' processes; the quality suite's `fit s` come from runs side by "
        "side and are not comparable.",
        "",
        _markdown_table(pd.DataFrame(rows)),
        "",
        "### Targets",
        "",
        *targets,
        "",
    ]


def _format_mean_std(mean, std, digits=3):
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _markdown_table(frame):
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _quality_table(summary, objective):
    rows = []
    for (dataset, obj, method), row in summary.iterrows():
        if obj != objective:
            continue
        cells = {"data set": dataset, "method": method}
        for metric in _METRICS:
            digits = 2 if metric == "fit_seconds" else 3
            cells[_LABELS[metric]] = _format_mean_std(row[f"{metric}_mean"],
                                                      row[f"{metric}_std"], digits)
        cells["seeds"] = int(row["n_seeds"])
        rows.append(cells)
    return _markdown_table(pd.DataFrame(rows))


def _verdict_count(claim, verdicts, unit="comparisons"):
    _, losses, within_noise, total = verdicts
    return (f"{claim} in {total - losses - within_noise} of {total} {unit}; below within "
            f"two standard errors of the paired difference in {within_noise}; it **loses "
            f"{losses}** by more.")


def _quality_section(runs):
    summary = _summarize(runs)
    seeds = sorted(runs["seed"].unique().tolist())
    lines = [
        "## Quality",
        "",
        f"Seeds {seeds}: each seed draws the data split and the estimator's randomness. "
        "Scores are on the test set; each cell is the mean ± standard deviation over seeds. "
        "All fine-tuning methods of a (data set, seed) start from one shared "
        "logit-adjusted pre-training (its time is in `pretrain_seconds` of runs.csv, not in "
        "`fit s`); cross-entropy and logit-adjusted do not depend on the objective and are "
        "repeated under each. SelMix + decision layer is the estimator's default "
        "(`tune_offsets=\"auto\"`: offsets tuned after fine-tuning, applied where a "
        "held-out check says they help); SelMix is that fit predicting without its offsets, "
        "so both show that fit's time; uniform mixup and greedy have no decision layer; "
        "logit-adjusted + plug-in is the shared network with offsets tuned on the "
        "validation set. `min coverage` is the smallest ratio of a class's share of "
        "predictions to its share of the test set.",
        "",
        "Targets: min_recall is judged on min recall, hmean on the H-mean of recalls, and "
        "mean_recall_min_coverage on its constraint, the smallest coverage ratio (met at "
        f"{_COVERAGE_ALPHA}: a higher one counts as met, not better). A shortfall within two "
        "standard errors of the paired difference over seeds is told apart from a loss.",
        "",
        "### Verdicts",
        "",
    ]
    for claim, verdicts in (
        ("SelMix >= uniform mixup on the target", _target_verdicts(runs, "uniform mixup")),
        ("Does fine-tuning help at all? SelMix against the network it starts from "
         "(logit-adjusted, no fine-tuning): >=", _target_verdicts(runs, "logit-adjusted")),
        (f"With a validation set, {_WITH_VALIDATION[0]} against {_WITH_VALIDATION[1]} on the "
         "target: >=", _target_verdicts(runs, _WITH_VALIDATION[1], selmix=_WITH_VALIDATION[0])),
    ):
        if verdicts[3]:
            lines += [_verdict_count(claim, verdicts), "", *verdicts[0], ""]
    lines += _no_validation_section(runs)
    lines += _plugin_section(runs)
    lines += _kept_start_section(runs)
    lines += _validation_section(runs)
    for objective in runs["objective"].unique():
        lines += [f"### Objective {objective}", "", _quality_table(summary, objective), ""]
    return lines


def _check(label, met, detail):
    return f"- {'met' if met else '**NOT met**'}: {label}: {detail}"


def _speed_section(speed):
    gain, step = speed["gain"], speed["step"]
    closed = gain[gain["implementation"] == "closed form"].set_index("K")
    literal = gain[gain["implementation"] == "literal K^4"].set_index("K")
    table = gain.assign(
        ms=(1e3 * gain["seconds"]).map(lambda v: "" if np.isnan(v) else f"{v:,.3f}"),
        peak=gain["peak_rss_mib"].map(lambda v: "" if np.isnan(v) else f"{v:,.1f}"),
    )[["implementation", "K", "d", "ms", "peak", "note"]]
    table.columns = ["implementation", "K", "d", "median ms", "peak memory MiB", "note"]
    lines = [
        "## Speed",
        "",
        "One torch thread. Times are medians after warm-up. Peak memory is the peak "
        "resident set during one call in a fresh process, above the memory before it "
        "(one-off library buffers included).",
        "",
        "### Closed-form gain against the literal K^4 formulation",
        "",
        f"Random inputs with feature dimension d = {_GAIN_FEATURES} and a non-uniform class "
        "prior; the literal one materialises the (K, K, K, K) tensor of logit changes "
        "(`literal_gain`).",
        "",
        _markdown_table(table),
        "",
    ]
    targets = []
    if 100 in closed.index and 100 in literal.index and not np.isnan(literal.at[100, "seconds"]):
        speedup = literal.at[100, "seconds"] / closed.at[100, "seconds"]
        targets.append(_check("speed-up of the closed form over the literal one at K = 100",
                              speedup >= _TARGETS["speedup_k100"],
                              f"{speedup:,.0f}x (target >= 1000x)"))
    for K, key, target in ((100, "closed_k100_s", "< 10 ms"), (1000, "closed_k1000_s", "< 2 s")):
        if K in closed.index:
            seconds = closed.at[K, "seconds"]
            targets.append(_check(f"closed-form gain at K = {K}", seconds < _TARGETS[key],
                                  f"{1e3 * seconds:,.2f} ms (target {target})"))
    step_table = step.copy()
    for column in ("plain_step_ms", "selmix_step_ms", "pair_draw_ms"):
        step_table[column] = step_table[column].map("{:.3f}".format)
    for column in ("ratio", "ratio_with_draw"):
        step_table[column] = step_table[column].map("{:.2f}".format)
    step_table.columns = ["module", "batch", "plain step ms", "SelMix step ms",
                          "pair draw ms", "SelMix / plain", "(SelMix + draw) / plain"]
    lines += [
        "### A SelMix step against a plain step",
        "",
        "`SelMixNet.train_step` on a batch of pairs (one forward pass over both halves, the "
        "head on the mixed features) against skorch's `NeuralNet.train_step` on the same "
        "2 x batch samples, same module weights, SGD; interleaved repetitions. The pair "
        "draw is the iterator's work, outside the step; it is shown apart. The end-to-end "
        "row is what a user pays: a default fit's SelMix steps (the fit with its steps "
        "minus the same fit with none, on long-tailed digits with the validation set given: "
        "skorch's loop, the pair draws and the refreshes included; both fits start from one "
        "pre-trained network) against a plain PyTorch loop of as many SGD steps on 2 x batch "
        "samples through the same module; medians of 7, interleaved.",
        "",
        _markdown_table(step_table),
        "",
    ]
    for _, row in step.iterrows():
        what = "SelMix steps / plain loop" if row["module"].startswith("end to end") else \
            "SelMix step / plain step"
        targets.append(_check(f"{what}, {row['module']}",
                              row["ratio"] <= _TARGETS["step_ratio"],
                              f"{row['ratio']:.2f}x (target <= 1.2x; with the pair draw "
                              f"{row['ratio_with_draw']:.2f}x)"))
    if speed["fit_memory_mib"] is not None:
        lines += [
            "### Peak memory of a fit",
            "",
            f"A default `SelMixClassifier` fit (pre-training and 500 SelMix steps) on "
            f"long-tailed digits: peak resident memory {speed['fit_memory_mib']:,.1f} MiB above "
            "the process's memory before the fit (data loaded, torch imported).",
            "",
        ]
    image = speed.get("image_fit_memory")
    if image is not None:
        (few, few_mib), (many, many_mib) = sorted(image["peak_mib"].items())
        copies = (many_mib - few_mib) / image["weights_mib"]
        lines += [
            f"A torchvision ResNet-18 ({image['weights_mib']:,.1f} MiB of weights) fine-tuned "
            "with a validation set on 3 x 32 x 32 images, a refresh after every step: peak "
            f"resident memory {few_mib:,.0f} MiB above the start with {few} refreshes, "
            f"{many_mib:,.0f} MiB with {many}. The weights are copied to go back to the kept "
            f"refresh; {many - few} more refreshes took {copies:.1f} more copies.",
            "",
        ]
        targets.append(_check(
            "memory of a network fine-tuned alone, whatever its refreshes",
            copies <= _TARGETS["copies_growth"],
            f"{copies:.1f} copies of the weights more from {few} to {many} refreshes "
            f"(target <= {_TARGETS['copies_growth']:.0f})"))
    frozen = speed.get("frozen")
    if frozen is not None:
        lines += [
            "### A frozen backbone",
            "",
            "Seconds per SelMix step of a torchvision ResNet-18 (random weights) on 3 x 32 x 32 "
            "images, 64 pairs a step, fine-tuned whole and with `freeze_backbone=True` (the head "
            "alone, on features computed once): the fit with its steps minus the same fit with "
            "none (`run_frozen_cost`).",
            "",
            f"- whole network: {frozen['full_step_s'] * 1e3:,.1f} ms a step; a fit with "
            f"{frozen['full_steps']:,} steps {frozen['full_fit_s']:,.2f} s",
            f"- frozen backbone: {frozen['frozen_step_s'] * 1e3:,.2f} ms a step, after a "
            f"one-off {frozen['frozen_setup_s']:,.1f} s (a fit without steps: the feature "
            f"pass and a refresh); a fit with {frozen['frozen_steps']:,} steps "
            f"{frozen['frozen_fit_s']:,.2f} s",
            "",
        ]
        targets.append(_check("a step with freeze_backbone=True against the whole ResNet-18",
                              frozen["met"], f"{frozen['ratio']:,.0f}x cheaper "
                              f"(target >= {frozen['target']:.0f}x)"))
    lines += ["### Targets", "", *targets, ""]
    return lines



def _user_speed_section(user):
    """Issue 24's targets: a default fit as a user runs it, quiet and with one core busy."""
    medians = user.groupby(["load", "dataset", "fit"], sort=False)["seconds"].agg(
        ["median", "count"])
    rows_of = user.groupby("dataset", sort=False)["n_samples"].first()
    quiet = medians.loc["quiet"]
    table, targets = [], []
    for dataset in quiet.index.unique("dataset"):
        selmix, peer = (quiet.loc[(dataset, fit), "median"] for fit in (_DEFAULT, _PEER))
        ratio = selmix / peer
        table.append({"data set": dataset, "rows": f"{rows_of[dataset]:,}",
                      f"{_DEFAULT} s": f"{selmix:.2f}", f"{_PEER} s": f"{peer:.2f}",
                      "ratio": f"{ratio:.1f}", "seeds": quiet.loc[(dataset, _DEFAULT), "count"]})
        targets.append(_check(f"quiet machine, {dataset}: default fit / {_PEER}",
                              ratio <= USER_TARGETS["peer_ratio"],
                              f"{ratio:.1f}x (target <= {USER_TARGETS['peer_ratio']:.0f}x)"))
    busy = medians.loc["one core busy"]
    dataset = busy.index.unique("dataset")[0]
    busy = busy.loc[dataset]
    limited = busy.at[_LIMITED, "median"]
    busy_table = pd.DataFrame({"fit": busy.index, "seconds": busy["median"].map("{:.2f}".format),
                               f"/ {_LIMITED}": (busy["median"] / limited).map("{:.2f}".format),
                               "seeds": busy["count"]})
    ratio = busy.at[_DEFAULT, "median"] / limited
    targets.insert(0, _check(
        f"one core busy, {dataset} ({rows_of[dataset]:,} rows): default fit / the same inside "
        "limit_threads(1)", ratio <= USER_TARGETS["busy_ratio"],
        f"{ratio:.2f}x (target <= {USER_TARGETS['busy_ratio']}x)"))
    return [
        "## What a user's fit costs",
        "",
        "`fit(X, y)` as a user runs it, with no thread limit around it: "
        "`SelMixClassifier(objective=\"min_recall\")` with the estimator's defaults otherwise "
        "(`n_threads=\"auto\"`, on the CPU) and `HistGradientBoostingClassifier("
        "class_weight=\"balanced\")`, on a data set's training and validation parts "
        "together; one fit at a time, medians of seconds over seeds (`run_user_speed`).",
        "",
        "### A quiet machine",
        "",
        _markdown_table(pd.DataFrame(table)),
        "",
        "### One core busy",
        "",
        f"A second process spins on a core during each fit, as on a machine that does anything "
        f"else. On {dataset}, the table closest to 1,000 rows among those run: the default "
        "fit, the same inside `limit_threads(1)` (one torch and BLAS thread around the whole "
        "fit), and `n_threads=None` (torch's thread a core, the estimator before it set its "
        "threads; on the first seed only).",
        "",
        _markdown_table(busy_table),
        "",
        "### Targets",
        "",
        *targets,
        "",
    ]


# The suites' thread setting differs from a user's; the report says so once, at the top.
_THREADS_NOTE = (
    "- threads: the quality, cost, stream, semi-supervised and speed suites run their "
    "estimators inside `limit_threads(1)`, one torch and BLAS thread a process (the quality "
    "and semi-supervised suites run `n_jobs` processes side by side), faster for these "
    "small networks than torch's thread a core; \"What a user's fit costs\" "
    "(`--suite user_speed`) times fits as a user runs them, without it"
)


def _header(command, elapsed):
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    lines = [
        "# selmix-sk benchmark report",
        "",
        f"- command: `{command}`",
        f"- selmix-sk {__version__}; torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, NumPy {np.__version__}, "
        f"pandas {pd.__version__}, Python {platform.python_version()}",
        f"- CPUs: {os.cpu_count()} (usable: {affinity}); {platform.platform()}",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
    ]
    if elapsed is not None:
        lines.append(f"- wall time: {elapsed:,.0f} s")
    return [*lines, ""]


def write_report(output, *, command, runs=None, speed=None, cost=None, stream=None,
                 semi_supervised=None, user_speed=None, elapsed=None, estimator_params=None):
    """Write ``report.md`` and the plots from quality runs, speed and cost results.

    Parameters
    ----------
    output : str or Path
        Directory, created if needed.
    command : str
        The command line, for the header.
    runs : pandas.DataFrame, default=None
        From :func:`run_quality`; None leaves the quality section out.
    speed : dict, default=None
        From :func:`run_speed`; None leaves the speed section out.
    cost : pandas.DataFrame, default=None
        From :func:`run_cost`; None leaves the cost section out.
    stream, semi_supervised, user_speed : pandas.DataFrame, default=None
        From :func:`run_stream`, :func:`run_semi_supervised` and
        :func:`run_user_speed`; None leaves their sections out.
    elapsed : float, default=None
        Wall time of the benchmark in seconds, for the header.
    estimator_params : dict, default=None
        What the runs passed to every estimator, for the header.

    Returns
    -------
    paths : list of Path
        ``report.md`` first, then the plots.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from selmix_sk.benchmark import write_report
    >>> runs = pd.DataFrame({
    ...     "dataset": "toy", "objective": "min_recall", "seed": 0, "validation": "explicit",
    ...     "method": ["uniform mixup", "SelMix", "logit-adjusted"],
    ...     "mean_recall": [0.8, 0.8, 0.9], "min_recall": [0.5, 0.4, 0.6], "hmean": 0.7,
    ...     "min_coverage": 0.9, "fit_seconds": 1.0, "pretrain_seconds": 2.0})
    >>> paths = write_report(tempfile.mkdtemp(), command="selmix-sk benchmark", runs=runs)
    >>> text = paths[0].read_text()
    >>> "SelMix 0.400 vs uniform mixup 0.500 min recall (1 seed): **LOSES** by 0.100" in text
    True
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    lines = _header(command, elapsed)
    if estimator_params:
        settings = ", ".join(f"`{key}={value!r}`" for key, value in estimator_params.items())
        lines.insert(-1, f"- estimator settings, unless a method sets its own: {settings}")
    if any(part is not None for part in (runs, speed, cost, stream, semi_supervised)):
        lines.insert(-1, _THREADS_NOTE)
    plots = []
    if runs is not None:
        # A runs.csv of an earlier version lacks the newer columns: their sections are empty.
        runs = runs.reindex(columns=list(dict.fromkeys([*RUN_COLUMNS, *runs.columns])))
        lines += _quality_section(runs)
        plots += _plot_quality(runs, output)
    if cost is not None:
        lines += _cost_section(cost)
    if stream is not None:
        lines += [*stream_section(stream), ""]
    if semi_supervised is not None:
        lines += [*semi_supervised_section(semi_supervised), ""]
    if speed is not None:
        lines += _speed_section(speed)
        plots.append(_plot_speed(speed, output))
    if user_speed is not None:
        lines += _user_speed_section(user_speed)
    lines += ["## Files", "", *(f"- `{p.name}`" for p in plots), ""]
    report = output / "report.md"
    report.write_text("\n".join(lines))
    return [report, *plots]
