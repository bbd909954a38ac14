"""What the data commands print and draw: the columns, per-class metrics, the confusion matrix.

``selmix-sk fit`` says how the table's columns were typed
(:func:`describe_columns`) and which model the fit kept on what held-out
evidence (:func:`kept_summary`); ``selmix-sk evaluate`` prints
:func:`class_report` and draws :func:`plot_confusion_matrix`.
"""

import numbers
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .metrics import coverage_score

__all__ = ["class_report", "describe_columns", "kept_summary", "plot_confusion_matrix"]

# The kinds of a model file's ``features``, in the order the summary names them.
_KINDS = ("numeric", "datetime", "low_cardinality", "high_cardinality", "dropped")


def describe_columns(kinds):
    """The number of columns, and of each kind, with the dropped ones named.

    Parameters
    ----------
    kinds : dict
        Column name to kind, as :func:`~selmix_sk._tabular.column_kinds`
        returns it.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from selmix_sk._report import describe_columns
    >>> describe_columns({"age": "numeric", "visit": "datetime", "city": "low_cardinality",
    ...                   "country": "dropped", "height": "numeric"})
    "5 columns (2 numeric, 1 datetime, 1 low_cardinality, 1 dropped: 'country')"
    """
    counts = Counter(kinds.values())
    parts = [f"{counts[kind]} {kind}" for kind in _KINDS if counts[kind]]
    dropped = [name for name, kind in kinds.items() if kind == "dropped"]
    if dropped:
        more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        parts[-1] += f": {', '.join(map(repr, dropped[:5]))}{more}"
    return f"{len(kinds)} columns ({', '.join(parts)})"


def kept_summary(classifier, validation=None):
    """Which weights a fit kept, and the held-out evidence for them, in two sentences.

    Reads the fitted ``kept_refresh_``, ``held_out_score_``,
    ``held_out_counts_``, ``decision_layer_`` and ``history_`` of a
    :class:`~selmix_sk.SelMixClassifier`: the refresh whose weights were
    kept (0 when fine-tuning changed nothing), the model's objective on the
    held-out data (with the decision layer if it applied), and how many
    held-out samples of each class that rests on.

    Parameters
    ----------
    classifier : SelMixClassifier
        Fitted by ``fit``.
    validation : str or path-like, default=None
        The name of the validation set that ``fit`` was given; None when
        the held-out data came from ``cv``.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from selmix_sk import SelMixClassifier
    >>> from selmix_sk._report import kept_summary
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SelMixClassifier(finetune_steps=200, pretrain_epochs=5, cv=0.3, random_state=0)
    >>> print(kept_summary(clf.fit(X, y)))
    Kept: fine-tuned weights (refresh 8 of 10, step 160, blended with the pre-trained
    network). Held-out min_recall 0.867 on 45 held-out samples, 15 in the smallest class (0).
    """
    keep = classifier.kept_refresh_
    if keep is None:
        return "Kept: the pre-trained network, not fine-tuned; nothing was held out to score it."
    refreshes = len(classifier.history_) - 1  # the first row is the start
    if keep:
        step = classifier.history_["step"].iloc[keep]
        blend = ("" if classifier.start_weight == 0
                 else ", blended with the pre-trained network")
        kept = f"Kept: fine-tuned weights (refresh {keep} of {refreshes}, step {step}{blend})."
    elif refreshes:
        kept = (f"Kept: the pre-trained network; fine-tuning ({refreshes} "
                f"refresh{'es' if refreshes > 1 else ''}) did not beat it by enough on the "
                "held-out data.")
    else:
        kept = "Kept: the pre-trained network (no fine-tuning steps)."
    counts = classifier.held_out_counts_
    cv = classifier.cv
    if validation is not None:
        samples = f"the {counts.sum():,} samples of {validation}"
    elif isinstance(cv, numbers.Real) and not isinstance(cv, numbers.Integral):
        samples = f"{counts.sum():,} held-out samples"  # a float: one split
    else:
        samples = f"{counts.sum():,} out-of-fold samples"
    smallest = int(np.argmin(counts))
    objective = classifier.objective if isinstance(classifier.objective, str) else "objective"
    # With the decision layer, the score is of its offsets tuned on the other folds.
    layer = " with the decision layer" if classifier.decision_layer_["applied"] else ""
    return (f"{kept} Held-out {objective} {classifier.held_out_score_:.3f}{layer} on "
            f"{samples}, {counts[smallest]:,} in the smallest class "
            f"({classifier.classes_[smallest]}).")


def class_report(y_true, y_pred, classes):
    """Per-class support, precision, recall and coverage.

    Coverage is a class's share of the predictions over its share of
    ``y_true`` (:func:`~selmix_sk.metrics.coverage_score`): 1 when it is
    predicted exactly as often as it occurs, NaN when it does not occur.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    classes : array-like of shape (n_classes,)
        The model's classes, in order.

    Returns
    -------
    report : pandas.DataFrame
        Columns ``class``, ``support``, ``precision``, ``recall``,
        ``coverage``; a row per class.

    Examples
    --------
    >>> from selmix_sk._report import class_report
    >>> class_report(["a", "a", "b", "b"], ["a", "a", "a", "b"], ["a", "b"])
      class  support  precision  recall  coverage
    0     a        2   0.666667     1.0       1.5
    1     b        2   1.000000     0.5       0.5
    """
    classes = list(classes)
    precision, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    return pd.DataFrame({
        "class": classes,
        "support": support,
        "precision": precision,
        "recall": recall,
        "coverage": coverage_score(y_true, y_pred, labels=classes, average=None),
    })


def plot_confusion_matrix(path, y_true, y_pred, classes, title=None):
    """Write the confusion matrix, rows normalised to recalls, as a PNG.

    Parameters
    ----------
    path : str or path-like
    y_true, y_pred : array-like of shape (n_samples,)
    classes : array-like of shape (n_classes,)
    title : str, default=None

    Examples
    --------
    >>> import os, tempfile
    >>> from selmix_sk._report import plot_confusion_matrix
    >>> path = os.path.join(tempfile.mkdtemp(), "confusion.png")
    >>> plot_confusion_matrix(path, [0, 0, 1, 1], [0, 1, 1, 1], [0, 1])
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    classes = list(classes)
    counts = confusion_matrix(y_true, y_pred, labels=classes)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    size = 2.5 + 0.45 * len(classes)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(shares, vmin=0.0, vmax=1.0, cmap="Blues")
    figure.colorbar(image, ax=ax, label="share of the true class")
    names = [str(label) for label in classes]
    ticks = np.arange(len(classes))
    rotate = len(classes) > 6
    ax.set_xticks(ticks, names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if len(classes) <= 20:  # beyond that the numbers no longer fit in the cells
        for (row, column), count in np.ndenumerate(counts):
            ax.text(column, row, f"{shares[row, column]:.2f}\n({count})", ha="center",
                    va="center", fontsize=7,
                    color="white" if shares[row, column] > 0.5 else "black")
    if title:
        ax.set_title(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
