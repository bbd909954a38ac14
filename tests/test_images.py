"""Images in SelMixClassifier: 4-D arrays, tensors, Datasets, torchvision models, frozen heads."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch import NeuralNetClassifier
from torch import nn
from torch.utils.data import Dataset, TensorDataset
from torchvision.models import resnet18

from selmix_sk import SelMixClassifier, SmallCNN
from selmix_sk._finetune import DeviceSteps
from selmix_sk._modules import channel_statistics
from selmix_sk._pretrain import PretrainNet

FAST = dict(finetune_steps=6, refresh_every=3, pretrain_epochs=2, batch_size=32, cv=0.25,
            device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digit_images():
    X, y = load_digits(return_X_y=True)
    return X[:400].astype(np.float32).reshape(-1, 1, 8, 8), y[:400]


@pytest.fixture(scope="module")
def fitted(digit_images):
    X, y = digit_images
    return SelMixClassifier(**FAST).fit(X, y)


def test_default_network_for_images_is_a_standardised_small_cnn(digit_images, fitted):
    X, y = digit_images
    assert isinstance(fitted.net_.module_, SmallCNN)
    assert fitted.n_features_in_ == 1
    # Without fine-tuning nothing is held out: the statistics are those of all of X.
    module = SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(X, y).net_.module_
    np.testing.assert_allclose(module.input_mean.numpy(), [X.mean()], rtol=1e-5)
    np.testing.assert_allclose(module.input_scale.numpy(), [X.std()], rtol=1e-4)
    assert (fitted.predict(X) == y).mean() > 0.5  # two epochs; chance is 0.1


def test_tensors_and_datasets_give_what_arrays_give(digit_images, fitted):
    X, y = digit_images
    proba = fitted.predict_proba(X)
    tensor = torch.as_tensor(X)
    np.testing.assert_array_equal(fitted.predict_proba(tensor), proba)
    # A Dataset read in batches of another size: equal up to float rounding.
    np.testing.assert_allclose(fitted.predict_proba(TensorDataset(tensor, torch.as_tensor(y))),
                               proba, atol=1e-6)
    from_tensors = SelMixClassifier(**FAST).fit(tensor, torch.as_tensor(y))
    np.testing.assert_array_equal(from_tensors.predict_proba(X), proba)


def test_a_dataset_trains_with_its_own_labels(digit_images):
    X, y = digit_images
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    clf = SelMixClassifier(**FAST).fit(dataset)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert list(clf.history_["step"]) == [0, 3, 6]
    assert (clf.predict(dataset) == y).mean() > 0.5


def test_image_shapes_must_match_between_fit_and_predict(digit_images, fitted):
    X, _ = digit_images
    with pytest.raises(ValueError, match=r"shape \(1, 4, 4\), but .* shape \(1, 8, 8\)"):
        fitted.predict(X[:, :, :4, :4])
    with pytest.raises(ValueError, match=r"shape \(3, 8, 8\), but .* shape \(1, 8, 8\)"):
        fitted.predict(np.repeat(X, 3, axis=1))
    with pytest.raises(ValueError, match=r"shape \(1, 4, 4\), but"):
        fitted.predict(TensorDataset(torch.as_tensor(X[:, :, :4, :4]), torch.zeros(len(X))))


class _Triples(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return torch.zeros(1, 8, 8), 0, "extra"


def test_a_dataset_of_other_than_pairs_is_refused():
    with pytest.raises(ValueError, match=r"must yield \(x, y\) pairs; item 0 is a tuple of "
                                         r"length 3"):
        SelMixClassifier(**FAST).fit(_Triples())


def test_torchvision_resnet_full_and_with_frozen_backbone():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 16)
    X = (rng.normal(size=(48, 3, 32, 32)) + y[:, None, None, None]).astype(np.float32)
    net = NeuralNetClassifier(resnet18, module__num_classes=3, max_epochs=1, lr=0.01,
                              batch_size=16)
    full = SelMixClassifier(net, **{**FAST, "finetune_steps": 2, "refresh_every": 1})
    full.fit(X, y)
    backbone = {k: v.clone() for k, v in full.net_.module_.state_dict().items()}
    assert full.predict_proba(X).shape == (48, 3)
    frozen = SelMixClassifier(full.net_, freeze_backbone=True, keep_best=False,
                              **{**FAST, "finetune_steps": 4, "refresh_every": 2})
    frozen.fit(X, y)
    after = frozen.net_.module_.state_dict()
    # Only the head (fc) moved; batch-norm statistics and every other weight are as they were.
    moved = {k for k in after if not torch.equal(after[k], backbone[k])}
    assert moved == {"fc.weight", "fc.bias"}
    assert list(frozen.history_["step"]) == [0, 2, 4]


def test_channel_statistics_of_a_dataset_read_evenly(digit_images):
    X, y = digit_images
    mean, scale = channel_statistics(TensorDataset(torch.as_tensor(X), torch.as_tensor(y)),
                                     max_items=100)
    sample = X[np.unique(np.linspace(0, 399, 100).round().astype(int))]
    np.testing.assert_allclose(mean, [sample.mean()], rtol=1e-5)
    np.testing.assert_allclose(scale, [sample.std()], rtol=1e-4)


class _DeviceStepsNet(DeviceSteps, NeuralNetClassifier):
    """DeviceSteps alone, on skorch's own batches."""


