"""Metrics of hard predictions for the SelMix objectives, in scikit-learn's style.

Each metric has the signature ``metric(y_true, y_pred, *, labels=None,
sample_weight=None)`` of :mod:`sklearn.metrics`, so that
:func:`sklearn.metrics.make_scorer` takes it unchanged. It builds the
confusion matrix with :func:`sklearn.metrics.confusion_matrix` over
``labels`` (by default every label in ``y_true`` or ``y_pred``), normalises it
and hands it to the matching objective of :mod:`selmix_sk.objectives`, so the
numbers are those that SelMix optimises.

A label in ``labels`` or ``y_pred`` but not in ``y_true`` counts with a recall
of 0, as in ``recall_score(average="macro")``; ``balanced_accuracy_score``
instead leaves such labels out. The harmonic and geometric means read a
recall of 0 as ``1e-6``: they are then tiny but not 0.
"""

import numpy as np
from sklearn.metrics import make_scorer

from ._confusion import normalised_confusion
from .objectives import (
    GMeanRecall,
    HMeanRecall,
    MeanRecall,
    MinHeadTailRecall,
    MinRecall,
    make_objective,
)

__all__ = [
    "coverage_score",
    "gmean_recall_score",
    "hmean_recall_score",
    "make_objective_scorer",
    "mean_recall_score",
    "min_head_tail_recall_score",
    "min_recall_score",
]


def mean_recall_score(y_true, y_pred, *, labels=None, sample_weight=None):
    """Mean of the per-class recalls.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to average over; by default every label in ``y_true`` or
        ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float

    See Also
    --------
    sklearn.metrics.balanced_accuracy_score : The same, except that it leaves
        out labels absent from ``y_true``.
    selmix_sk.objectives.MeanRecall : The objective.

    Examples
    --------
    >>> from selmix_sk.metrics import mean_recall_score
    >>> mean_recall_score([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    0.8333...
    """
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    return MeanRecall().value(C)


def min_recall_score(y_true, y_pred, *, labels=None, sample_weight=None):
    """The worst per-class recall.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to take the minimum over; by default every label in
        ``y_true`` or ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float

    See Also
    --------
    selmix_sk.objectives.MinRecall : The objective.

    Examples
    --------
    >>> from selmix_sk.metrics import min_recall_score
    >>> min_recall_score([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    0.6666...
    """
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    return MinRecall().value(C)


def hmean_recall_score(y_true, y_pred, *, labels=None, sample_weight=None):
    """Harmonic mean of the per-class recalls (recalls clipped at 1e-6).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to average over; by default every label in ``y_true`` or
        ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float

    See Also
    --------
    selmix_sk.objectives.HMeanRecall : The objective.

    Examples
    --------
    >>> from selmix_sk.metrics import hmean_recall_score
    >>> hmean_recall_score([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    0.8
    """
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    return HMeanRecall().value(C)


def gmean_recall_score(y_true, y_pred, *, labels=None, sample_weight=None):
    """Geometric mean of the per-class recalls (recalls clipped at 1e-6).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to average over; by default every label in ``y_true`` or
        ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float

    See Also
    --------
    selmix_sk.objectives.GMeanRecall : The objective.

    Examples
    --------
    >>> from selmix_sk.metrics import gmean_recall_score
    >>> gmean_recall_score([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    0.8164...
    """
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    return GMeanRecall().value(C)


