"""Where the held-out signal comes from: a single split or cross-fitting.

SelMix steers its gains by a confusion matrix measured on held-out data, and
decides from the same signal which of its refreshes to keep. This module
turns the estimator's ``cv`` into train / held-out index pairs that every
class can serve, and pools what the held-out parts saw, refresh by refresh,
into one out-of-fold record that the estimator selects its step from, the
start of fine-tuning unless a later refresh beats it beyond doubt.
"""

import numbers

import numpy as np
import torch

from .callbacks import _confusion
from .objectives import _recalls

__all__ = [
    "MEAN_RECALL_SLACK",
    "RefreshChoice",
    "check_splits",
    "pooled_confusions",
    "select_refresh",
]

# Fine-tuning for one objective may trade the classes' mean recall for it; the
# refresh kept gives up at most this much of the start's, on the held-out record.
MEAN_RECALL_SLACK = 0.01
# Scores and recalls closer than this count as equal.
_TOLERANCE = 1e-12


def _holdout_split(y, fraction, rng):
    """Stratified train / held-out indices that survive tiny classes.

    Every class gives ``round(fraction * n)`` samples to the held-out part,
    at least one and never all: SelMix needs a prototype and a recall for
    every class, and training needs a sample of every class. A class with a
    single sample is used on both sides.
    """
    train, valid = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        if len(members) == 1:
            train.append(members)
            valid.append(members)
            continue
        n_valid = int(np.clip(round(fraction * len(members)), 1, len(members) - 1))
        valid.append(members[:n_valid])
        train.append(members[n_valid:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


def _serve_every_class(train, valid, y, rng):
    """Add, for a class a side lacks, one sample of the other side to it.

    A fold can leave a class of a few samples out of its training part or its
    held-out part. As in the single split, such a sample then serves both
    sides: the class keeps a prototype, a recall and a training sample.
    """
    lent_to_train, lent_to_valid = [], []
    for label in np.unique(y):
        in_train, in_valid = train[y[train] == label], valid[y[valid] == label]
        if not in_valid.size:
            lent_to_valid.append(rng.choice(in_train))
        elif not in_train.size:
            lent_to_train.append(rng.choice(in_valid))
    return (np.sort(np.concatenate([train, lent_to_train]).astype(np.intp)),
            np.sort(np.concatenate([valid, lent_to_valid]).astype(np.intp)))


def check_splits(cv, y, rng):
    """The ``(train, held_out)`` index pairs that ``cv`` gives for labels ``y``.

    Parameters
    ----------
    cv : int, float, cross-validation generator or iterable
        An int ``k >= 2``: stratified, shuffled k-fold cross-fitting. A float
        in ``(0, 1)``: one stratified split holding out that share of every
        class. A scikit-learn splitter (an object with ``split``) or an
        iterable of ``(train, held_out)`` index arrays: used as given.
    y : ndarray of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    rng : numpy.random.RandomState
        Shuffles the folds and picks the samples that serve both sides.

    Returns
    -------
    splits : list of (ndarray, ndarray)
        Sorted index arrays. In every pair, each class has a training and a
        held-out sample: where a fold leaves a class out of one side, one
        sample of the class serves both.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._validation import check_splits
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2])
    >>> splits = check_splits(2, y, np.random.RandomState(0))
    >>> [sorted(set(y[held_out].tolist())) for _, held_out in splits]
    [[0, 1, 2], [0, 1, 2]]
    >>> train, held_out = check_splits(0.5, y, np.random.RandomState(0))[0]
    >>> len(held_out), np.intersect1d(train, held_out).tolist()
    (5, [8])
    """
    if isinstance(cv, str) or not (isinstance(cv, numbers.Real) or hasattr(cv, "split")
                                   or hasattr(cv, "__iter__")):
        raise TypeError(
            "cv must be an int (folds), a float in (0, 1) (a held-out share), a "
            f"cross-validation splitter or an iterable of (train, test) indices; got {cv!r}."
        )
    if isinstance(cv, numbers.Real) and not isinstance(cv, (bool, numbers.Integral)):
        if not 0 < cv < 1:
            raise ValueError(f"A float cv is the held-out share of every class, in (0, 1); "
                             f"got {cv!r}.")
        return [_holdout_split(y, cv, rng)]
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"An integer cv is a number of folds, at least 2; got {cv!r}.")
        pairs = _stratified_folds(y, cv, rng)
    elif hasattr(cv, "split"):
        pairs = cv.split(np.zeros((len(y), 1)), y)
    else:
        pairs = cv
    splits = []
    for pair in pairs:
        try:
            train, held_out = (np.asarray(part, dtype=np.intp) for part in pair)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cv yielded {pair!r}, not a (train, test) pair of indices.") from exc
        if train.size == 0 or held_out.size == 0:
            raise ValueError("cv yielded a split with an empty train or test part.")
        if min(train.min(), held_out.min()) < 0 or max(train.max(), held_out.max()) >= len(y):
            raise ValueError(f"cv yielded indices outside 0 .. {len(y) - 1}.")
        splits.append(_serve_every_class(train, held_out, y, rng))
    if not splits:
        raise ValueError("cv yielded no split.")
    return splits


def _stratified_folds(y, n_folds, rng):
    """Shuffled stratified folds: every class dealt round-robin from a random fold.

    Like scikit-learn's shuffled ``StratifiedKFold``, but a class with fewer
    samples than folds lands in random folds rather than the first ones and
    without a warning: :func:`_serve_every_class` mends the folds it misses.
    """
    fold_of = np.empty(len(y), dtype=np.intp)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        fold_of[members] = (rng.randint(n_folds) + np.arange(len(members))) % n_folds
    for fold in range(n_folds):
        yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


def pooled_confusions(held_out_labels, held_out_logits, n_classes):
    """Out-of-fold confusion matrices, refresh by refresh, pooled over folds.

    Parameters
    ----------
    held_out_labels : list of ndarray
        The encoded labels of every fold's held-out part.
    held_out_logits : list of list of torch.Tensor
        For every fold, its logits on its held-out part at each refresh. A
        fold that stopped early (interrupted, or diverged) ends the record.
    n_classes : int

    Returns
    -------
    counted, soft : ndarray of shape (n_refreshes, K, K)
        Normalised confusion matrices from argmax counts and from mean
        predicted probabilities.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from selmix_sk._validation import pooled_confusions
    >>> labels = [np.array([0, 1]), np.array([1])]
    >>> logits = [[torch.tensor([[2.0, 0.0], [0.0, 2.0]])], [torch.tensor([[3.0, 0.0]])]]
    >>> counted, soft = pooled_confusions(labels, logits, 2)
    >>> counted[0] * 3
    array([[1., 0.],
           [1., 1.]])
    """
    y = torch.as_tensor(np.concatenate(held_out_labels))
    counted, soft = [], []
    # zip stops at the shortest fold: the refreshes that every fold reached.
    for per_fold in zip(*held_out_logits):  # noqa: B905
        logits = torch.cat([part.cpu().to(torch.float64) for part in per_fold])
        counted.append(_confusion(logits, y, n_classes, soft=False).numpy())
        soft.append(_confusion(logits, y, n_classes, soft=True).numpy())
    return np.stack(counted), np.stack(soft)


class RefreshChoice:
    """The refresh to keep, decided as the refreshes come.

    The rule of :func:`select_refresh`, one refresh at a time, so that a
    network fine-tuned alone need not keep a copy of its weights at every
    refresh: only at the start and at the current candidate, the best
    refresh so far whose mean recall is at most ``mean_recall_slack`` below
    the start's. Refreshes rank by ``objective.score`` of the argmax
    confusion matrix, ties broken by ``objective.value`` of the mean
    probabilities, the earlier refresh winning a full tie. The candidate is
    kept if its score leads the start's by at least ``min_lead``; else the
    start is. A built-in objective's score is a function of the confusion
    matrix alone, so ranking a refresh as it comes ranks it as after
    training; an objective of one's own whose score reads its multipliers
    ranks each refresh by the multipliers of its time.

    Parameters
    ----------
    objective : Objective
    min_lead : float, default=0.0
        How much the kept refresh's score must beat the start's by.
    mean_recall_slack : float, default=inf
        How far below the start's mean recall the kept refresh's may be.
    keep_best : bool, default=True
        False keeps the latest refresh, whatever its score.

    Attributes
    ----------
    n_offered : int
        Refreshes offered so far; the first is the start.
    candidate : int or None
        The best refresh so far (the latest without ``keep_best``).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._validation import RefreshChoice
    >>> from selmix_sk.objectives import make_objective
    >>> choice = RefreshChoice(make_objective("min_recall"), min_lead=1 / 5)
    >>> start = np.array([[0.5, 0.0], [0.3, 0.2]])  # recalls 1.0 and 0.4 of 5 samples each
    >>> better = np.array([[0.45, 0.05], [0.1, 0.4]])  # 0.9 and 0.8
    >>> choice.offer(start, start), choice.offer(better, better), choice.offer(start, start)
    (True, True, False)
    >>> choice.kept
    1
    """

    def __init__(self, objective, *, min_lead=0.0, mean_recall_slack=np.inf, keep_best=True):
        self.objective = objective
        self.min_lead = min_lead
        self.mean_recall_slack = mean_recall_slack
        self.keep_best = keep_best
        self.n_offered = 0
        self.candidate = None

    def offer(self, counted, soft):
        """Rank the next refresh by its confusion matrices, argmax ``counted`` and ``soft``.

        Returns
        -------
        is_candidate : bool
            Whether it is now the candidate: the refresh whose weights to keep.
        """
        index = self.n_offered
        self.n_offered += 1
        if not self.keep_best:
            self.candidate = index
            return True
        mean_recall = _recalls(counted)[0].mean()
        score = self.objective.score(counted)
        if index == 0:
            self._start_score, self._start_mean_recall = score, mean_recall
        elif (mean_recall < self._start_mean_recall - self.mean_recall_slack - _TOLERANCE
              or score < self._best[0]):
            return False
        # The soft value only breaks ties: computed for a refresh whose score is not behind.
        key = (score, self.objective.value(soft))
        if index and key <= self._best:
            return False
        self.candidate, self._best = index, key
        return True

    @property
    def kept(self):
        """The refresh to keep of those offered: the candidate if it leads the start enough."""
        if self.candidate is None:
            raise ValueError("No refresh was offered.")
        if not self.keep_best:
            return self.candidate
        leads = self._best[0] >= self._start_score + self.min_lead - _TOLERANCE
        return self.candidate if leads else 0


def select_refresh(objective, counted, soft, *, min_lead=0.0, mean_recall_slack=np.inf,
                   keep_best=True):
    """The refresh to keep: the best on the held-out record, if it beats the start.

    Ranks the refreshes by ``objective.score`` of the argmax confusion
    matrices and breaks ties, common where a class has a few held-out
    samples, by the objective on the mean probabilities. The best replaces
    the start, the network fine-tuning began from, only if its score leads
    the start's by at least ``min_lead`` and its mean recall is at most
    ``mean_recall_slack`` below the start's; else the start is kept. So
    fine-tuning does no harm on the signal it trusts. :class:`RefreshChoice`
    applies the rule as the refreshes come.

    ``fit`` asks for a lead of one held-out sample of the smallest class:
    a smaller one is within what a single sample moves, and picking the
    best of many refreshes on such a record fits its noise. And it lets
    the mean recall give up ``MEAN_RECALL_SLACK`` at most.

    Parameters
    ----------
    objective : Objective
    counted, soft : ndarray of shape (n_refreshes, K, K)
        From :func:`pooled_confusions`; the first refresh is the start.
    min_lead, mean_recall_slack, keep_best
        The rule, as in :class:`RefreshChoice`.

    Returns
    -------
    index : int

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._validation import select_refresh
    >>> from selmix_sk.objectives import make_objective
    >>> start = np.array([[0.5, 0.0], [0.3, 0.2]])  # recalls 1.0 and 0.4 of 5 samples each
    >>> better = np.array([[0.45, 0.05], [0.1, 0.4]])  # 0.9 and 0.8
    >>> records = np.stack([start, better])
    >>> select_refresh(make_objective("min_recall"), records, records, min_lead=1 / 5)
    1

    A lead of less than one sample of the smallest class keeps the start, and
    so does a lead bought with mean recall (0.7 at the start, 0.6 here):

    >>> slightly = np.array([[0.5, 0.0], [0.28, 0.22]])  # 1.0 and 0.44
    >>> traded = np.array([[0.3, 0.2], [0.2, 0.3]])  # 0.6 and 0.6
    >>> records = np.stack([start, slightly, traded])
    >>> select_refresh(make_objective("min_recall"), records, records, min_lead=1 / 5,
    ...                mean_recall_slack=0.01)
    0
    >>> select_refresh(make_objective("min_recall"), records, records)
    2
    """
    choice = RefreshChoice(objective, min_lead=min_lead, mean_recall_slack=mean_recall_slack,
                           keep_best=keep_best)
    for C, S in zip(counted, soft, strict=True):
        choice.offer(C, S)
    return choice.kept
