"""A bounded, class-balanced memory of a labelled stream, for ``partial_fit``.

A stream's rare classes are the ones that miss chunks. A model trained on
one chunk at a time forgets a class that its latest chunks lack, and SelMix,
steered by a held-out part of the chunk, can no longer see that class's
recall. A reservoir per class keeps a uniform sample of every class seen so
far, at most ``size`` samples each, whatever the class's frequency: replayed
beside every chunk, it keeps each class both in training and in the held-out
signal.
"""

import numpy as np

__all__ = ["ClassReservoir"]


def _rows(X, indices):
    """The samples ``indices`` of an array, or the inputs of a Dataset of pairs, as an array."""
    if isinstance(X, np.ndarray):
        return X[indices]
    return np.stack([np.asarray(X[int(i)][0]) for i in indices])


def _row_keys(X, y):
    """One bytes key per sample: its label and the bytes of its input."""
    flat = np.ascontiguousarray(X).reshape(len(X), -1)
    return [bytes(label.tobytes()) + row.tobytes()
            for label, row in zip(np.asarray(y, np.int64), flat, strict=True)]


class ClassReservoir:
    """A uniform sample of every class of a stream, at most ``size`` samples a class.

    Each class keeps its own reservoir (Vitter's algorithm R): the first
    ``size`` samples of a class are kept; the ``t``-th after them (counting
    from 0 over the class) replaces a kept one, drawn uniformly, with
    probability ``size / (t + 1)``. After a class has brought ``n`` samples,
    each of them is kept with the same probability ``min(1, size / n)``,
    however the stream was cut into chunks.

    Parameters
    ----------
    n_classes : int
        Number of classes; labels are ``0 .. n_classes - 1``.
    size : int
        Samples kept per class; 0 keeps nothing.

    Attributes
    ----------
    X_ : ndarray of shape (n_kept, ...) or None
        The kept samples; None until a sample is kept.
    y_ : ndarray of shape (n_kept,)
        Their labels.
    n_seen_ : ndarray of shape (n_classes,)
        Samples of every class seen so far.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._memory import ClassReservoir
    >>> rng = np.random.RandomState(0)
    >>> memory = ClassReservoir(n_classes=3, size=2)
    >>> X = np.arange(20, dtype=np.float32).reshape(10, 2)
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    >>> memory.update(X, y, rng).n_seen_
    array([6, 3, 1])
    >>> np.bincount(memory.y_, minlength=3)
    array([2, 2, 1])
    >>> X_replay, y_replay = memory.replay(X[y == 2], y[y == 2])
    >>> np.bincount(y_replay, minlength=3)
    array([2, 2, 0])
    """

    def __init__(self, n_classes, size):
        self.n_classes = n_classes
        self.size = size
        self.X_ = None
        self.y_ = np.empty(0, dtype=np.intp)
        self.n_seen_ = np.zeros(n_classes, dtype=np.int64)

    def update(self, X, y, rng):
        """Offer the labelled samples of a chunk, in order, to the reservoirs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...) or Dataset of ``(x, y)`` pairs
            The chunk; only the samples kept are read from a Dataset.
        y : ndarray of shape (n_samples,)
            Labels ``0 .. n_classes - 1``; a negative label (unlabelled) is skipped.
        rng : numpy.random.RandomState
            Draws which kept sample a newcomer replaces.

        Returns
        -------
        self : ClassReservoir
        """
        y = np.asarray(y)
        appended, replaced = [], {}
        kept = np.bincount(self.y_, minlength=self.n_classes)
        for label in range(self.n_classes):
            newcomers = np.flatnonzero(y == label)
            n_free = min(max(self.size - kept[label], 0), newcomers.size)
            # Slots of this class in storage order; a slot keeps its position when replaced.
            slots = np.flatnonzero(self.y_ == label).tolist()
            slots += range(len(self.y_) + len(appended), len(self.y_) + len(appended) + n_free)
            appended.extend(newcomers[:n_free])
            later = newcomers[n_free:]
            if later.size and self.size:
                seen = self.n_seen_[label] + n_free + np.arange(later.size)
                for newcomer, slot in zip(later, rng.randint(0, seen + 1), strict=True):
                    if slot < self.size:
                        replaced[slots[slot]] = newcomer
            self.n_seen_[label] += newcomers.size
        chosen = np.asarray(appended + list(replaced.values()), dtype=np.intp)
        if not chosen.size:
            return self
        rows = _rows(X, chosen)
        stored = rows[:len(appended)]
        if self.X_ is not None:
            stored = np.concatenate([self.X_, stored])
        stored[np.fromiter(replaced, np.intp, len(replaced))] = rows[len(appended):]
        self.X_ = stored
        self.y_ = np.concatenate([self.y_, y[np.asarray(appended, dtype=np.intp)]])
        return self

    def replay(self, X=None, y=None):
        """The kept samples to train beside a chunk: each once, none that the chunk holds.

        A stream seen several times brings the kept samples again; a sample
        counted twice could be held out and trained on in the same call.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...), default=None
            The chunk.
        y : ndarray of shape (n_samples,), default=None
            Its labels.

        Returns
        -------
        X_replay : ndarray of shape (n_replay, ...) or None
            None when nothing is kept.
        y_replay : ndarray of shape (n_replay,)
        """
        if self.X_ is None:
            return None, self.y_[:0]
        exclude = set() if X is None else set(_row_keys(X, y))
        keep = []
        for index, key in enumerate(_row_keys(self.X_, self.y_)):
            if key not in exclude:
                exclude.add(key)
                keep.append(index)
        return self.X_[keep], self.y_[keep]

    def with_replay(self, X, y):
        """The chunk ``(X, y)`` followed by the kept samples of :meth:`replay`.

        Examples
        --------
        >>> import numpy as np
        >>> from selmix_sk._memory import ClassReservoir
        >>> memory = ClassReservoir(2, 5).update(np.eye(3), np.array([0, 1, 1]),
        ...                                      np.random.RandomState(0))
        >>> X, y = memory.with_replay(np.eye(3)[:1], np.array([0]))
        >>> y.tolist()
        [0, 1, 1]
        """
        X_replay, y_replay = self.replay(X, y)
        if not y_replay.size:
            return X, y
        return np.concatenate([X, X_replay]), np.concatenate([y, y_replay])
