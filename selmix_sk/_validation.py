"""Where the held-out signal comes from: a validation set, a single split or cross-fitting.

SelMix steers its gains by a confusion matrix measured on held-out data, and
decides from the same signal which of its refreshes to keep. This module
turns the estimator's ``cv`` into train / held-out index pairs that every
class can serve (:func:`check_splits`), and the data into the parts that the
networks train and are steered on (:func:`held_out_parts`).
"""

import numbers

import numpy as np

from ._batching import take

__all__ = ["check_splits", "held_out_parts", "stratified_folds"]


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
        pairs = stratified_folds(y, cv, rng)
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


def stratified_folds(y, n_folds, rng):
    """Shuffled stratified folds: every class dealt round-robin from a random fold.

    Like scikit-learn's shuffled ``StratifiedKFold``, but a class with fewer
    samples than folds lands in random folds rather than the first ones and
    without a warning: :func:`_serve_every_class` mends the folds it misses
    where they train networks.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._validation import stratified_folds
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> [np.bincount(y[held_out], minlength=2).tolist()
    ...  for _, held_out in stratified_folds(y, 2, np.random.RandomState(0))]
    [[2, 1], [2, 1]]
    """
    fold_of = np.empty(len(y), dtype=np.intp)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        fold_of[members] = (rng.randint(n_folds) + np.arange(len(members))) % n_folds
    for fold in range(n_folds):
        yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


def held_out_parts(X, y, cv, rng):
    """``(X_train, y_train, X_held_out, y_held_out)`` for every split of ``cv``.

    Only labelled samples are split: the unlabelled ones (label -1) train in
    every part and are never held out.

    Parameters
    ----------
    X : array-like, torch.Tensor or torch.utils.data.Dataset
    y : ndarray of shape (n_samples,)
        Encoded labels, -1 for an unlabelled sample.
    cv : int, float, cross-validation generator or iterable
        As in :func:`check_splits`.
    rng : numpy.random.RandomState

    Returns
    -------
    parts : list of tuple
        A Dataset's parts are ``Subset`` objects, unread.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._validation import held_out_parts
    >>> X, y = np.arange(8)[:, None], np.array([0, 0, 0, 1, 1, 1, -1, -1])
    >>> parts = held_out_parts(X, y, 3, np.random.RandomState(0))
    >>> [(y_train.tolist(), y_held_out.tolist()) for _, y_train, _, y_held_out in parts]
    [([0, 0, 1, 1, -1, -1], [0, 1]), ([0, 0, 1, 1, -1, -1], [0, 1]), ([0, 0, 1, 1, -1, -1], [0, 1])]
    """
    labelled, pool = np.flatnonzero(y >= 0), np.flatnonzero(y < 0)
    parts = []
    for train, held in check_splits(cv, y[labelled], rng):
        train, held = np.concatenate([labelled[train], pool]), labelled[held]
        parts.append((take(X, train), y[train], take(X, held), y[held]))
    return parts
