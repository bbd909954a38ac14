"""Pre-training: augmentations, the FixMatch step and pretrain's two paths."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_moons
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from test_samplers import _HalfSecret
from torch.nn import functional as F

from selmix_sk import MLP, LogitAdjustedLoss, SelMixClassifier
from selmix_sk._modules import SmallCNN
from selmix_sk._pretrain import (
    FeatureNoise,
    FixMatchNet,
    ImageAugment,
    default_augment,
    pretrain,
)


@pytest.fixture(scope="module")
def digit_images():
    X, y = load_digits(return_X_y=True)
    return X[:300].reshape(-1, 1, 8, 8).astype(np.float32), y[:300]


def _identity(x, strength):
    return x


def test_weak_views_move_pixels_of_each_image_independently(digit_images):
    X, _ = digit_images
    torch.manual_seed(0)
    image = torch.as_tensor(X[7])
    standardised = ((image - 5.0) / 6.0).expand(64, 1, 8, 8)
    views = ImageAugment()(standardised, "weak")
    assert views.shape == standardised.shape and views.dtype == torch.float32
    # Flips and crops only move pixels: every value is one of the image's own.
    distance = (views.reshape(64, -1, 1) - standardised[0].reshape(1, 1, -1)).abs().amin(-1)
    assert distance.max() < 1e-5
    # Each image draws its own crop (9 offsets with a 1-pixel pad), and flip if asked.
    assert len({tuple(view.flatten().tolist()) for view in views}) == 9
    assert not (views == standardised.flip(-1)).all((1, 2, 3)).any()
    flipped = ImageAugment(flip=True)(standardised, "weak")
    assert len({tuple(view.flatten().tolist()) for view in flipped}) > 10


def test_strong_views_stay_in_range_and_keep_uint8(digit_images):
    X, _ = digit_images
    torch.manual_seed(0)
    images = torch.as_tensor(X[:32]) * 10 - 50  # any scale
    views = ImageAugment()(images, "strong")
    low, high = images.amin((2, 3), keepdim=True), images.amax((2, 3), keepdim=True)
    assert ((views >= low - 1e-4) & (views <= high + 1e-4)).all()
    assert not torch.allclose(views, images)
    as_bytes = ImageAugment()(torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8), "strong")
    assert as_bytes.dtype == torch.uint8 and as_bytes.shape == (4, 3, 16, 16)


def test_feature_noise_is_scaled_per_feature_and_by_strength():
    torch.manual_seed(0)
    X = torch.as_tensor(np.random.RandomState(0).normal(size=(500, 3)) * [1.0, 10.0, 0.0],
                        dtype=torch.float32)
    noise = default_augment(X.numpy())
    x = torch.zeros(20000, 3)
    weak, strong = noise(x, "weak").std(0), noise(x, "strong").std(0)
    np.testing.assert_allclose(weak.numpy(), [0.1, 1.0, 0.0], rtol=0.05, atol=1e-3)
    np.testing.assert_allclose(strong.numpy(), [0.5, 5.0, 0.0], rtol=0.05, atol=1e-3)
    with pytest.raises(ValueError, match="strength must be one of"):
        noise(x, "medium")
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\)"):
        ImageAugment()(x, "weak")


def _fixmatch(module, threshold, prior=(0.7, 0.2, 0.1), **kwargs):
    return FixMatchNet(module, augment=_identity, threshold=threshold, criterion=LogitAdjustedLoss,
                       criterion__class_prior=prior, optimizer=torch.optim.SGD,
                       lr=0.0, batch_size=16, max_epochs=1, **kwargs).initialize()


@pytest.mark.parametrize("adjust_unlabelled", [True, False])
@pytest.mark.parametrize("threshold", [0.0, 1.01])
def test_fixmatch_step_loss(threshold, adjust_unlabelled):
    torch.manual_seed(0)
    module = MLP(4, 3, dropout=0.0)
    x, x_unlabelled = torch.randn(16, 4), torch.randn(32, 4)
    y = torch.arange(16) % 3
    net = _fixmatch(module, threshold, adjust_unlabelled=adjust_unlabelled)
    step = net.train_step_single((x, y, x_unlabelled, torch.arange(32)))
    with torch.no_grad():
        log_prior = torch.log(torch.tensor([0.7, 0.2, 0.1]))
        expected = F.cross_entropy(module(x) + log_prior, y)  # adjusted on labelled samples
        if threshold < 1:  # every pseudo-label counts
            logits = module(x_unlabelled) + (log_prior if adjust_unlabelled else 0.0)
            expected += F.cross_entropy(logits, logits.argmax(1))
    torch.testing.assert_close(step["loss"].detach(), expected)
    assert float(step["confident"]) == (1.0 if threshold < 1 else 0.0)


def test_adjusted_pseudo_labels_follow_the_training_prior():
    # Equal logits: the unadjusted prediction is a tie, the adjusted one the head class.
    module = torch.nn.Linear(4, 3)
    with torch.no_grad():
        module.weight.zero_(), module.bias.zero_()
    x = torch.zeros(8, 4)
    step = _fixmatch(module, 0.5, prior=(0.8, 0.1, 0.1)).train_step_single(
        (x, torch.zeros(8, dtype=torch.long), x, torch.arange(8)))
    # Only the adjusted prediction (probability 0.8) clears the threshold of 0.5.
    assert float(step["confident"]) == 1.0
    unadjusted = _fixmatch(module, 0.5, prior=(0.8, 0.1, 0.1), adjust_unlabelled=False)
    batch = (x, torch.zeros(8, dtype=torch.long), x, torch.arange(8))
    assert float(unadjusted.train_step_single(batch)["confident"]) == 0.0


class _Batches(Callback):
    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_end(self, net, batch=None, **kwargs):
        self.batches_.append(batch)


def test_fixmatch_batches_pair_labelled_with_twice_as_many_unlabelled(digit_images):
    X, y = digit_images
    y_seen = np.where(np.arange(len(y)) % 3 == 0, y, -1)
    record = _Batches()
    torch.manual_seed(0)
    _fixmatch(SmallCNN(10, widths=(4, 8)), 0.95, np.full(10, 0.1), callbacks=[record]).fit(
        X.reshape(300, 1, 8, 8), y_seen)
    assert len(record.batches_) == 7  # 100 labelled samples, 16 a batch
    labelled = torch.cat([b[0] for b in record.batches_])
    unlabelled = torch.cat([b[2] for b in record.batches_])
    assert len(labelled) == 100 and len(unlabelled) == 200
    flat = torch.as_tensor(X.reshape(300, -1))
    rows = (unlabelled.flatten(1)[:, None] == flat[None]).all(-1).int().argmax(1)
    assert (torch.as_tensor(y_seen)[rows] == -1).all()
    labels = torch.cat([b[1] for b in record.batches_])
    assert sorted(labels.tolist()) == sorted(y_seen[y_seen >= 0].tolist())


def test_fixmatch_never_reads_an_unlabelled_true_label(digit_images):
    X, y = digit_images
    dataset = _HalfSecret(torch.as_tensor(X), y, 120)
    y_seen = np.r_[y[:120], np.full(180, -1)]
    torch.manual_seed(0)
    net = FixMatchNet(SmallCNN(10, widths=(4, 8)), augment=ImageAugment(),
                      criterion=LogitAdjustedLoss, criterion__class_prior=np.full(10, 0.1),
                      optimizer=torch.optim.SGD, lr=0.01, batch_size=32, max_epochs=1)
    net.fit(dataset, y_seen)
    assert net.history[-1, "train_batch_count"] == 4


def test_pretrain_supervised_sets_the_prior_and_counts_epochs(digit_images):
    X, y = digit_images
    net = NeuralNetClassifier(SmallCNN, module__n_classes=10, module__widths=(4, 8),
                              criterion=LogitAdjustedLoss, criterion__class_prior=np.full(10, 0.1),
                              train_split=None, classes=list(range(10)), verbose=0).initialize()
    prior = np.bincount(y, minlength=10) / len(y)
    assert pretrain(net, X, y, class_prior=prior, epochs=2) == 2
    torch.testing.assert_close(net.criterion_.log_prior, torch.log(torch.as_tensor(prior)).float())
    assert len(net.history) == 2


def test_fixmatch_learns_from_unlabelled_moons():
    # Two moons, 4 labels a class: the unlabelled samples carry the shape of the classes.
    X, y = make_moons(600, noise=0.08, random_state=0)
    X = X.astype(np.float32)
    labelled = np.r_[np.flatnonzero(y == 0)[:4], np.flatnonzero(y == 1)[:4]]
    y_seen = np.full(len(y), -1)
    y_seen[labelled] = y[labelled]

    def accuracy(semi_supervised):
        torch.manual_seed(0)
        net = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=2,
                                  module__dropout=0.0, criterion=LogitAdjustedLoss,
                                  criterion__class_prior=[0.5, 0.5], optimizer=torch.optim.Adam,
                                  lr=0.01, batch_size=8, train_split=None, classes=[0, 1],
                                  verbose=0).initialize()
        kept = slice(None) if semi_supervised else labelled
        pretrain(net, X[kept], y_seen[kept], class_prior=[0.5, 0.5], epochs=400,
                 augment=FeatureNoise(X.std(0), weak=0.02, strong=0.1), threshold=0.9)
        return (net.predict(X) == y).mean()

    supervised, semi_supervised = accuracy(False), accuracy(True)
    assert semi_supervised > supervised + 0.03, (supervised, semi_supervised)


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_pretraining_prints_skorch_epoch_log_only_at_verbose_2(verbose, capsys):
    X, y = make_moons(60, noise=0.2, random_state=0)
    clf = SelMixClassifier(finetune_steps=0, pretrain_epochs=3, cv=None, verbose=verbose,
                           random_state=0).fit(X, y)
    log = capsys.readouterr().out
    # skorch's table has a row an epoch; progress bars (verbose=1) go to stderr.
    assert ("train_loss" in log) == (verbose == 2)
    assert log.count("\n") == (5 if verbose == 2 else 0)
    # The training loss is recorded whatever the verbosity.
    assert len(clf.nets_[0].history[:, "train_loss"]) == 3


def test_class_thresholds_start_low_and_rise_as_the_pool_is_learnt():
    # FlexMatch's curriculum: a class's threshold is `threshold` scaled by how much of the
    # pool the network predicts as that class with confidence, so none at first.
    module = torch.nn.Linear(4, 3)
    with torch.no_grad():
        module.weight.zero_()
    x, y = torch.zeros(8, 4), torch.zeros(8, dtype=torch.long)
    net = _fixmatch(module, 0.95, prior=(1 / 3, 1 / 3, 1 / 3), class_thresholds=True)
    net.get_iterator(net.get_dataset(np.zeros((40, 4), np.float32), np.r_[[0] * 8, [-1] * 32]),
                     training=True)
    assert net.pool_labels_.tolist() == [-1] * 32

    def step(bias, drawn):
        with torch.no_grad():
            module.bias.copy_(torch.tensor([bias, 0.0, 0.0]))
        x_unlabelled = torch.zeros(len(drawn), 4)
        return float(net.train_step_single((x, y, x_unlabelled, drawn))["confident"])

    # Confidence 0.86 in class 0: below 0.95, yet it counts while nothing is learnt.
    assert step(2.5, torch.arange(8)) == 1.0
    assert net.pool_labels_.tolist() == [-1] * 32
    # Confidence 0.99: a fourth of the pool is learnt as class 0, so its threshold is
    # 0.95 * effect / (2 - effect), the effect 8 / 24 (learnt over not yet learnt).
    assert step(5.0, torch.arange(8)) == 1.0
    assert net.pool_labels_.tolist() == [0] * 8 + [-1] * 24
    torch.testing.assert_close(net._thresholds(torch.tensor([0, 1]), 3),
                               torch.tensor([0.95 * (1 / 3) / (5 / 3), 0.0]))
    # Once the whole pool is learnt as class 0, its threshold is the full 0.95.
    step(5.0, torch.arange(32))
    assert step(2.5, torch.arange(8)) == 0.0
    # A fixed threshold never lets a confidence of 0.86 count.
    fixed = _fixmatch(module, 0.95, prior=(1 / 3, 1 / 3, 1 / 3))
    assert float(fixed.train_step_single((x, y, x, torch.arange(8)))["confident"]) == 0.0


def test_distribution_alignment_gives_the_pool_the_prior_s_class_shares():
    # ReMixMatch's alignment: the weak views' probabilities times the prior over their
    # running mean. Identity weights make the logits the log-probabilities given.
    module = torch.nn.Linear(2, 2)
    with torch.no_grad():
        module.weight.copy_(torch.eye(2)), module.bias.zero_()
    probabilities = torch.tensor([[0.9, 0.1], [0.6, 0.4]])
    x, y = torch.zeros(2, 2), torch.tensor([0, 1])
    batch = (x, y, probabilities.log(), torch.arange(2))

    def step(align):
        net = _fixmatch(module, 0.65, prior=(0.5, 0.5), align_distribution=align,
                        adjust_unlabelled=False)
        net.get_iterator(net.get_dataset(np.zeros((4, 2), np.float32), np.r_[0, 1, -1, -1]),
                         training=True)
        return net, net.train_step_single(batch)

    # Unaligned, the second sample is class 0 at 0.6 and falls below the threshold.
    assert float(step(False)[1]["confident"]) == 0.5
    # The pool's mean is (0.75, 0.25) against a prior of a half each: aligned, the samples
    # are (0.75, 0.25) and (1/3, 2/3), both confident, the second now class 1.
    net, result = step(True)
    torch.testing.assert_close(net.pool_mean_, torch.tensor([0.75, 0.25]))
    assert float(result["confident"]) == 1.0
    with torch.no_grad():
        expected = (F.cross_entropy(module(x) + torch.tensor([0.5, 0.5]).log(), y)
                    + F.cross_entropy(probabilities.log(), torch.tensor([0, 1])))
    torch.testing.assert_close(result["loss"].detach(), expected)
    # The mean runs on: a second batch moves it a hundredth of the way.
    net.train_step_single((x, y, torch.tensor([[0.5, 0.5], [0.5, 0.5]]).log(), torch.arange(2)))
    torch.testing.assert_close(net.pool_mean_, torch.tensor([0.7475, 0.2525]))
