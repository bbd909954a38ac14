"""Fixed-seed fits whose ``predict_proba`` is pinned bit for bit on the CPU.

Each case runs one of the estimator's paths end to end: a validation set,
cross-fitting (the refit of the start and the blend with it), a single split
with offsets, a stream, images, a frozen backbone and unlabelled data. A change
that should not move behaviour (a restructuring) must leave every array equal.
A change that moves it on purpose rewrites ``data/pinned_proba.npz`` with
``python tests/test_pinned.py`` and says so in its commit.
"""

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from selmix_sk import SelMixClassifier
from selmix_sk.datasets import make_long_tailed

PINNED = Path(__file__).parent / "data" / "pinned_proba.npz"
FAST = dict(finetune_steps=30, refresh_every=10, pretrain_epochs=30, device="cpu",
            random_state=0)


def _digits():
    X, y = load_digits(return_X_y=True)
    data = make_long_tailed(X / 16.0, y, n_max=40, imbalance=10, n_val_per_class=5,
                            n_test_per_class=5, random_state=0)
    return data.X_train, data.y_train, data.X_val, data.y_val, data.X_test


def _validation_set():
    X, y, X_val, y_val, X_test = _digits()
    return SelMixClassifier(**FAST).fit(X, y, X_val=X_val, y_val=y_val).predict_proba(X_test)


def _cross_fitting():
    X, y, _, _, X_test = _digits()
    return SelMixClassifier(**FAST, cv=3).fit(X, y).predict_proba(X_test)


def _cross_fitting_blended():
    X, y, _, _, X_test = _digits()
    clf = SelMixClassifier(**FAST, cv=3, keep_best=False, n_jobs=2,
                           constraints={"min_coverage": 0.9})
    return clf.fit(X, y).predict_proba(X_test)


def _single_split_blended_with_offsets():
    X, y, _, _, X_test = _digits()
    clf = SelMixClassifier(**FAST, cv=0.3, keep_best=False, constraints={"min_coverage": 0.9})
    return clf.fit(X, y).predict_proba(X_test)


def _stream():
    X, y, _, _, X_test = _digits()
    clf = SelMixClassifier(**FAST, memory_size=10)
    for chunk in np.array_split(np.random.RandomState(0).permutation(len(y)), 3):
        clf.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
    return clf.predict_proba(X_test)


def _images(**params):
    X, y, X_val, y_val, X_test = _digits()
    images = [part.reshape(-1, 1, 8, 8).astype(np.float32) for part in (X, X_val, X_test)]
    clf = SelMixClassifier(**{**FAST, "pretrain_epochs": 5, **params})
    return clf.fit(images[0], y, X_val=images[1], y_val=y_val).predict_proba(images[2])


def _frozen_backbone():
    return _images(freeze_backbone=True, keep_best=False)


def _unlabelled():
    X, y, X_val, y_val, X_test = _digits()
    hidden = np.random.RandomState(0).rand(len(y)) < 0.5
    hidden[[np.flatnonzero(y == k)[0] for k in range(10)]] = False  # every class keeps one
    y = np.where(hidden, -1, y)
    clf = SelMixClassifier(**{**FAST, "pretrain_epochs": 10}, unlabeled_label=-1)
    return clf.fit(X, y, X_val=X_val, y_val=y_val).predict_proba(X_test)


CASES = {
    "validation_set": _validation_set,
    "cross_fitting": _cross_fitting,
    "cross_fitting_blended": _cross_fitting_blended,
    "single_split_blended_with_offsets": _single_split_blended_with_offsets,
    "stream": _stream,
    "images": _images,
    "frozen_backbone": _frozen_backbone,
    "unlabelled": _unlabelled,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_proba_is_pinned(case):
    with np.load(PINNED) as pinned:
        expected = pinned[case]
    np.testing.assert_array_equal(CASES[case](), expected)


if __name__ == "__main__":
    np.savez_compressed(PINNED, **{name: case() for name, case in CASES.items()})
    print(f"Wrote {PINNED}")
