"""Objectives: functions of the confusion matrix that SelMix maximises.

An objective sees the validation confusion matrix ``C`` normalised to sum to 1
(rows are true classes, columns predictions) and offers

- ``value(C)``: the number the user cares about (the min recall, say);
- ``gradient(C)``: ``D = d psi / d C``, a K x K array, where psi is the
  objective or, for a max-min or constrained one, its Lagrangian;
- ``update(C)``: advances the Lagrange multipliers, once per gain refresh;
- ``reset(class_prior)``: back to the initial multipliers, at the start of a
  fine-tuning run, with the training class shares.

:func:`make_objective` builds one from a specification, read in this order:

1. an :class:`Objective`: copied;
2. a string: a built-in name (``"mean_recall"``, ``"min_recall"``,
   ``"min_head_tail_recall"``, ``"hmean"``, ``"gmean"``,
   ``"mean_recall_min_coverage"``), else a scikit-learn scorer name
   (``"f1_macro"``, ``"matthews_corrcoef"``, ...); built-in names win;
3. a callable whose first parameter is named ``estimator``: a scorer,
   ``scorer(estimator, X, y_true, sample_weight=...)``, such as the objects
   that :func:`sklearn.metrics.make_scorer` returns (:class:`ScorerObjective`);
4. a callable whose first two parameters are named ``y_true`` and ``y_pred``
   (or ``labels_true`` and ``labels_pred``): a metric of hard predictions,
   taken as greater-is-better (wrap a loss in
   ``make_scorer(loss, greater_is_better=False)``); a first parameter
   ``y_true`` followed by anything else (``y_score``, ``y_prob``) is a metric
   of scores, refused;
5. any other callable: a function of the confusion matrix
   (:class:`ConfusionObjective`), in torch if it maps a tensor that requires
   grad to a tensor that requires grad, in NumPy otherwise.

``balanced_accuracy`` and ``recall_macro`` are the mean recall: they become
:class:`MeanRecall`, with its analytic gradient. Other scorers and metrics are
evaluated on a fractional ``C`` through K^2 weighted pseudo-samples, one per
cell ``(k, l)`` with ``y_true=k``, ``y_pred=l`` and ``sample_weight=C[k, l]``,
cells of weight 0 included, so that the metric sees all K classes (as the
class indices ``0, ..., K-1``) without being passed ``labels``. Their metric
must therefore accept ``sample_weight``; those that do not (the clustering
scores, ``max_error``, the likelihood ratios) are refused: repeating
pseudo-samples an integer number of times would make the objective piecewise
constant and its gradient zero. Their gradient, like that of NumPy
functions of ``C``, is a central difference with step ``1e-4`` times the sum
of ``C`` (a second-order forward difference where a cell is smaller than the
step, so that ``C`` stays non-negative): about 2 K^2 metric calls per
gradient. Scorers that read ``predict_proba`` or ``decision_function`` (ROC
AUC, log loss, average precision, ...) are not functions of the confusion
matrix and are refused.

Recalls are ``C[k, k] / pi[k]`` with ``pi[k] = sum_l C[k, l]``, and gradients
differentiate through ``pi`` too. Degenerate matrices give finite values and
gradients:

- a class with an empty row (absent from the validation set, or a share of
  at most 1e-12) has recall 0, a finite gradient, and satisfies recall and
  coverage constraints vacuously;
- objectives that divide by a recall (H-mean, G-mean) clip it at ``1e-6``,
  so a recall of 0 gives a finite value and a large but finite gradient;
- a class never predicted needs nothing special from the built-in
  objectives; scikit-learn metrics give ill-defined terms their
  ``zero_division`` value, and their gradient, which then spans a
  discontinuity, can be large but stays finite;
- an all-zero ``C`` carries no information: built-in objectives read every
  recall as 0, scorers and metrics read it as the uniform matrix.

Functions of ``C`` written by the user must keep their value and gradient
finite themselves; a NaN or infinity raises a ValueError naming the
objective rather than reaching the gain.
"""

import copy
import inspect
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import balanced_accuracy_score, get_scorer, make_scorer, recall_score

from ._confusion import EMPTY_ROW, recalls

