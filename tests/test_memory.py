"""The class-balanced memory of partial_fit: bounds, uniform sampling, replay."""

import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from selmix_sk._memory import ClassReservoir

CHUNK_SIZES = (7, 13, 1, 25, 20)


def _stream(n_common=60, n_rare=6, seed=0):
    """Items numbered by their feature: class 0 common, class 1 rare, in uneven chunks."""
    y = np.r_[np.zeros(n_common, int), np.ones(n_rare, int)]
    order = np.random.RandomState(seed).permutation(len(y))
    X = np.arange(len(y), dtype=np.float32)[order, None]
    bounds = np.cumsum((0, *CHUNK_SIZES))
    return [(X[a:b], y[order][a:b]) for a, b in itertools.pairwise(bounds)]


def _fill(stream, size, rng):
    memory = ClassReservoir(n_classes=2, size=size)
    for X, y in stream:
        memory.update(X, y, rng)
    return memory


def test_every_class_keeps_at_most_size_and_all_of_a_rare_class():
    stream = _stream()
    rng = np.random.RandomState(0)
    memory = ClassReservoir(n_classes=3, size=10)
    for X, y in stream:
        memory.update(X, y, rng)
        counts = np.bincount(memory.y_, minlength=3)
        assert (counts <= 10).all()
        assert (counts == np.minimum(memory.n_seen_, 10)).all()
    np.testing.assert_array_equal(memory.n_seen_, [60, 6, 0])
    assert len(np.unique(memory.X_[memory.y_ == 0])) == 10
    # The rare class, under the bound, is kept whole; the labels follow their samples.
    np.testing.assert_array_equal(np.sort(memory.X_[memory.y_ == 1, 0]), np.arange(60, 66))
    assert (memory.X_[memory.y_ == 0, 0] < 60).all()


def test_every_sample_of_a_class_is_kept_with_the_same_probability():
    stream = _stream()
    rng = np.random.RandomState(0)
    n_runs, size = 3000, 10
    kept = np.zeros(66)
    for _ in range(n_runs):
        memory = _fill(stream, size, rng)
        kept[memory.X_[:, 0].astype(int)] += 1
    share = kept / n_runs
    # Algorithm R: size / n for each of the n samples of a class, whatever the chunks;
    # the binomial standard error is 0.007, so 0.03 fails a sampler favouring early or late.
    np.testing.assert_allclose(share[:60], size / 60, atol=0.03)
    np.testing.assert_array_equal(share[60:], 1.0)
    order = np.concatenate([X[:, 0] for X, _ in stream]).astype(int)
    first, last = share[order[order < 60][:20]], share[order[order < 60][-20:]]
    assert abs(first.mean() - last.mean()) < 0.02


def test_the_same_seed_keeps_the_same_samples():
    stream = _stream()
    one = _fill(stream, 5, np.random.RandomState(3))
    two = _fill(stream, 5, np.random.RandomState(3))
    other = _fill(stream, 5, np.random.RandomState(4))
    np.testing.assert_array_equal(one.X_, two.X_)
    np.testing.assert_array_equal(one.y_, two.y_)
    assert not np.array_equal(one.X_, other.X_)


def test_size_zero_keeps_nothing_but_counts():
    memory = _fill(_stream(), 0, np.random.RandomState(0))
    X, y = memory.replay()
    assert X is None and y.size == 0
    np.testing.assert_array_equal(memory.n_seen_, [60, 6])


def test_unlabelled_samples_are_not_kept():
    memory = ClassReservoir(2, 4).update(np.zeros((3, 2)), np.array([-1, 0, -1]),
                                         np.random.RandomState(0))
    np.testing.assert_array_equal(memory.y_, [0])


def test_replay_leaves_out_what_the_chunk_brings_again_and_duplicates():
    stream = _stream()
    memory = _fill(stream + stream, 200, np.random.RandomState(0))
    assert len(memory.y_) == 2 * 66
    X, y = memory.replay(*stream[0])
    assert len(y) == 66 - len(stream[0][1])
    assert not set(X[:, 0]) & set(stream[0][0][:, 0])
    # The same input under another label is another sample.
    X_other, _ = memory.replay(stream[0][0], 1 - stream[0][1])
    assert len(X_other) == 66


def test_a_dataset_chunk_is_read_for_the_kept_samples_only():
    X = torch.arange(12, dtype=torch.float32).reshape(6, 2)
    y = np.array([0, 0, 0, 1, 1, 1])
    memory = ClassReservoir(2, 2).update(TensorDataset(X, torch.as_tensor(y)), y,
                                         np.random.RandomState(0))
    assert isinstance(memory.X_, np.ndarray) and memory.X_.shape == (4, 2)
    np.testing.assert_array_equal(memory.X_[:, 0] // 2 >= 3, memory.y_ == 1)


@pytest.mark.parametrize("shape", [(5, 3), (5, 1, 2, 2)])
def test_samples_of_any_shape(shape):
    X = np.random.RandomState(0).rand(*shape).astype(np.float32)
    memory = ClassReservoir(2, 1).update(X, np.array([0, 1, 0, 1, 0]), np.random.RandomState(0))
    assert memory.X_.shape == (2, *shape[1:])
