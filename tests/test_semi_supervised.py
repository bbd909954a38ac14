"""Unlabelled samples in SelMixClassifier: marked by unlabeled_label, never held out, never read."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch import NeuralNetClassifier
from test_samplers import _HalfSecret
from torch import nn

from selmix_sk import SelMixClassifier, SmallCNN
from selmix_sk._checks import encode_labels
from selmix_sk._finetune import SelMixNet
from selmix_sk._samplers import PairSampler
from selmix_sk._validation import held_out_parts
from selmix_sk.callbacks import GainRefresh
from selmix_sk.mixup import FeatureMixer
from selmix_sk.objectives import make_objective

FAST = dict(finetune_steps=6, refresh_every=3, pretrain_epochs=1, batch_size=32, cv=0.25,
            device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digit_images():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), y[:300]


def _small_cnn(**kwargs):
    return NeuralNetClassifier(SmallCNN, module__widths=(4, 8), lr=0.01, max_epochs=1,
                               batch_size=32, **kwargs)


def test_fit_never_reads_an_unlabelled_true_label(digit_images):
    X, y = digit_images
    # Items from 200 on raise when their label is read, by anyone, at any stage.
    dataset = _HalfSecret(torch.as_tensor(X), y, 200)
    y_seen = np.r_[y[:200], np.full(100, -1)]
    clf = SelMixClassifier(_small_cnn(), unlabeled_label=-1, **FAST).fit(dataset, y_seen)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))  # -1 is no class
    assert list(clf.history_["step"]) == [0, 3, 6]
    assert clf.predict(dataset).shape == (300,)


def test_unlabelled_samples_train_every_fold_and_are_never_held_out(digit_images):
    X, y = digit_images
    y_seen = np.where(np.arange(300) % 3 == 0, -1, y)
    y_enc = encode_labels(y_seen, np.arange(10), -1, "y")
    parts = held_out_parts(X, y_enc, 3, np.random.RandomState(0))
    assert len(parts) == 3
    for _, y_train, _, y_held_out in parts:
        assert (y_held_out >= 0).all()
        assert (y_train == -1).sum() == 100
    held_out = np.concatenate([part[3] for part in parts])
    assert len(held_out) == 200  # every labelled sample is held out once


def test_minus_one_is_a_class_unless_named(digit_images):
    X, y = digit_images
    binary = np.where(y < 5, -1, 1)
    clf = SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(X.reshape(300, -1), binary)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    with pytest.raises(ValueError, match="labelled samples of at least two classes; y has one"):
        SelMixClassifier(unlabeled_label=-1, **FAST).fit(X.reshape(300, -1), binary)


def test_string_marker_and_bad_unlabelled_input(digit_images):
    X, y = digit_images
    X = X.reshape(300, -1)
    names = np.array([f"d{k}" for k in y], dtype=object)
    names[::4] = "?"
    clf = SelMixClassifier(unlabeled_label="?", **{**FAST, "finetune_steps": 0})
    assert "?" not in clf.fit(X, names).classes_
    with pytest.raises(ValueError, match="Every sample of y is unlabelled"):
        SelMixClassifier(unlabeled_label=-1, **FAST).fit(X, np.full(300, -1))
    y_seen = np.where(y == 9, -1, y)  # class 9 has no labelled sample
    with pytest.raises(ValueError, match=r"y_val has labels that are not among the classes"):
        SelMixClassifier(unlabeled_label=-1, **FAST).fit(X, y_seen, X, y)
    with pytest.raises(ValueError, match="y_val has unlabelled samples"):
        SelMixClassifier(unlabeled_label=-1, **FAST).fit(X, y_seen, X, y_seen)


def test_refresh_draws_second_samples_from_the_pool_by_pseudo_label():
    # Class k sits at 4k; the pool sits on the classes' own points, shifted by 0.5.
    X = torch.tensor([[0.0], [4.0], [8.0], [0.5], [4.5], [8.5]] * 4)
    y = torch.tensor([0, 1, 2, -1, -1, -1] * 4)
    module = nn.Sequential(nn.Linear(1, 3))
    with torch.no_grad():  # logits -(x - 4k)^2 up to a constant: nearest class wins
        module[0].weight.copy_(torch.tensor([[0.0], [8.0], [16.0]]))
        module[0].bias.copy_(torch.tensor([0.0, -16.0, -64.0]))
    sampler = PairSampler(X, y, 3, 64, 0.6, torch.Generator().manual_seed(0))
    refresh = GainRefresh(X[:3], y[:3], make_objective("min_recall").reset(np.full(3, 1 / 3)),
                          "uniform", 0.1, 0.6, "exact", [0, 1, 2])
    SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module), refresh_every=1,
              total_steps=1, criterion=nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.0,
              callbacks=[("gain_refresh", refresh)]).fit(X, y)
    second = sampler.draw()[1]
    # Every second sample is a pool sample predicted as its pair's class j.
    assert (second % 1 == 0.5).all()
    assert len(set((second // 4).flatten().tolist())) == 3


def test_fixmatch_parameters_reach_the_pre_training_loss(digit_images):
    X, y = digit_images
    y_seen = np.where(np.arange(300) % 3 == 0, -1, y)
    params = {**FAST, "finetune_steps": 0, "pretrain_epochs": 2, "tune_offsets": False}

    def proba(**fixmatch):
        clf = SelMixClassifier(_small_cnn(), unlabeled_label=-1, **params, **fixmatch)
        return clf.fit(X, y_seen).predict_proba(X)

    # Weight 0: the unlabelled loss counts for nothing, whatever its threshold.
    silent = proba(fixmatch_weight=0.0, fixmatch_threshold=0.5)
    np.testing.assert_allclose(silent, proba(fixmatch_weight=0.0, fixmatch_threshold=0.95))
    # Weighted, a threshold that lets pseudo-labels in changes the network.
    assert not np.allclose(silent, proba(fixmatch_weight=1.0, fixmatch_threshold=0.0))
    # mu draws a different number of unlabelled samples a batch.
    assert not np.allclose(proba(), proba(fixmatch_mu=1))
    # Class thresholds start at 0 (nothing learnt), so more pseudo-labels count.
    assert not np.allclose(proba(), proba(fixmatch_class_thresholds=True))
    # Aligned, the pseudo-labels follow the labelled samples' class shares: other classes
    # than the network's argmax where every one counts.
    assert not np.allclose(proba(fixmatch_threshold=0.0, fixmatch_alignment=False),
                           proba(fixmatch_threshold=0.0, fixmatch_alignment=True))


@pytest.mark.parametrize("name", ["fixmatch_class_thresholds", "fixmatch_alignment"])
def test_fixmatch_switches_must_be_bools(digit_images, name):
    X, y = digit_images
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        SelMixClassifier(**{name: "yes"}, **FAST).fit(X.reshape(300, -1), y)


@pytest.mark.parametrize(("name", "value"), [("fixmatch_threshold", 1.5),
                                             ("fixmatch_mu", 0), ("fixmatch_weight", -1.0),
                                             ("fixmatch", "sometimes")])
def test_bad_fixmatch_parameters_are_named(digit_images, name, value):
    X, y = digit_images
    with pytest.raises(ValueError, match=name):
        SelMixClassifier(unlabeled_label=-1, **FAST, **{name: value}).fit(X.reshape(300, -1), y)


def test_fixmatch_false_pretrains_on_the_labelled_samples_alone(digit_images):
    X, y = digit_images
    y_seen = np.where(np.arange(300) % 3 == 0, -1, y)

    def fit(**params):
        return SelMixClassifier(_small_cnn(), unlabeled_label=-1,
                                **{**FAST, "pretrain_epochs": 2, **params}).fit(X, y_seen)

    alone = fit(fixmatch=False)
    assert alone.pretraining_ == ["labelled"]
    # FixMatch never runs: its settings change nothing.
    np.testing.assert_array_equal(
        alone.predict_proba(X),
        fit(fixmatch=False, fixmatch_threshold=0.0, fixmatch_mu=1).predict_proba(X))
    assert fit(fixmatch=True).pretraining_ == ["FixMatch"]
    # Nothing held out: nothing to judge FixMatch by, so "auto" runs it.
    assert fit(fixmatch="auto", finetune_steps=0,
               tune_offsets=False).pretraining_ == ["FixMatch"]


def _fifth_labelled_digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, np.where(np.arange(600) % 5 > 0, -1, y[:600])


@pytest.mark.parametrize(("seed", "kept"), [(0, "FixMatch"), (1, "labelled")])
def test_fixmatch_auto_keeps_the_pretraining_that_leads_on_held_out_data(seed, kept):
    # A fifth of the labels, half of them held out: FixMatch's network leads the
    # labelled one's on the held-out half at seed 0, not at seed 1.
    X, y_seen = _fifth_labelled_digits()
    params = dict(unlabeled_label=-1, finetune_steps=0, tune_offsets=True,
                  pretrain_epochs=30, cv=0.5, device="cpu", random_state=seed)
    auto = SelMixClassifier(**params, fixmatch="auto").fit(X, y_seen)
    fixmatch = SelMixClassifier(**params).fit(X, y_seen)  # fixmatch=True, the default
    assert auto.pretraining_ == [kept]
    # FixMatch runs first, on the random streams it has without the choice: kept, it
    # gives the very model of fixmatch=True.
    same = np.array_equal(auto.predict_proba(X), fixmatch.predict_proba(X))
    assert same == (kept == "FixMatch")
    # Every network of cross-fitting makes its own choice, and says so.
    folds = SelMixClassifier(**{**params, "cv": 3, "pretrain_epochs": 5},
                             fixmatch="auto").fit(X, y_seen)
    assert len(folds.pretraining_) == 3
    assert set(folds.pretraining_) <= {"FixMatch", "labelled"}


def test_pretraining_says_supervised_and_fitted():
    X, y = load_digits(return_X_y=True)
    params = dict(finetune_steps=4, refresh_every=2, pretrain_epochs=2, device="cpu",
                  random_state=0)
    clf = SelMixClassifier(**params, cv=2).fit(X[:200] / 16.0, y[:200])
    assert clf.pretraining_ == ["supervised", "supervised"]
    again = SelMixClassifier(clf.nets_[0], **params, cv=0.3).fit(X[:200] / 16.0, y[:200])
    assert again.pretraining_ == ["fitted"]


def test_partial_fit_takes_chunks_with_unlabelled_samples():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    # Two thirds of the labels hidden; the stream never hands over a hidden one.
    y_seen = np.where(np.arange(600) % 3 > 0, -1, y)
    clf = SelMixClassifier(unlabeled_label=-1, memory_size=5, finetune_steps=20,
                           refresh_every=10, pretrain_epochs=1, device="cpu", random_state=0)
    for chunk in np.array_split(np.arange(600), 3):
        clf.partial_fit(X[chunk], y_seen[chunk], classes=np.arange(10))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))  # -1 is no class
    # Only labelled samples are counted and kept in the class-balanced memory.
    np.testing.assert_array_equal(clf._class_counts, np.bincount(y[::3], minlength=10))
    assert (clf._memory.y_ >= 0).all()
    assert np.bincount(clf._memory.y_, minlength=10).max() <= 5
    # The replayed memory carries labelled samples only: their labels are the true ones.
    kept = [np.flatnonzero((X == x).all(axis=1))[0] for x in clf._memory.X_]
    np.testing.assert_array_equal(clf._memory.y_, y[kept])
    assert (np.asarray(kept) % 3 == 0).all()
    assert np.mean(clf.predict(X) == y) > 0.5