__all__ = [
    "ConfusionObjective",
    "ConstrainedObjective",
    "GMeanRecall",
    "HMeanRecall",
    "MeanRecall",
    "MeanRecallMinCoverage",
    "MinHeadTailRecall",
    "MinRecall",
    "Objective",
    "ScorerObjective",
    "make_objective",
]

_RECALL_FLOOR = 1e-6
_STEP = 1e-4
_CONSTRAINTS = ("min_recall", "min_coverage")


def _recall_chain(C, dpsi_drecall):
    """``d psi / d C`` from ``d psi / d recall``, with ``pi`` a function of ``C``."""
    recall, safe_pi = recalls(C)
    D = np.repeat(-(dpsi_drecall * recall / safe_pi)[:, None], len(C), axis=1)
    D.flat[:: len(C) + 1] += dpsi_drecall / safe_pi  # the diagonal
    return D


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _central_differences(func, C):
    """``d func / d C`` by second-order differences that keep ``C`` non-negative.

    Central where a cell is at least one step from 0; forward, on ``C``,
    ``C + step`` and ``C + 2 step``, where it is not.
    """
    total = C.sum()
    step = _STEP * (total if total > 0 else 1.0)
    at_C = None
    D = np.empty_like(C)
    for cell in np.ndindex(C.shape):
        near, far = C.copy(), C.copy()
        if C[cell] >= step:
            near[cell] -= step
            far[cell] += step
            D[cell] = (func(far) - func(near)) / (2 * step)
            continue
        if at_C is None:
            at_C = func(C)
        near[cell] += step
        far[cell] += 2 * step
        D[cell] = (4 * func(near) - func(far) - 3 * at_C) / (2 * step)
    return D


def _check_finite(objective, what, value):
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"The {what} of {objective!r} is not finite on this confusion matrix; a function "
            "of the confusion matrix must guard its divisions (an empty row, a class never "
            "predicted, an all-zero matrix)."
        )
    return value


