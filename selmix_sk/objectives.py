"""Objectives: functions of the confusion matrix that SelMix maximises.

An objective sees the validation confusion matrix ``C`` normalised to sum to 1
(rows are true classes, columns predictions) and offers

- ``value(C)``: the number the user cares about (the min recall, say);
- ``gradient(C)``: ``D = d psi / d C``, a K x K array, where psi is the
  objective or, for a max-min or constrained one, its Lagrangian;
- ``update(C)``: advances the Lagrange multipliers, once per gain refresh;
- ``reset(class_prior)``: back to the initial multipliers, at the start of a
  fine-tuning run, with the training class shares.

Recalls are ``C[k, k] / pi[k]`` with ``pi[k] = sum_l C[k, l]``, and gradients
differentiate through ``pi`` too. A class with an empty row (absent from the
validation set) has recall 0 and a finite gradient; objectives that divide
by a recall (H-mean, G-mean) clip it at ``1e-6``, so a recall of 0 gives a
finite value and a large but finite gradient.
"""

import copy
import inspect

import numpy as np

__all__ = [
    "GMeanRecall",
    "HMeanRecall",
    "MeanRecall",
    "MeanRecallMinCoverage",
    "MinHeadTailRecall",
    "MinRecall",
    "Objective",
    "make_objective",
]

_RECALL_FLOOR = 1e-6


def _recalls(C):
    pi = C.sum(axis=1)
    safe_pi = np.where(pi > 0, pi, 1.0)
    return np.diagonal(C) / safe_pi, safe_pi


def _recall_chain(C, dpsi_drecall):
    """``d psi / d C`` from ``d psi / d recall``, with ``pi`` a function of ``C``."""
    recall, safe_pi = _recalls(C)
    D = -(dpsi_drecall * recall / safe_pi)[:, None] * np.ones_like(C)
    D[np.diag_indices_from(D)] += dpsi_drecall / safe_pi
    return D


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


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

    def __repr__(self):
        names = inspect.signature(type(self).__init__).parameters
        params = ", ".join(f"{k}={getattr(self, k)!r}" for k in names if k != "self")
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
        return float(_recalls(C)[0].mean())

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
        return groups @ _recalls(C)[0] / groups.sum(axis=1), groups

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
        recall = np.maximum(_recalls(C)[0], _RECALL_FLOOR)
        return float(len(recall) / np.sum(1.0 / recall))

    def gradient(self, C):
        recall = np.maximum(_recalls(C)[0], _RECALL_FLOOR)
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
        recall = np.maximum(_recalls(C)[0], _RECALL_FLOOR)
        return float(np.exp(np.mean(np.log(recall))))

    def gradient(self, C):
        recall = np.maximum(_recalls(C)[0], _RECALL_FLOOR)
        psi = np.exp(np.mean(np.log(recall)))
        return _recall_chain(C, psi / (len(recall) * recall))


class MeanRecallMinCoverage(Objective):
    """Mean recall subject to every class's share of predictions.

    The constraint is ``coverage_l >= alpha * pi_l`` (``alpha / K`` on a
    balanced validation set), with ``coverage_l = sum_k C[k, l]``. The
    Lagrangian is ``mean recall + sum_l mu_l coverage_l`` scaled by
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

    def __init__(self, alpha=0.95, tau=0.01, mu_max=100.0):
        self.alpha = alpha
        self.tau = tau
        self.mu_max = mu_max

    def reset(self, class_prior=None):
        self.multipliers = None
        return self

    def coverage_slack(self, C):
        """``coverage_l - alpha * pi_l`` for every class ``l``."""
        return C.sum(axis=0) - self.alpha * C.sum(axis=1)

    def update(self, C):
        slack = self.coverage_slack(C)
        self.multipliers = np.maximum(self.mu_max * (1.0 - np.exp(slack / self.tau)), 0.0)
        return self

    def value(self, C):
        return MeanRecall().value(C)

    def gradient(self, C):
        K = len(C)
        mu = np.zeros(K) if self.multipliers is None else self.multipliers
        D = MeanRecall().gradient(C) + mu[None, :]
        return D / (mu.max() + 1.0)


_BUILTINS = {
    cls.name: cls
    for cls in (MeanRecall, MinRecall, MinHeadTailRecall, HMeanRecall, GMeanRecall,
                MeanRecallMinCoverage)
}


def make_objective(spec):
    """An :class:`Objective` from a name or an instance.

    Parameters
    ----------
    spec : str or Objective
        One of ``"mean_recall"``, ``"min_recall"``, ``"min_head_tail_recall"``,
        ``"hmean"``, ``"gmean"``, ``"mean_recall_min_coverage"``; or an
        :class:`Objective`, which is copied so that fitting never changes it.

    Returns
    -------
    objective : Objective
        A fresh objective, reset.

    Examples
    --------
    >>> from selmix_sk.objectives import make_objective
    >>> make_objective("min_recall")
    MinRecall(eta=50.0, beta=0.0)
    """
    if isinstance(spec, Objective):
        return copy.deepcopy(spec).reset()
    if isinstance(spec, str):
        if spec in _BUILTINS:
            return _BUILTINS[spec]().reset()
        raise ValueError(
            f"Unknown objective {spec!r}. Valid names: {', '.join(sorted(_BUILTINS))}."
        )
    raise TypeError(
        f"objective must be a name ({', '.join(sorted(_BUILTINS))}) or an Objective, "
        f"got {type(spec).__name__}."
    )
