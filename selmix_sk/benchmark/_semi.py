"""Semi-supervised digits: do unlabelled images lift the worst class?

The long-tailed digits' training set, as ``(1, 8, 8)`` images, keeps the
labels of a share of every class's images and marks the rest unlabelled, in
every setting of ``SEMI_SETTINGS`` (two imbalances by two shares of labels
kept). Four models see the same data and the same labelled validation set:

- ``labelled_pretrained``: the logit-adjusted network on the labelled images
  alone, without fine-tuning;
- ``selmix_labelled``: that very network fine-tuned by supervised SelMix on
  the labelled images (the fit a user without a pool runs);
- ``fixmatch_la``: FixMatch with the logit-adjusted loss, on the labelled and
  unlabelled images, without fine-tuning;
- ``selmix_semi``: that very network fine-tuned by SelMix, whose second samples
  are unlabelled images drawn by pseudo-label.

Every model has the estimator's default decision layer. The targets: in every
setting ``selmix_semi``'s test min recall is at least ``selmix_labelled``'s,
and on average over the settings 3 points above it; its mean recall is no
lower. Comparing ``fixmatch_la`` with ``labelled_pretrained`` shows what the
pool does to pre-training, and ``selmix_semi`` with ``fixmatch_la`` what
fine-tuning adds to it.
"""

import time
import warnings

import joblib
import numpy as np
import pandas as pd

from .._classifier import SelMixClassifier
from .._threads import limit_threads
from ..datasets import load_long_tailed_digits
from ..metrics import mean_recall_score, min_recall_score
from ._stats import _Paired

SEMI_TARGETS = {"min_recall_gain": 0.03, "mean_recall_gain": 0.0}
# The estimator's defaults, what a user runs. At 100 fine-tuning steps instead of
# the default 500, SelMix with the pool gained +0.009 of min recall on average
# over SelMix on the labelled images (10 seeds); at 500, +0.024.
SEMI_PARAMS = {}
# (imbalance, share of every class's training labels kept)
SEMI_SETTINGS = ((10, 0.3), (10, 0.6), (20, 0.3), (20, 0.6))
SEMI_MODELS = ("labelled_pretrained", "selmix_labelled", "fixmatch_la", "selmix_semi")
# Each fine-tuned model, and the pre-trained network it starts from.
_STARTS = {"selmix_labelled": "labelled_pretrained", "selmix_semi": "fixmatch_la"}


def semi_supervised_digits(seed, *, imbalance=10, labelled_share=0.3):
    """The long-tailed digits as images in [0, 1], with a share of each class's labels kept.

    Parameters
    ----------
    seed : int
        Draws the long-tailed split and the labels kept.
    imbalance : float, default=10
        Of :func:`~selmix_sk.datasets.load_long_tailed_digits`.
    labelled_share : float, default=0.3
        Share of every class's training images that keep their label, at
        least one image a class.

    Returns
    -------
    X, y_seen : ndarray
        Training images ``(n, 1, 8, 8)`` and their labels, -1 where removed.
    X_val, y_val, X_test, y_test : ndarray
        The labelled validation and test images.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.benchmark._semi import semi_supervised_digits
    >>> X, y_seen, X_val, y_val, X_test, y_test = semi_supervised_digits(0)
    >>> X.shape, int((y_seen >= 0).sum()), X_val.shape
    ((490, 1, 8, 8), 148, (150, 1, 8, 8))
    >>> int(np.bincount(y_seen[y_seen >= 0]).min())
    4
    """
    if not 0 < labelled_share <= 1:
        raise ValueError(f"labelled_share must lie in (0, 1], got {labelled_share!r}.")
    data = load_long_tailed_digits(imbalance=imbalance, random_state=seed)
    rng = np.random.RandomState(seed)
    y_seen = np.full(len(data.y_train), -1)
    for label in np.unique(data.y_train):
        members = rng.permutation(np.flatnonzero(data.y_train == label))
        kept = members[:max(1, round(labelled_share * len(members)))]
        y_seen[kept] = label

    def images(X):
        return (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)

    return (images(data.X_train), y_seen, images(data.X_val), data.y_val,
            images(data.X_test), data.y_test)