class Objective:
    """Base class of objectives: a function of the normalised confusion matrix.

    Subclasses implement :meth:`value` and :meth:`gradient`; those with
    Lagrange multipliers also override :meth:`reset` and :meth:`update`.

    Attributes
    ----------
    multipliers : ndarray or None
        The Lagrange multipliers in force, None for objectives without any.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import Objective
    >>> class Accuracy(Objective):
    ...     name = "accuracy"
    ...     def value(self, C):
    ...         return float(np.trace(C))
    ...     def gradient(self, C):
    ...         return np.eye(len(C))
    >>> Accuracy().value(np.array([[0.4, 0.1], [0.2, 0.3]]))
    0.7
    """

    name = "objective"
    multipliers = None

    def reset(self, class_prior=None):
        """Start a fine-tuning run: multipliers back to their initial values.

        Parameters
        ----------
        class_prior : ndarray of shape (K,), default=None
            Share of each class in the training data.
        """
        return self

    def update(self, C):
        """Advance the Lagrange multipliers from the confusion matrix ``C``."""
        return self

    def value(self, C):
        """The objective on the normalised confusion matrix ``C``."""
        raise NotImplementedError

    def gradient(self, C):
        """``d psi / d C``, an array of the shape of ``C``."""
        raise NotImplementedError

    def score(self, C):
        """The number to rank models by: :meth:`value`, lower where constraints fail."""
        return self.value(C)

    def __repr__(self):
        parameters = list(inspect.signature(type(self).__init__).parameters.values())[1:]
        params = ", ".join(
            f"{p.name}={getattr(self, p.name)!r}"
            for p in parameters
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
        return f"{type(self).__name__}({params})"


class MeanRecall(Objective):
    """Mean of the per-class recalls (balanced accuracy).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import MeanRecall
    >>> MeanRecall().value(np.array([[0.4, 0.1], [0.25, 0.25]]))
    0.65
    """

    name = "mean_recall"

    def value(self, C):
        return float(recalls(C)[0].mean())

    def gradient(self, C):
        K = len(C)
        return _recall_chain(C, np.full(K, 1.0 / K))


class MinRecall(Objective):
    """Worst per-class recall, through a Lagrangian of weighted recalls.

    psi = sum_k w_k recall_k, with ``w <- normalise(w**beta * exp(-eta * recall))``
    at every refresh: the weight moves to the classes with the lowest recall.
    The paper's choice, ``beta=0``, gives ``w = softmax(-eta * recall)``.

    Parameters
    ----------
    eta : float, default=50.0
        Step size of the multiplicative update.
    beta : float, default=0.0
        Memory of the previous weights, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import MinRecall
    >>> C = np.array([[0.45, 0.05], [0.2, 0.3]])
    >>> objective = MinRecall().reset()
    >>> objective.value(C)
    0.6
    >>> objective.update(C).multipliers.round(3)
    array([0., 1.])
    """

    name = "min_recall"

    def __init__(self, eta=50.0, beta=0.0):
        self.eta = eta
        self.beta = beta

    def _groups(self, K):
        return np.eye(K)

    def reset(self, class_prior=None):
        self.class_prior_ = None if class_prior is None else np.asarray(class_prior, float)
        self.multipliers = None
        return self

    def _group_recalls(self, C):
        groups = self._groups(len(C))
        return groups @ recalls(C)[0] / groups.sum(axis=1), groups

    def update(self, C):
        group_recall, _ = self._group_recalls(C)
        previous = self.multipliers
        if previous is None:
            previous = np.full(len(group_recall), 1.0 / len(group_recall))
        logits = self.beta * np.log(np.maximum(previous, 1e-300)) - self.eta * group_recall
        self.multipliers = _softmax(logits)
        return self

    def value(self, C):
        return float(self._group_recalls(C)[0].min())

    def gradient(self, C):
        group_recall, groups = self._group_recalls(C)
        weights = self.multipliers
        if weights is None:
            weights = np.full(len(group_recall), 1.0 / len(group_recall))
        dpsi_drecall = (weights / groups.sum(axis=1)) @ groups
        return _recall_chain(C, dpsi_drecall)


class MinHeadTailRecall(MinRecall):
    """The lower of the mean recalls of the head and the tail classes.

    The head is the ``head_fraction`` most frequent classes of the training
    data (from ``reset(class_prior)``; without a prior, the first classes),
    the tail the rest, at least one class.

    Parameters
    ----------
    head_fraction : float, default=0.9
        Share of the classes in the head.
    eta, beta : float
        As in :class:`MinRecall`, over the two groups.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import MinHeadTailRecall
    >>> C = np.diag([0.3, 0.3, 0.1]) + np.array([[0, 0, 0], [0, 0, 0], [0.2, 0, 0]])
    >>> MinHeadTailRecall(head_fraction=0.6).reset([0.5, 0.3, 0.2]).value(C)
    0.3333...
    """

    name = "min_head_tail_recall"

    def __init__(self, head_fraction=0.9, eta=50.0, beta=0.0):
        super().__init__(eta=eta, beta=beta)
        self.head_fraction = head_fraction

    def _groups(self, K):
        n_head = int(np.clip(round(self.head_fraction * K), 1, K - 1))
        prior = getattr(self, "class_prior_", None)
        order = np.arange(K) if prior is None else np.argsort(-prior, kind="stable")
        groups = np.zeros((2, K))
        groups[0, order[:n_head]] = 1.0
        groups[1, order[n_head:]] = 1.0
        return groups


class HMeanRecall(Objective):
    """Harmonic mean of the per-class recalls (recalls clipped at 1e-6).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import HMeanRecall
    >>> HMeanRecall().value(np.array([[0.5, 0.0], [0.25, 0.25]]))
    0.6666...
    """

    name = "hmean"

    def value(self, C):
        recall = np.maximum(recalls(C)[0], _RECALL_FLOOR)
        return float(len(recall) / np.sum(1.0 / recall))

    def gradient(self, C):
        recall = np.maximum(recalls(C)[0], _RECALL_FLOOR)
        psi = len(recall) / np.sum(1.0 / recall)
        return _recall_chain(C, psi**2 / (len(recall) * recall**2))


class GMeanRecall(Objective):
    """Geometric mean of the per-class recalls (recalls clipped at 1e-6).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import GMeanRecall
    >>> GMeanRecall().value(np.array([[0.5, 0.0], [0.25, 0.25]]))
    0.7071...
    """

    name = "gmean"

    def value(self, C):
        recall = np.maximum(recalls(C)[0], _RECALL_FLOOR)
        return float(np.exp(np.mean(np.log(recall))))

    def gradient(self, C):
        recall = np.maximum(recalls(C)[0], _RECALL_FLOOR)
        psi = np.exp(np.mean(np.log(recall)))
        return _recall_chain(C, psi / (len(recall) * recall))


def _check_thresholds(thresholds):
    """The constraints that are set, in a fixed order, after checking them."""
    unknown = sorted(set(thresholds) - set(_CONSTRAINTS))
    if unknown:
        raise ValueError(
            f"Unknown constraint(s) {', '.join(map(repr, unknown))}. Valid constraints: "
            f"{', '.join(_CONSTRAINTS)}."
        )
    checked = {}
    for name in _CONSTRAINTS:
        threshold = thresholds.get(name)
        if threshold is None:
            continue
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not 0.0 <= threshold <= 1.0
        ):
            raise ValueError(f"{name} must be a number in [0, 1], got {threshold!r}.")
        checked[name] = float(threshold)
    return checked