def min_head_tail_recall_score(
    y_true, y_pred, *, labels=None, sample_weight=None, head_fraction=0.9
):
    """The lower of the mean recalls of the head and of the tail classes.

    The head is the ``head_fraction`` most frequent classes in ``y_true``
    (weighted by ``sample_weight``; ties go to the first label), at least one
    class, and the tail the rest, at least one class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to consider, at least two; by default every label in
        ``y_true`` or ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    head_fraction : float, default=0.9
        Share of the classes in the head.

    Returns
    -------
    score : float

    See Also
    --------
    selmix_sk.objectives.MinHeadTailRecall : The objective.

    Examples
    --------
    >>> from selmix_sk.metrics import min_head_tail_recall_score
    >>> y_true = [0, 0, 0, 0, 1, 1, 1, 2, 2]
    >>> y_pred = [0, 0, 0, 0, 1, 1, 0, 2, 0]
    >>> min_head_tail_recall_score(y_true, y_pred, head_fraction=0.6)
    0.5
    """
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    if len(C) < 2:
        raise ValueError(f"min_head_tail_recall_score needs at least two classes, got {len(C)}.")
    objective = MinHeadTailRecall(head_fraction=head_fraction).reset(C.sum(axis=1))
    return objective.value(C)


def coverage_score(y_true, y_pred, *, labels=None, sample_weight=None, average="min"):
    """The smallest ratio of a class's share of predictions to its share of ``y_true``.

    The coverage of class ``l`` is the share of predictions that are ``l``;
    the ratio ``coverage_l / pi_l``, with ``pi_l`` the share of ``l`` in
    ``y_true``, is 1 when the class is predicted exactly as often as it
    occurs. A model meets the constraint ``min_coverage=a`` of
    :class:`~selmix_sk.objectives.ConstrainedObjective` when this score is at
    least ``a``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The classes to consider; by default every label in ``y_true`` or
        ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    average : {"min", None}, default="min"
        ``"min"``: the smallest ratio over the classes present in ``y_true``;
        None: the ratio of every class in ``labels``, NaN for classes absent
        from ``y_true``.

    Returns
    -------
    score : float or ndarray of shape (n_labels,)

    Examples
    --------
    >>> from selmix_sk.metrics import coverage_score
    >>> coverage_score([0, 0, 1, 1], [0, 0, 0, 1])
    0.5
    >>> coverage_score([0, 0, 1, 1], [0, 0, 0, 1], average=None)
    array([1.5, 0.5])
    """
    if average not in ("min", None):
        raise ValueError(f"average must be 'min' or None, got {average!r}.")
    C = normalised_confusion(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    pi = C.sum(axis=1)
    present = pi > 0
    ratio = np.full(len(C), np.nan)
    ratio[present] = C.sum(axis=0)[present] / pi[present]
    if average is None:
        return ratio
    return float(ratio[present].min())


def _objective_score(y_true, y_pred, *, objective, sample_weight=None):
    C = normalised_confusion(y_true, y_pred, sample_weight=sample_weight)
    return make_objective(objective).reset(C.sum(axis=1)).score(C)


def make_objective_scorer(spec, constraints=None):
    """A scikit-learn scorer of hard predictions from an objective specification.

    The scorer builds the normalised confusion matrix over the labels seen in
    ``y_true`` and ``y_pred`` and returns the objective's value on it, with
    the validation class shares as ``class_prior`` (which
    ``min_head_tail_recall`` uses to tell head from tail). With constraints
    it returns :meth:`~selmix_sk.objectives.ConstrainedObjective.penalized_value`:
    the objective when every constraint holds, less otherwise, so that a
    search ranks the models that meet the constraints first.

    Parameters
    ----------
    spec : str, Objective or callable
        Anything :func:`~selmix_sk.objectives.make_objective` accepts.
    constraints : dict, default=None
        ``{"min_recall": t, "min_coverage": a}`` or either key alone.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, sample_weight=None)``, for
        ``GridSearchCV(scoring=...)`` or ``cross_val_score``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from selmix_sk.metrics import make_objective_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> scores = cross_val_score(
    ...     LogisticRegression(max_iter=1000), X, y, cv=3,
    ...     scoring=make_objective_scorer("min_recall"),
    ... )
    >>> scores.round(2)
    array([0.94, 0.88, 0.94])
    """
    return make_scorer(_objective_score, objective=make_objective(spec, constraints))