def _semi_unit(setting, seed, params):
    """The four models of one (setting, seed): a row each."""
    imbalance, labelled_share = setting
    X, y_seen, X_val, y_val, X_test, y_test = semi_supervised_digits(
        seed, imbalance=imbalance, labelled_share=labelled_share)
    labelled = y_seen >= 0
    data = {"labelled_pretrained": (X[labelled], y_seen[labelled]),
            "selmix_labelled": (X[labelled], y_seen[labelled]),
            "fixmatch_la": (X, y_seen), "selmix_semi": (X, y_seen)}
    rows, started = [], {}
    with limit_threads(1), warnings.catch_warnings():
        # The tail classes' validation parts are small by design; the runs say so often.
        warnings.simplefilter("ignore", UserWarning)
        for model in SEMI_MODELS:
            begin = time.perf_counter()
            start = _STARTS.get(model)
            # A fine-tuned model goes on from its start's network: pre-training runs once,
            # and its seconds count in both.
            net, overrides = (started[start] if start else (None, {"finetune_steps": 0}))[:2]
            clf = SelMixClassifier(net, **{**params, **overrides}, unlabeled_label=-1,
                                   random_state=seed).fit(*data[model], X_val, y_val)
            seconds = time.perf_counter() - begin
            if start is None:
                started[model] = (clf.net_, {}, seconds)
            else:
                seconds += started[start][2]
            y_pred = clf.predict(X_test)
            rows.append({"imbalance": imbalance, "labelled_share": labelled_share,
                         "seed": seed, "model": model,
                         "min_recall": min_recall_score(y_test, y_pred),
                         "mean_recall": mean_recall_score(y_test, y_pred),
                         "kept_start": None if start is None else clf.kept_refresh_ == 0,
                         "seconds": seconds})
    return rows


def run_semi_supervised(seeds, *, settings=SEMI_SETTINGS, estimator_params=None, n_jobs=1,
                        progress=None):
    """Fit the four models of ``SEMI_MODELS`` in every setting, on every seed.

    Parameters
    ----------
    seeds : sequence of int
        Each draws the data (see :func:`semi_supervised_digits`) and the
        estimators' randomness.
    settings : sequence of (float, float), default=SEMI_SETTINGS
        ``(imbalance, labelled_share)`` pairs; see :func:`semi_supervised_digits`.
    estimator_params : dict, default=None
        Settings of every estimator; None: ``SEMI_PARAMS``. The pre-trained
        models override ``finetune_steps`` with 0.
    n_jobs : int, default=1
        (Setting, seed) pairs run side by side, in joblib's processes, each
        with one torch thread.
    progress : callable, default=None
        Called with a line of text as each (setting, seed) pair finishes.

    Returns
    -------
    runs : pandas.DataFrame
        One row per setting, seed and model: ``imbalance``,
        ``labelled_share``, ``seed``, ``model``, test ``min_recall`` and
        ``mean_recall``, ``kept_start`` (whether a fine-tuned model kept the
        network it started from; empty for the pre-trained ones) and
        ``seconds``, pre-training included.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_semi_supervised
    >>> runs = run_semi_supervised([0], settings=[(10, 0.3)],
    ...                            estimator_params={"pretrain_epochs": 1, "finetune_steps": 2})
    >>> runs["model"].tolist()
    ['labelled_pretrained', 'selmix_labelled', 'fixmatch_la', 'selmix_semi']
    """
    params = SEMI_PARAMS if estimator_params is None else estimator_params
    units = [(tuple(setting), seed) for setting in settings for seed in seeds]
    if not units:
        raise ValueError("Need at least one setting and one seed.")
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
        joblib.delayed(_semi_unit)(setting, seed, params) for setting, seed in units)
    rows = []
    for ((imbalance, share), seed), unit_rows in zip(units, results, strict=True):
        rows.extend(unit_rows)
        if progress is not None:
            progress(f"semi-supervised digits: imbalance {imbalance:g}, {share:.0%} of labels, "
                     f"seed {seed} done")
    return pd.DataFrame(rows)