class ConstrainedObjective(Objective):
    """An objective maximised subject to a minimum recall and coverage per class.

    The constraints, each holding for every class ``l``, are
    ``recall_l >= min_recall`` and ``coverage_l >= min_coverage * pi_l``, where
    ``coverage_l = sum_k C[k, l]`` is the share of predictions of class ``l``
    and ``pi_l = sum_k C[l, k]`` its share of the validation set. Each class
    and constraint has a Lagrange multiplier, recomputed from the slack ``s``
    (constraint minus threshold) at every :meth:`update`:
    ``mu = max(mu_max * (1 - exp(s / tau)), 0)``, zero when the constraint
    holds. SelMix then ascends the Lagrangian
    ``psi = (f + sum mu * s) / (max mu + 1)``.

    A class absent from the validation set (an empty row) satisfies both
    constraints.

    Parameters
    ----------
    objective : Objective or str or callable
        The objective ``f`` to maximise, any specification that
        :func:`make_objective` accepts.
    min_recall : float in [0, 1], default=None
        Smallest recall allowed for any class; None for no recall constraint.
    min_coverage : float in [0, 1], default=None
        Smallest ratio of a class's share of predictions to its share of the
        validation set; None for no coverage constraint.
    tau : float, default=0.01
        Softness of the multipliers: they reach ``mu_max`` for violations
        much larger than ``tau``.
    mu_max : float, default=100.0
        Largest multiplier.

    Attributes
    ----------
    objective_ : Objective
        The objective ``f`` in use, built by :meth:`reset`.
    multipliers : ndarray of shape (n_constraints * K,) or None
        The multipliers of the recall constraints, then those of the
        coverage constraints, of the constraints that are set; None before the
        first :meth:`update`.

    See Also
    --------
    MeanRecallMinCoverage : The paper's coverage-constrained mean recall.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import ConstrainedObjective
    >>> C = np.array([[0.45, 0.05], [0.2, 0.3]])
    >>> objective = ConstrainedObjective("gmean", min_recall=0.7).reset()
    >>> round(objective.value(C), 4)
    0.7348
    >>> {name: s.round(2) for name, s in objective.constraint_slack(C).items()}
    {'min_recall': array([ 0.2, -0.1])}
    >>> objective.update(C).multipliers.round(1)
    array([  0., 100.])
    """

    name = "constrained"

    def __init__(self, objective, *, min_recall=None, min_coverage=None, tau=0.01, mu_max=100.0):
        self.objective = objective
        self.min_recall = min_recall
        self.min_coverage = min_coverage
        self.tau = tau
        self.mu_max = mu_max

    def _thresholds(self):
        return _check_thresholds({"min_recall": self.min_recall, "min_coverage": self.min_coverage})

    def _inner(self):
        # value() and gradient() are usable without a reset(), like the other objectives.
        if not hasattr(self, "objective_"):
            self.reset()
        return self.objective_

    def _multipliers(self, slack):
        # -expm1 of a non-positive number is 1 - exp(slack / tau) where the constraint is
        # violated and 0 where it holds, without overflowing for large slacks.
        return -self.mu_max * np.expm1(np.minimum(slack / self.tau, 0.0))

    def _stacked_slack(self, C):
        # The zero-length start keeps a ConstrainedObjective without constraints valid.
        return np.concatenate([np.zeros(0), *self.constraint_slack(C).values()])

    def reset(self, class_prior=None):
        self._thresholds()
        self.objective_ = make_objective(self.objective).reset(class_prior)
        self.multipliers = None
        return self

    def constraint_slack(self, C):
        """How far each class is from violating each constraint that is set.

        Parameters
        ----------
        C : ndarray of shape (K, K)
            Normalised confusion matrix.

        Returns
        -------
        slack : dict of str to ndarray of shape (K,)
            ``"min_recall"``: ``recall_l - min_recall``, 0 for an empty row;
            ``"min_coverage"``: ``coverage_l - min_coverage * pi_l``. Negative
            entries are violations.

        Examples
        --------
        >>> import numpy as np
        >>> from selmix_sk.objectives import ConstrainedObjective
        >>> C = np.array([[0.5, 0.0], [0.3, 0.2]])
        >>> ConstrainedObjective("mean_recall", min_coverage=0.9).constraint_slack(C)
        {'min_coverage': array([ 0.35, -0.25])}
        """
        pi = C.sum(axis=1)
        slack = {}
        for name, threshold in self._thresholds().items():
            if name == "min_recall":
                slack[name] = np.where(pi > EMPTY_ROW, recalls(C)[0] - threshold, 0.0)
            else:
                slack[name] = C.sum(axis=0) - threshold * pi
        return slack

    def update(self, C):
        self._inner().update(C)
        self.multipliers = self._multipliers(self._stacked_slack(C))
        return self

    def value(self, C):
        """The objective ``f`` on ``C``, whether or not the constraints hold."""
        return self._inner().value(C)

    def penalized_value(self, C):
        """``f(C) + sum mu * slack``, with the multipliers that ``C`` itself implies.

        Equal to :meth:`value` when every constraint holds and lower the more
        they are violated: a single number to rank models by, which
        :func:`~selmix_sk.metrics.make_objective_scorer` uses.

        Parameters
        ----------
        C : ndarray of shape (K, K)
            Normalised confusion matrix.

        Returns
        -------
        value : float

        Examples
        --------
        >>> import numpy as np
        >>> from selmix_sk.objectives import ConstrainedObjective
        >>> objective = ConstrainedObjective("mean_recall", min_recall=0.5)
        >>> objective.penalized_value(np.array([[0.4, 0.1], [0.2, 0.3]]))
        0.7
        >>> round(objective.penalized_value(np.array([[0.5, 0.0], [0.3, 0.2]])), 4)
        -9.2995
        """
        slack = self._stacked_slack(C)
        return float(self.value(C) + self._multipliers(slack) @ slack)

    score = penalized_value

    def gradient(self, C):
        D = self._inner().gradient(C)
        if self.multipliers is None:
            return D
        thresholds = self._thresholds()
        K = len(C)
        mu = dict(zip(thresholds, self.multipliers.reshape(len(thresholds), K), strict=True))
        if "min_recall" in mu:
            D = D + _recall_chain(C, mu["min_recall"])
        if "min_coverage" in mu:
            # coverage_l - alpha pi_l rises with column l and falls with row l of C.
            coverage_mu = mu["min_coverage"]
            D = D + coverage_mu[None, :] - thresholds["min_coverage"] * coverage_mu[:, None]
        return D / (self.multipliers.max(initial=0.0) + 1.0)


