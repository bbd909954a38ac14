"""partial_fit with its class-balanced memory: classes that later chunks lack are kept."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from selmix_sk import SelMixClassifier
from selmix_sk.benchmark import stream_chunks
from selmix_sk.metrics import mean_recall_score, min_recall_score

PARAMS = dict(finetune_steps=5, refresh_every=5, pretrain_epochs=10, cv=0.2, memory_size=20,
              device="cpu", random_state=0)
COUNTS = (60, 40, 25, 6, 4, 3)
# The rare classes hold out a sample or two: by design of the stream, not a mistake to flag.
pytestmark = pytest.mark.filterwarnings("ignore:The held-out parts of y:UserWarning")


def _long_tail(n_per_class, seed):
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=2.0, size=(len(COUNTS), 5))
    draw = np.random.RandomState(seed)
    n = [n_per_class or c for c in COUNTS]
    X = np.vstack([draw.normal(c, 1.0, size=(k, 5)) for c, k in zip(centres, n, strict=True)])
    return X.astype(np.float32), np.repeat(np.arange(len(COUNTS)), n)


def _stream(clf, X, y, chunks, n_passes):
    for _ in range(n_passes):
        for chunk in chunks:
            clf.partial_fit(X[chunk], y[chunk], classes=np.arange(len(COUNTS)))
    return clf


@pytest.fixture(scope="module")
def long_tail():
    X, y = _long_tail(None, seed=1)
    X_test, y_test = _long_tail(30, seed=2)
    chunks, rare = stream_chunks(y, 5, 3, np.random.RandomState(0))
    return X, y, X_test, y_test, chunks, rare


def _rare_recall(clf, X_test, y_test, rare):
    y_pred = clf.predict(X_test)
    return min(np.mean(y_pred[y_test == label] == label) for label in rare)


def test_rare_classes_of_the_first_chunk_only_are_kept_to_the_end(long_tail):
    X, y, X_test, y_test, chunks, rare = long_tail
    assert all(not np.isin(y[chunk], rare).any() for chunk in chunks[1:])
    stream = _stream(SelMixClassifier(**PARAMS), X, y, chunks, n_passes=3)
    forgetful = _stream(SelMixClassifier(**{**PARAMS, "memory_size": 0}), X, y, chunks, n_passes=3)
    assert _rare_recall(stream, X_test, y_test, rare) >= 0.5
    assert _rare_recall(forgetful, X_test, y_test, rare) < 0.5
    whole = SelMixClassifier(**PARAMS).fit(X[np.concatenate(chunks)], y[np.concatenate(chunks)])
    for score, gap in ((min_recall_score, 0.05), (mean_recall_score, 0.02)):
        assert score(y_test, stream.predict(X_test)) >= score(y_test, whole.predict(X_test)) - gap


def test_wine_class_missing_from_the_last_chunk_is_still_predicted():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    chunks = np.array_split(np.random.RandomState(0).permutation(len(y)), 3)
    chunks[2] = chunks[2][y[chunks[2]] != 0]
    clf = SelMixClassifier(finetune_steps=20, random_state=0)
    for chunk in chunks:
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    assert np.mean(clf.predict(X[y == 0]) == 0) > 0.5


def test_the_memory_is_bounded_per_class_and_travels_with_the_model(long_tail):
    X, y, X_test, _, chunks, _ = long_tail
    clf = _stream(SelMixClassifier(**{**PARAMS, "memory_size": 10}), X, y, chunks, n_passes=1)
    np.testing.assert_array_equal(np.bincount(clf._memory.y_), np.minimum(COUNTS, 10))
    copy = pickle.loads(pickle.dumps(clf))
    for model in (clf, copy):
        model.partial_fit(X[chunks[1]], y[chunks[1]])
    np.testing.assert_array_equal(copy.predict_proba(X_test), clf.predict_proba(X_test))


def test_fit_fills_the_memory_that_partial_fit_replays(long_tail):
    X, y, X_test, y_test, chunks, rare = long_tail
    clf = SelMixClassifier(**PARAMS).fit(X, y)
    np.testing.assert_array_equal(clf._memory.n_seen_, COUNTS)
    for chunk in chunks[1:]:
        clf.partial_fit(X[chunk], y[chunk])
    assert _rare_recall(clf, X_test, y_test, rare) >= 0.5


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (2.5, TypeError)])
def test_memory_size_is_checked(blobs, value, error):
    X, y = blobs
    with pytest.raises(error, match="memory_size"):
        SelMixClassifier(**{**PARAMS, "memory_size": value}).partial_fit(X, y, classes=[0, 1, 2])


def test_save_params_keeps_the_memory(long_tail, tmp_path):
    X, y, X_test, _, chunks, _ = long_tail
    clf = _stream(SelMixClassifier(**{**PARAMS, "memory_size": 10}), X, y, chunks[:2], n_passes=1)
    clf.save_params(tmp_path / "stream.pt")
    loaded = SelMixClassifier(**{**PARAMS, "memory_size": 10}).load_params(tmp_path / "stream.pt")
    np.testing.assert_array_equal(loaded._memory.X_, clf._memory.X_)
    np.testing.assert_array_equal(loaded._memory.n_seen_, clf._memory.n_seen_)
    # The weights load, not the optimiser's state: the next call updates the memory alike.
    for model in (clf, loaded):
        model.partial_fit(X[chunks[2]], y[chunks[2]])
    np.testing.assert_array_equal(loaded._memory.X_, clf._memory.X_)
    assert loaded.predict(X_test).shape == (len(X_test),)
