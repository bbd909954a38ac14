"""Semi-supervised digits: do unlabelled images help SelMix?

The long-tailed digits' training set, as ``(1, 8, 8)`` images, keeps the
labels of a share of every class's images and marks the rest unlabelled. Three
models see the same data and the same labelled validation set:

- ``fixmatch_la``: FixMatch with the logit-adjusted loss, on the labelled and
  unlabelled images, without fine-tuning;
- ``selmix_semi``: that very network fine-tuned by SelMix, whose second samples
  are unlabelled images drawn by pseudo-label;
- ``selmix_labelled``: supervised SelMix on the labelled images alone.

The target: ``selmix_semi`` raises the test min recall of ``selmix_labelled``
by at least 3 points, and its mean recall is no lower.
"""

import time
import warnings

import numpy as np
import pandas as pd

from .._classifier import SelMixClassifier
from .._threads import limit_threads
from ..datasets import load_long_tailed_digits
from ..metrics import mean_recall_score, min_recall_score

SEMI_TARGETS = {"min_recall_gain": 0.03, "mean_recall_gain": 0.0}
SEMI_PARAMS = {"pretrain_epochs": 100, "finetune_steps": 100}
SEMI_MODELS = ("fixmatch_la", "selmix_semi", "selmix_labelled")


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


def run_semi_supervised(seeds, *, imbalance=10, labelled_share=0.3, estimator_params=None,
                        progress=None):
    """Fit FixMatch-LA, SelMix with unlabelled images and SelMix on the labelled ones alone.

    Parameters
    ----------
    seeds : sequence of int
        Each draws the data (see :func:`semi_supervised_digits`) and the
        estimators' randomness.
    imbalance, labelled_share : float, default=10, 0.3
        See :func:`semi_supervised_digits`.
    estimator_params : dict, default=None
        Settings of every estimator; None: ``SEMI_PARAMS``. ``fixmatch_la``
        overrides ``finetune_steps`` with 0.
    progress : callable, default=None
        Called with a line of text as each seed finishes.

    Returns
    -------
    runs : pandas.DataFrame
        One row per seed and model (``SEMI_MODELS``): test ``min_recall``,
        ``mean_recall`` and ``seconds``.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_semi_supervised
    >>> runs = run_semi_supervised([0], estimator_params={"pretrain_epochs": 1,
    ...                                                   "finetune_steps": 2})
    >>> runs["model"].tolist()
    ['fixmatch_la', 'selmix_semi', 'selmix_labelled']
    """
    params = SEMI_PARAMS if estimator_params is None else estimator_params
    rows = []
    with limit_threads(1), warnings.catch_warnings():
        # The tail classes' validation parts are small by design; the runs say so often.
        warnings.simplefilter("ignore", UserWarning)
        for seed in seeds:
            X, y_seen, X_val, y_val, X_test, y_test = semi_supervised_digits(
                seed, imbalance=imbalance, labelled_share=labelled_share)
            labelled = y_seen >= 0
            # selmix_semi fine-tunes fixmatch_la's network: FixMatch runs once, and its
            # seconds count in both.
            fits = {"fixmatch_la": ({"finetune_steps": 0}, X, y_seen),
                    "selmix_semi": ({}, X, y_seen),
                    "selmix_labelled": ({}, X[labelled], y_seen[labelled])}
            pretrained, pretrain_seconds = None, 0.0
            for model, (overrides, X_fit, y_fit) in fits.items():
                start = time.perf_counter()
                net = pretrained if model == "selmix_semi" else None
                clf = SelMixClassifier(net, **{**params, **overrides}, unlabeled_label=-1,
                                       random_state=seed)
                clf.fit(X_fit, y_fit, X_val, y_val)
                seconds = time.perf_counter() - start
                if model == "fixmatch_la":
                    pretrained, pretrain_seconds = clf.net_, seconds
                elif model == "selmix_semi":
                    seconds += pretrain_seconds
                y_pred = clf.predict(X_test)
                rows.append({"seed": seed, "model": model,
                             "min_recall": min_recall_score(y_test, y_pred),
                             "mean_recall": mean_recall_score(y_test, y_pred),
                             "seconds": seconds})
            if progress is not None:
                progress(f"semi-supervised digits: seed {seed} done")
    return pd.DataFrame(rows)


def semi_supervised_section(runs):
    """The report's lines on the semi-supervised digits: means over seeds and the target.

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
    >>> runs = pd.DataFrame({"seed": [0, 0, 0],
    ...                      "model": ["fixmatch_la", "selmix_semi", "selmix_labelled"],
    ...                      "min_recall": [0.70, 0.75, 0.60], "mean_recall": [0.91, 0.92, 0.90],
    ...                      "seconds": [20.0, 25.0, 8.0]})
    >>> print("\\n".join(semi_supervised_section(runs)[-2:]))
    - min recall 0.150 above SelMix on the labelled images (at least 0.03): met
    - mean recall 0.020 above SelMix on the labelled images (at least 0.0): met
    """
    columns = ["min_recall", "mean_recall", "seconds"]
    means = runs.groupby("model", sort=False)[columns].mean()
    lines = ["## Semi-supervised digit images", "",
             f"Test recalls, means over {runs['seed'].nunique()} seed(s).", "",
             "| model | min recall | mean recall | seconds |", "|---|---|---|---|"]
    for model, row in means.iterrows():
        lines.append(f"| {model} | {row.min_recall:.3f} | {row.mean_recall:.3f} | "
                     f"{row.seconds:.1f} |")
    lines.append("")
    semi, labelled = means.loc["selmix_semi"], means.loc["selmix_labelled"]
    for name in ("min", "mean"):
        gain = semi[f"{name}_recall"] - labelled[f"{name}_recall"]
        floor = SEMI_TARGETS[f"{name}_recall_gain"]
        met = gain >= floor - 1e-12
        lines.append(f"- {name} recall {gain:.3f} above SelMix on the labelled images "
                     f"(at least {floor}): {'met' if met else 'NOT met'}")
    return lines