class MeanRecallMinCoverage(ConstrainedObjective):
    """Mean recall subject to every class's share of predictions.

    The constraint is ``coverage_l >= alpha * pi_l`` (``alpha / K`` on a
    balanced validation set), with ``coverage_l = sum_k C[k, l]``: the
    :class:`ConstrainedObjective` of :class:`MeanRecall` with
    ``min_coverage=alpha``. The Lagrangian is
    ``mean recall + sum_l mu_l (coverage_l - alpha * pi_l)`` scaled by
    ``1 / (max mu + 1)``, with
    ``mu_l = max(mu_max * (1 - exp((coverage_l - alpha * pi_l) / tau)), 0)``
    recomputed at every refresh. :meth:`value` is the mean recall.

    Parameters
    ----------
    alpha : float, default=0.95
    tau : float, default=0.01
    mu_max : float, default=100.0

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import MeanRecallMinCoverage
    >>> C = np.array([[0.5, 0.0], [0.3, 0.2]])
    >>> objective = MeanRecallMinCoverage().reset()
    >>> objective.update(C).multipliers.round(1)
    array([ 0., 100.])
    """

    name = "mean_recall_min_coverage"
    objective = "mean_recall"
    min_recall = None

    def __init__(self, alpha=0.95, tau=0.01, mu_max=100.0):
        self.alpha = alpha
        self.tau = tau
        self.mu_max = mu_max

    @property
    def min_coverage(self):
        return self.alpha

    def coverage_slack(self, C):
        """``coverage_l - alpha * pi_l`` for every class ``l``.

        Examples
        --------
        >>> import numpy as np
        >>> from selmix_sk.objectives import MeanRecallMinCoverage
        >>> MeanRecallMinCoverage().coverage_slack(np.array([[0.5, 0.0], [0.3, 0.2]]))
        array([ 0.325, -0.275])
        """
        return self.constraint_slack(C)["min_coverage"]


