"""Post-hoc per-class logit offsets tuned on a validation set.

The plug-in baseline that SelMix is compared with: leave the network alone
and predict ``argmax(logits + offsets)``, with the offsets chosen to maximise
an objective of the validation confusion matrix.
"""

import numpy as np
from sklearn.utils import check_array

from ._confusion import _check_labels
from .objectives import make_objective

__all__ = ["tune_logit_offsets"]

# Log prior ratios of up to e**5 (about 150) in steps of 0.1: enough to undo
# the bias of a classifier trained on a long tail of imbalance 100.
_DEFAULT_GRID = np.round(np.linspace(-5.0, 5.0, 101), 10)
# Objective values closer than this count as ties.
_TIE_TOLERANCE = 1e-12


def _sample_weights(y, n_classes, class_weight):
    if class_weight is None:
        return np.ones(len(y))
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be None, 'balanced' or an array, got {class_weight!r}."
            )
        counts = np.bincount(y, minlength=n_classes)
        class_weight = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    class_weight = np.asarray(class_weight, dtype=np.float64)
    if class_weight.shape != (n_classes,) or not np.all(np.isfinite(class_weight)):
        raise ValueError(
            f"class_weight must be {n_classes} finite numbers, got {class_weight!r}."
        )
    if np.any(class_weight < 0):
        raise ValueError(f"class_weight must be non-negative, got {class_weight!r}.")
    return class_weight[y]


def _values_over_candidates(logits, y, weights, offsets, k, candidates, objective):
    """The objective with ``offsets[k]`` replaced by each candidate, all at once.

    Only the choice between class ``k`` and the best other class depends on
    ``offsets[k]``, so one pass over the samples gives the predictions of
    every candidate; ties go to the lower class index, as in ``np.argmax``.
    """
    n_samples, n_classes = logits.shape
    others = logits + offsets
    others[:, k] = -np.inf
    runner_up = others.argmax(axis=1)
    runner_up_score = others[np.arange(n_samples), runner_up]
    score_k = logits[None, :, k] + candidates[:, None]
    pick_k = (score_k > runner_up_score) | ((score_k == runner_up_score) & (k < runner_up))
    y_pred = np.where(pick_k, k, runner_up)
    cells = (np.arange(len(candidates))[:, None] * n_classes + y) * n_classes + y_pred
    counts = np.bincount(
        cells.ravel(), weights=np.tile(weights, len(candidates)),
        minlength=len(candidates) * n_classes**2,
    )
    total = weights.sum()
    confusions = counts.reshape(len(candidates), n_classes, n_classes) / total
    return np.array([objective.score(C) for C in confusions])


def tune_logit_offsets(logits, y, objective, *, n_rounds=5, grid=None, class_weight=None):
    """Per-class logit offsets that maximise an objective on validation data.

    Coordinate ascent: in each round, every class in turn gets the offset,
    among the values of ``grid`` and its current one, that maximises
    ``objective.score`` of the normalised confusion matrix of
    ``argmax(logits + offsets)``, the others held fixed. Ties go to the
    smallest ``|offset|`` (and then to the current one), so that offsets do
    not drift along plateaus. Rounds stop early once no offset changes. The
    search is deterministic and vectorised over the grid.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Validation scores (logits or log-probabilities; offsets are added to
        them, so their scale sets the scale of the grid).
    y : array-like of shape (n_samples,)
        True labels in ``0 .. n_classes - 1``.
    objective : Objective or str
        Such as ``make_objective("min_recall")``, or the name of a built-in
        objective. Offsets maximise ``objective.score(C)``: the value, penalised
        where a constraint fails.
    n_rounds : int, default=5
        Most rounds of coordinate ascent.
    grid : array-like of shape (n_values,), default=None
        Candidate offsets; ``numpy.linspace(-5, 5, 101)`` if None.
    class_weight : None, "balanced" or array-like of shape (n_classes,), default=None
        Weight of every validation sample of each class in the confusion
        matrix: to make the validation set stand for a test distribution with
        other class shares. "balanced" weighs classes as if equally frequent.
        Recall-based objectives do not depend on it.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
        Add them to the logits before the argmax. Offsets are defined up to a
        common constant; they are returned with median 0.

    See Also
    --------
    selmix_sk._confusion.confusion_from_predictions : The normalised confusion matrix.

    Examples
    --------
    A classifier biased against class 2 gets it back:

    >>> import numpy as np
    >>> from selmix_sk._confusion import confusion_from_predictions
    >>> from selmix_sk._offsets import tune_logit_offsets
    >>> from selmix_sk.objectives import make_objective
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 200)
    >>> logits = 3.0 * np.eye(3)[y] + rng.normal(size=(600, 3))
    >>> logits[:, 2] -= 3.0
    >>> objective = make_objective("min_recall")
    >>> objective.value(confusion_from_predictions(y, logits.argmax(1), 3))
    0.285
    >>> offsets = tune_logit_offsets(logits, y, objective)
    >>> offsets
    array([ 0. , -0.5,  3. ])
    >>> objective.value(confusion_from_predictions(y, (logits + offsets).argmax(1), 3))
    0.955
    """
    logits = check_array(logits, dtype=np.float64, ensure_min_features=2)
    n_samples, n_classes = logits.shape
    y = _check_labels(y, n_samples, n_classes)
    if isinstance(objective, str):
        objective = make_objective(objective)
    if isinstance(n_rounds, bool) or not isinstance(n_rounds, (int, np.integer)) or n_rounds < 1:
        raise ValueError(f"n_rounds must be a positive integer, got {n_rounds!r}.")
    grid = _DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError("grid must be a non-empty 1-d array of finite numbers.")
    weights = _sample_weights(y, n_classes, class_weight)
    if weights.sum() <= 0:
        raise ValueError("The validation samples have a total weight of 0.")

    offsets = np.zeros(n_classes)
    for _ in range(n_rounds):
        changed = False
        for k in range(n_classes):
            # The current offset first, then a stable sort by |offset|: the first
            # candidate within the tie tolerance of the best is the one to keep.
            candidates = np.concatenate([[offsets[k]], grid])
            candidates = candidates[np.argsort(np.abs(candidates), kind="stable")]
            values = _values_over_candidates(logits, y, weights, offsets, k, candidates,
                                             objective)
            best = candidates[np.argmax(values >= values.max() - _TIE_TOLERANCE)]
            if best != offsets[k]:
                offsets[k] = best
                changed = True
        if not changed:
            break
    # Adding a constant to every offset changes no prediction: report the
    # representative that moves the fewest classes.
    return offsets - np.median(offsets)