def _setting_name(imbalance, share):
    return f"imbalance {imbalance:g}, {share:.0%} of labels"


def semi_supervised_section(runs):
    """The report's lines on the semi-supervised digits: means, paired verdicts, targets.

    Parameters
    ----------
    runs : pandas.DataFrame
        What :func:`run_semi_supervised` returns.

    Returns
    -------
    lines : list of str
        Markdown.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk.benchmark import semi_supervised_section
    >>> models = ["labelled_pretrained", "selmix_labelled", "fixmatch_la", "selmix_semi"]
    >>> runs = pd.DataFrame({"imbalance": 10, "labelled_share": 0.3, "seed": [0] * 4,
    ...                      "model": models, "min_recall": [0.55, 0.60, 0.70, 0.75],
    ...                      "mean_recall": [0.88, 0.90, 0.91, 0.92],
    ...                      "kept_start": [None, False, None, False],
    ...                      "seconds": [5.0, 8.0, 20.0, 25.0]})
    >>> lines = semi_supervised_section(runs)
    >>> lines[-2]
    '- average over 1 setting(s): min recall +0.150 above SelMix on the labelled images...'
    >>> lines[-2].endswith("(at least 0.03): met")
    True
    """
    settings = runs[["imbalance", "labelled_share"]].drop_duplicates().itertuples(index=False)
    lines = ["## Semi-supervised digit images", "",
             f"Test recalls, means over {runs['seed'].nunique()} seed(s) per setting; "
             "the fine-tuned models' seconds include the pre-training they start from; "
             "kept start: the share of fine-tuned fits that kept their start.", "",
             "| setting | model | min recall | mean recall | kept start | seconds |",
             "|---|---|---|---|---|---|"]
    verdicts, gains = [], {"min": [], "mean": []}
    for imbalance, share in settings:
        name = _setting_name(imbalance, share)
        part = runs[(runs["imbalance"] == imbalance) & (runs["labelled_share"] == share)]
        for model, group in part.groupby("model", sort=False):
            kept = group["kept_start"].dropna()
            kept = f"{kept.astype(bool).mean():.0%}" if len(kept) else ""
            lines.append(f"| {name} | {model} | {group['min_recall'].mean():.3f} | "
                         f"{group['mean_recall'].mean():.3f} | {kept} | "
                         f"{group['seconds'].mean():.1f} |")
        for metric in ("min", "mean"):
            scores = part.pivot(index="seed", columns="model", values=f"{metric}_recall")
            pair = _Paired(scores, "selmix_semi", "selmix_labelled")
            gains[metric].append(pair.difference)
            if metric == "min":
                pool = _Paired(scores, "fixmatch_la", "labelled_pretrained")
                verdicts.append(f"- {name}: the pool in pre-training moves min recall "
                                f"{pool.difference_text()} (FixMatch-LA against the labelled "
                                "network)")
            verdicts.append(
                f"- {name}: {metric} recall of SelMix with the pool {pair.a:.3f} against "
                f"{pair.b:.3f} on the labelled images ({pair.spread()}): " + {
                    "ok": "met", "noise": "NOT met, below within two standard errors",
                    "loss": "**NOT met**, below by more than two standard errors",
                }[pair.outcome])
    lines += ["", *verdicts]
    for metric in ("min", "mean"):
        gain, floor = np.mean(gains[metric]), SEMI_TARGETS[f"{metric}_recall_gain"]
        lines.append(f"- average over {len(gains[metric])} setting(s): {metric} recall "
                     f"{gain:+.3f} above SelMix on the labelled images (at least {floor}): "
                     f"{'met' if gain >= floor - 1e-12 else 'NOT met'}")
    return lines