class _StoredPredictions(ClassifierMixin, BaseEstimator):
    """A fitted stand-in classifier whose predictions for row ``i`` are ``y_pred[i]``."""

    def __init__(self, y_pred):
        self.y_pred = y_pred

    def predict(self, X):
        return self.y_pred[np.asarray(X)]


def _accepts_sample_weight(func):
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


class ScorerObjective(Objective):
    """A scikit-learn scorer of hard predictions, on a fractional confusion matrix.

    The scorer sees K^2 pseudo-samples, one per cell ``(k, l)`` of ``C``,
    with true class ``k``, prediction ``l`` (class indices) and sample weight
    ``C[k, l]``, predicted by a stand-in classifier; an all-zero ``C`` is read
    as the uniform matrix. The value keeps the scorer's sign convention
    (``neg_*`` scorers are negative; higher is better). The gradient is a
    central difference on ``C``: 2 K^2 scorer calls, of about a millisecond
    each.

    Parameters
    ----------
    scorer : str or callable
        A scorer name (:func:`sklearn.metrics.get_scorer_names`) or a scorer,
        ``scorer(estimator, X, y_true, sample_weight=None)``, for example from
        :func:`sklearn.metrics.make_scorer`. Its metric must accept
        ``sample_weight``, and it must need no more than ``predict``.

    See Also
    --------
    make_objective : Turns balanced accuracy into :class:`MeanRecall`.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.objectives import ScorerObjective
    >>> C = np.array([[0.4, 0.1], [0.2, 0.3]])
    >>> round(ScorerObjective("f1_macro").value(C), 4)
    0.6970
    >>> ScorerObjective("f1_macro").gradient(C).round(2)
    array([[ 0.25, -0.7 ],
           [-0.7 ,  0.37]])
    >>> ScorerObjective("roc_auc")
    Traceback (most recent call last):
        ...
    ValueError: The scorer make_scorer(roc_auc_score, ...) reads decision_function or ...
    """

    name = "scorer"

    def __init__(self, scorer):
        self.scorer = scorer
        self._scorer = get_scorer(scorer)
        methods = getattr(self._scorer, "_response_method", "predict")
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        if "predict" not in methods:
            raise ValueError(
                f"The scorer {self._scorer!r} reads {' or '.join(methods)}, so it is not a "
                "function of the confusion matrix of hard predictions; SelMix can only "
                "optimise such functions (accuracy, F1, balanced accuracy, MCC, ...)."
            )
        metric = getattr(self._scorer, "_score_func", self._scorer)
        if not _accepts_sample_weight(metric):
            raise ValueError(
                f"The metric of {self._scorer!r} does not accept sample_weight, which a "
                "fractional confusion matrix needs; write the objective as a function of the "
                "confusion matrix instead (ConfusionObjective)."
            )

    def _score(self, C):
        K = len(C)
        if not C.any():
            C = np.full((K, K), 1.0 / K**2)
        y_true, y_pred = np.divmod(np.arange(K * K), K)
        stand_in = _StoredPredictions(y_pred)
        stand_in.classes_ = np.arange(K)
        return float(self._scorer(stand_in, np.arange(K * K), y_true, sample_weight=C.ravel()))

    def value(self, C):
        return _check_finite(self, "value", self._score(np.asarray(C, dtype=float)))

    def gradient(self, C):
        C = np.asarray(C, dtype=float)
        if not C.any():
            C = np.full(C.shape, 1.0 / C.size)
        with warnings.catch_warnings():
            # Ill-defined terms are expected in degenerate matrices: value() reports them once.
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            return _check_finite(self, "gradient", _central_differences(self._score, C))


