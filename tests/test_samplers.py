"""The pair samplers: class-indexed draws, Datasets read by batch, the unlabelled pool."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.utils.data import Dataset, Subset, TensorDataset

from selmix_sk import MLP
from selmix_sk._batching import dataset_labels, load_inputs
from selmix_sk._samplers import DatasetPairSampler, PairSampler
from selmix_sk.callbacks import pseudo_labels


@pytest.fixture(scope="module")
def digit_images():
    X, y = load_digits(return_X_y=True)
    return torch.as_tensor(X[:300], dtype=torch.float32).reshape(-1, 1, 8, 8), torch.as_tensor(
        y[:300]
    )


def _sampler(X, y, n_classes=10, batch_size=64, seed=0):
    return PairSampler(X, y, n_classes, batch_size, 0.6, torch.Generator().manual_seed(seed))


def _row_classes(X, rows, y):
    """The class of each drawn input, found by matching it against X (inputs are distinct)."""
    flat = X.flatten(1)
    match = (rows.flatten(1)[:, None, :] == flat[None]).all(-1)
    assert bool((match.sum(1) == 1).all())
    return y[match.int().argmax(1)]


def test_draws_follow_the_pair_distribution(digit_images):
    X, y = digit_images
    sampler = _sampler(X, y, batch_size=20000)
    probabilities = torch.zeros(10, 10, dtype=torch.float64)
    probabilities[3, 7], probabilities[0, 0], probabilities[9, 2] = 0.5, 0.3, 0.2
    sampler.set_pair_probabilities(probabilities)
    first, second, lam = sampler.draw_indices()
    pairs = y[first] * 10 + y[second]
    frequencies = torch.bincount(pairs, minlength=100).double() / len(pairs)
    np.testing.assert_allclose(frequencies.numpy(), probabilities.flatten().numpy(), atol=0.01)
    assert 0.6 <= lam.min() and lam.max() <= 1.0
    # Every sample of a class is drawn alike.
    counts = torch.bincount(first[y[first] == 3], minlength=len(y))[y == 3].double()
    assert counts.min() > 0.5 * counts.mean()


def test_batch_holds_the_drawn_items(digit_images):
    X, y = digit_images
    sampler = _sampler(X, y)
    sampler.set_pair_probabilities(torch.eye(10)[[4]].T @ torch.eye(10)[[1]])
    x_first, x_second, y_first, lam = sampler.draw()
    assert x_first.shape == x_second.shape == (64, 1, 8, 8)
    assert (y_first == 4).all() and (_row_classes(X, x_first, y) == 4).all()
    assert (_row_classes(X, x_second, y) == 1).all()
    assert lam.shape == (64,)


def test_a_class_without_samples_is_never_drawn(digit_images):
    X, y = digit_images
    keep = y != 5
    sampler = _sampler(X[keep], y[keep], batch_size=5000)
    first, second, _ = sampler.draw_indices()
    assert 5 not in y[keep][first] and 5 not in y[keep][second]
    # Only absent classes asked for: the draws fall back to every present pair.
    only_absent = torch.zeros(10, 10)
    only_absent[5, 5] = 1.0
    sampler.set_pair_probabilities(only_absent)
    assert 5 not in y[keep][sampler.draw_indices()[0]]


def test_same_seed_same_batches_and_tensors_match_datasets(digit_images):
    X, y = digit_images
    a, b = _sampler(X, y, seed=3), _sampler(X, y, seed=3)
    from_dataset = DatasetPairSampler(TensorDataset(X, y), None, 10, 64, 0.6,
                                      torch.Generator().manual_seed(3))
    for _ in range(3):
        batches = [a.draw(), b.draw(), from_dataset.draw()]
        for parts in zip(*batches, strict=True):
            torch.testing.assert_close(parts[0], parts[1])
            torch.testing.assert_close(parts[0], parts[2])
    assert not torch.equal(a.draw()[0], _sampler(X, y, seed=4).draw()[0])


def test_second_sample_comes_from_the_pool_by_pseudo_label(digit_images):
    X, y = digit_images
    hidden = torch.arange(len(y)) >= 200  # the last 100 samples lose their labels
    y_seen = torch.where(hidden, -1, y)
    sampler = _sampler(X, y_seen, batch_size=4000)
    assert sampler.n_unlabelled == 100
    first, second, _ = sampler.draw_indices()
    # Before any pseudo-label: labelled samples only, both ends.
    assert not hidden[first].any() and not hidden[second].any()

    # Pseudo-labels: every unlabelled sample called class 2, except three left out.
    pseudo = torch.full((100,), 2)
    pseudo[:3] = -1
    sampler.set_pseudo_labels(pseudo)
    first, second, _ = sampler.draw_indices()
    assert not hidden[first].any()
    from_pool = hidden[second]
    # Class 2 draws its second sample from the pool, never from a sample left out...
    assert set(second[from_pool].tolist()) <= set(range(203, 300))
    assert len(set(second[from_pool].tolist())) > 80
    assert abs(from_pool.double().mean() - 0.1) < 0.02
    # ... and every other class falls back to its labelled samples.
    assert 2 not in y[second[~from_pool]]


def test_pool_pairs_follow_the_distribution(digit_images):
    X, y = digit_images
    y_seen = torch.where(torch.arange(len(y)) >= 150, -1, y)
    sampler = _sampler(X, y_seen, batch_size=3000)
    sampler.set_pseudo_labels(y[150:].roll(1))  # wrong on purpose: the sampler follows them
    probabilities = torch.zeros(10, 10)
    probabilities[0, 6] = 1.0
    sampler.set_pair_probabilities(probabilities)
    _, second, _ = sampler.draw_indices()
    assert (second >= 150).all()
    assert (y[150:].roll(1)[second - 150] == 6).all()


class _SecretLabel:
    """A true label that fails the test on any attempt to read it."""

    def _read(self, *args):
        raise AssertionError("the true label of an unlabelled sample was read")

    __int__ = __index__ = __float__ = __bool__ = __eq__ = __hash__ = __array__ = _read
    __lt__ = __gt__ = __le__ = __ge__ = __str__ = __repr__ = _read


class _HalfSecret(Dataset):
    """Digits whose items beyond ``n_labelled`` hold a label that cannot be read."""

    def __init__(self, X, y, n_labelled):
        self.X, self.y, self.n_labelled = X, y, n_labelled

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        label = self.y[index] if index < self.n_labelled else _SecretLabel()
        return self.X[index], label


def test_no_true_label_of_an_unlabelled_sample_is_read(digit_images):
    X, y = digit_images
    dataset = _HalfSecret(X, y, 200)
    y_seen = np.r_[y[:200].numpy(), np.full(100, -1)]
    sampler = DatasetPairSampler(dataset, y_seen, 10, 64, 0.6, torch.Generator().manual_seed(0))
    sampler.set_pseudo_labels(torch.arange(100) % 10)
    for _ in range(5):
        x_second = sampler.draw()[1]
        assert _row_classes(X, x_second, y).shape == (64,)
    pool_inputs = torch.cat(list(sampler.unlabelled_batches(32)))
    torch.testing.assert_close(pool_inputs, X[200:])
    with pytest.raises(AssertionError, match="true label"):
        dataset_labels(dataset)  # reading the Dataset's own labels would touch them


def test_dataset_batches_land_on_the_requested_device(digit_images):
    X, y = digit_images
    sampler = DatasetPairSampler(TensorDataset(X, y), y.numpy(), 10, 8, 0.6,
                                 torch.Generator().manual_seed(0), device="meta")
    assert {part.device.type for part in sampler.draw()} == {"meta"}


def test_dataset_labels_from_targets_subset_or_one_pass(digit_images):
    X, y = digit_images

    class WithTargets(TensorDataset):
        def __init__(self, X, y):
            super().__init__(X, y)
            self.targets = y.tolist()

    np.testing.assert_array_equal(dataset_labels(WithTargets(X, y)), y.numpy())
    indices = [5, 2, 299]
    np.testing.assert_array_equal(dataset_labels(Subset(WithTargets(X, y), indices)),
                                  y.numpy()[indices])
    np.testing.assert_array_equal(dataset_labels(TensorDataset(X, y)), y.numpy())


@pytest.mark.parametrize("items", [(torch.zeros(4, 3),), (torch.zeros(4, 3),) * 3])
def test_datasets_of_other_than_pairs_are_refused(items):
    dataset = TensorDataset(*items)
    with pytest.raises(ValueError, match=r"must yield \(x, y\) pairs; item 0 is a tuple"):
        dataset_labels(dataset)
    with pytest.raises(ValueError, match=r"\(x, y\) pairs"):
        DatasetPairSampler(dataset, np.zeros(4), 2, 2, 0.6, torch.Generator())


def test_inputs_that_do_not_collate_are_refused():
    class Words(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return "a word", index

    with pytest.raises(TypeError, match="must be tensors, arrays or numbers, got str"):
        load_inputs(Words(), [0, 1])


def test_bad_labels_and_pseudo_labels_are_refused(digit_images):
    X, y = digit_images
    with pytest.raises(ValueError, match=r"encoded labels in 0 \.\. 9"):
        _sampler(X, torch.where(y == 0, -2, y))
    with pytest.raises(ValueError, match=r"encoded labels in 0 \.\. 8"):
        _sampler(X, y, n_classes=9)
    sampler = _sampler(X, torch.where(torch.arange(len(y)) < 100, y, -1))
    with pytest.raises(ValueError, match="Expected 200 pseudo-labels"):
        sampler.set_pseudo_labels(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"Pseudo-labels must lie in -1 \.\. 9"):
        sampler.set_pseudo_labels(torch.full((200,), 10))


def test_batches_drawn_together_are_the_batches_drawn_one_by_one(digit_images):
    X, y = digit_images
    one_by_one, together = _sampler(X, y, seed=5), _sampler(X, y, seed=5)
    probabilities = torch.rand(10, 10, generator=torch.Generator().manual_seed(0))
    for sampler in (one_by_one, together):
        sampler.set_pair_probabilities(probabilities)
    batches = list(together.draws(4))
    assert len(batches) == 4 and list(together.draws(0)) == []
    for batch in batches:
        for expected, got in zip(one_by_one.draw(), batch, strict=True):
            assert torch.equal(expected, got)
    # Both samplers are left at the same point of their random streams.
    assert torch.equal(one_by_one.draw()[0], together.draw()[0])


def test_pseudo_labels_predict_in_eval_mode_and_restore_the_mode():
    torch.manual_seed(0)
    X = torch.randn(40, 4)
    sampler = PairSampler(X, torch.cat([torch.arange(20) % 2, torch.full((20,), -1)]), 2, 4,
                          0.6, torch.Generator())
    module = MLP(4, 2, hidden_units=(16,), dropout=0.9)
    with torch.no_grad():
        expected = module.eval()(X[20:]).argmax(1)
    module.train()
    # Dropout at 0.9 would scramble the labels in training mode.
    torch.testing.assert_close(pseudo_labels(module, sampler), expected)
    assert module.training