def test_device_steps_match_skorch_on_cpu(digit_images):
    # Deferred loss reading and mixed precision change nothing off CUDA: same weights, same log.
    X, y = digit_images
    nets = []
    for cls in (NeuralNetClassifier, _DeviceStepsNet):
        torch.manual_seed(0)
        nets.append(cls(SmallCNN, module__n_classes=10, module__widths=(4, 8), max_epochs=2,
                        batch_size=64, criterion=nn.CrossEntropyLoss, train_split=None,
                        verbose=0).fit(X, y))
    plain, ours = nets
    for key, value in plain.module_.state_dict().items():
        torch.testing.assert_close(ours.module_.state_dict()[key], value, rtol=0, atol=0)
    losses = ours.history[:, "batches", :, "train_loss"]
    assert losses == plain.history[:, "batches", :, "train_loss"]
    assert all(type(loss) is float for epoch in losses for loss in epoch)
    assert ours.history[:, "train_loss"] == plain.history[:, "train_loss"]


@pytest.mark.parametrize("shuffle", [False, True])
def test_pretraining_slices_the_batches_that_skorch_collates(digit_images, shuffle):
    X, y = digit_images
    net = PretrainNet(SmallCNN, module__n_classes=10, batch_size=64, train_split=None,
                      iterator_train__shuffle=shuffle).initialize()
    dataset = net.get_dataset(X, y)
    ours = list(net.get_iterator(dataset, training=True))
    theirs = list(NeuralNetClassifier.get_iterator(net, dataset, training=True))
    sizes = [64] * (len(X) // 64) + [len(X) % 64] * (len(X) % 64 > 0)
    assert [len(xb) for xb, _ in ours] == [len(xb) for xb, _ in theirs] == sizes
    ours_x, ours_y = (torch.cat(part) for part in zip(*ours, strict=True))
    theirs_x, theirs_y = (torch.cat(part) for part in zip(*theirs, strict=True))
    if shuffle:  # the same samples, each once, in other random orders
        ours_order, theirs_order = torch.argsort(ours_y, stable=True), torch.argsort(
            theirs_y, stable=True)
        assert not torch.equal(ours_y, torch.as_tensor(y))
        ours_x, theirs_x = ours_x.flatten(1).sum(1).sort().values, theirs_x.flatten(1).sum(
            1).sort().values
        torch.testing.assert_close(ours_x, theirs_x)
        torch.testing.assert_close(ours_y[ours_order], theirs_y[theirs_order])
    else:
        torch.testing.assert_close(ours_x, theirs_x, rtol=0, atol=0)
        assert torch.equal(ours_y, theirs_y)
    # Datasets of other kinds keep skorch's loader.
    assert isinstance(net.get_iterator(TensorDataset(torch.as_tensor(X)), training=True),
                      torch.utils.data.DataLoader)


def test_a_model_fitted_on_cuda_loads_where_there_is_none(digit_images, fitted):
    if torch.cuda.is_available():
        pytest.skip("the remapping is for machines without CUDA")
    X, _ = digit_images
    clf = pickle.loads(pickle.dumps(fitted))
    # As a CUDA fit leaves them: the estimator and its networks name the GPU.
    clf.device_ = "cuda"
    clf.net_.device = "cuda"
    with pytest.warns(UserWarning, match="no CUDA devices are available"):
        loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