class ConfusionObjective(Objective):
    """A function of the normalised confusion matrix, in NumPy or in torch.

    Parameters
    ----------
    func : callable
        ``func(C) -> float`` on a K x K NumPy array (``backend="numpy"``), or
        ``func(C) -> scalar tensor`` on a float64 tensor (``backend="torch"``).
    backend : {"auto", "numpy", "torch"}, default="auto"
        How to differentiate ``func``: ``"torch"`` by autograd, ``"numpy"``
        by central differences on ``C`` (2 K^2 calls). ``"auto"`` calls
        ``func`` once on a tensor that requires grad and picks ``"torch"`` if
        the result is a tensor that requires grad, ``"numpy"`` otherwise
        (including when the call fails).

    Attributes
    ----------
    backend_ : {"numpy", "torch"}
        The backend in use, set at the first :meth:`value` or
        :meth:`gradient`.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from selmix_sk.objectives import ConfusionObjective
    >>> C = np.array([[0.4, 0.1], [0.2, 0.3]])
    >>> accuracy = ConfusionObjective(lambda C: torch.trace(C) / C.sum())
    >>> accuracy.gradient(C).round(2)
    array([[ 0.3, -0.7],
           [-0.7,  0.3]])
    >>> accuracy.backend_
    'torch'
    >>> worst_precision = ConfusionObjective(lambda C: np.min(np.diag(C) / C.sum(axis=0)))
    >>> round(worst_precision.value(C), 4)
    0.6667
    >>> worst_precision.backend_
    'numpy'
    """

    name = "confusion"

    def __init__(self, func, backend="auto"):
        self.func = func
        self.backend = backend

    def _backend(self, C):
        if self.backend in ("numpy", "torch"):
            self.backend_ = self.backend
        elif self.backend != "auto":
            raise ValueError(f"backend must be 'auto', 'numpy' or 'torch', got {self.backend!r}.")
        elif not hasattr(self, "backend_"):
            probe = torch.tensor(C, dtype=torch.float64, requires_grad=True)
            try:
                result = self.func(probe)
            # Whatever a NumPy function raises on a tensor means it is not written in torch.
            except Exception:
                result = None
            is_torch = isinstance(result, torch.Tensor) and result.requires_grad
            self.backend_ = "torch" if is_torch else "numpy"
        return self.backend_

    def _numpy_value(self, C):
        return float(self.func(C.copy()))

    def value(self, C):
        C = np.asarray(C, dtype=float)
        if self._backend(C) == "torch":
            with torch.no_grad():
                value = float(self.func(torch.tensor(C, dtype=torch.float64)))
        else:
            value = self._numpy_value(C)
        return _check_finite(self, "value", value)

    def gradient(self, C):
        C = np.asarray(C, dtype=float)
        if self._backend(C) == "numpy":
            return _check_finite(self, "gradient", _central_differences(self._numpy_value, C))
        tensor = torch.tensor(C, dtype=torch.float64, requires_grad=True)
        result = self.func(tensor)
        if not result.requires_grad:
            return np.zeros_like(C)
        (grad,) = torch.autograd.grad(result, tensor, allow_unused=True)
        grad = np.zeros_like(C) if grad is None else grad.numpy()
        return _check_finite(self, "gradient", grad)


_BUILTINS = {
    cls.name: cls
    for cls in (
        MeanRecall,
        MinRecall,
        MinHeadTailRecall,
        HMeanRecall,
        GMeanRecall,
        MeanRecallMinCoverage,
    )
}


def _is_mean_recall(scorer):
    """Whether ``scorer`` computes the mean recall over the classes, sign included."""
    metric = getattr(scorer, "_score_func", None)
    kwargs = getattr(scorer, "_kwargs", None)
    if getattr(scorer, "_sign", None) != 1 or kwargs is None:
        return False
    if metric is balanced_accuracy_score:
        return not kwargs.get("adjusted", False) and set(kwargs) <= {"adjusted"}
    if metric is recall_score:
        return kwargs.get("average") == "macro" and set(kwargs) <= {"average", "pos_label"}
    return False


def _from_scorer(scorer):
    scorer = get_scorer(scorer)
    return MeanRecall() if _is_mean_recall(scorer) else ScorerObjective(scorer)


def _from_callable(func):
    try:
        parameters = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        parameters = []
    if parameters[:1] == ["estimator"]:
        return _from_scorer(func)
    if parameters[:2] in (["y_true", "y_pred"], ["labels_true", "labels_pred"]):
        return _from_scorer(make_scorer(func))
    if parameters[:1] == ["y_true"]:
        raise ValueError(
            f"The metric {getattr(func, '__name__', func)!r} takes "
            f"{parameters[1] if len(parameters) > 1 else 'no predictions'} rather than "
            "y_pred; SelMix can only optimise functions of the confusion matrix of hard "
            "predictions. A metric of predictions must name its first two parameters "
            "y_true and y_pred."
        )
    return ConfusionObjective(func)


def make_objective(spec, constraints=None):
    """An :class:`Objective` from a name, a scorer, a metric or a function.

    Parameters
    ----------
    spec : str, Objective or callable
        Read in this order (see the module docstring for the details):

        - an :class:`Objective`, copied so that fitting never changes it;
        - a built-in name: ``"mean_recall"``, ``"min_recall"``,
          ``"min_head_tail_recall"``, ``"hmean"``, ``"gmean"``,
          ``"mean_recall_min_coverage"``;
        - a scikit-learn scorer name, such as ``"f1_macro"``,
          ``"matthews_corrcoef"`` or ``"accuracy"``; ``"balanced_accuracy"``
          and ``"recall_macro"`` give :class:`MeanRecall`;
        - a scorer, a callable whose first parameter is named ``estimator``
          (:class:`ScorerObjective`);
        - a metric, a callable whose first two parameters are named
          ``y_true`` and ``y_pred``, greater is better;
        - any other callable, a function of the confusion matrix
          (:class:`ConfusionObjective`, NumPy or torch).
    constraints : dict, default=None
        ``{"min_recall": t, "min_coverage": a}`` or either key alone, each
        in [0, 1]: wrap the objective in a :class:`ConstrainedObjective`
        with its default ``tau`` and ``mu_max``.

    Returns
    -------
    objective : Objective
        A fresh objective, reset.

    Raises
    ------
    ValueError
        For an unknown name or constraint, a threshold outside [0, 1], or a
        scorer or metric that is not a function of the confusion matrix of
        hard predictions.

    Examples
    --------
    >>> from selmix_sk.objectives import make_objective
    >>> make_objective("min_recall")
    MinRecall(eta=50.0, beta=0.0)
    >>> make_objective("balanced_accuracy")
    MeanRecall()
    >>> make_objective("f1_macro")
    ScorerObjective(scorer=make_scorer(f1_score, ...))
    >>> make_objective("hmean", constraints={"min_coverage": 0.9})
    ConstrainedObjective(objective=HMeanRecall(), min_recall=None, min_coverage=0.9, ...)
    """
    if isinstance(spec, Objective):
        objective = copy.deepcopy(spec)
    elif isinstance(spec, str):
        if spec in _BUILTINS:
            objective = _BUILTINS[spec]()
        else:
            try:
                objective = _from_scorer(spec)
            except ValueError as exc:
                if "not a valid scoring value" not in str(exc):
                    raise
                raise ValueError(
                    f"Unknown objective {spec!r}. Valid names: {', '.join(sorted(_BUILTINS))}, "
                    "or a scikit-learn scorer name (sklearn.metrics.get_scorer_names())."
                ) from None
    elif callable(spec):
        objective = _from_callable(spec)
    else:
        raise TypeError(
            "objective must be a name, an Objective, a scorer, a metric or a function of the "
            f"confusion matrix, got {type(spec).__name__}."
        )
    if constraints is not None and not isinstance(constraints, dict):
        raise TypeError(f"constraints must be a dict, got {type(constraints).__name__}.")
    if constraints and _check_thresholds(constraints):
        objective = ConstrainedObjective(objective, **constraints)
    return objective.reset()
