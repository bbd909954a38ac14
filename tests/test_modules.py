"""The image network, the head of torchvision models, and the head alone on cached features."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import TensorDataset
from torchvision import models

from selmix_sk._finetune import SelMixNet
from selmix_sk._modules import SmallCNN
from selmix_sk._samplers import PairSampler
from selmix_sk.mixup import FeatureMixer, HeadOnly, find_head, head_features


@pytest.fixture(scope="module")
def digit_images():
    X, y = load_digits(return_X_y=True)
    return torch.as_tensor(X[:400], dtype=torch.float32).reshape(-1, 1, 8, 8), torch.as_tensor(
        y[:400]
    )


def test_small_cnn_learns_digit_images(digit_images):
    X, y = digit_images
    torch.manual_seed(0)
    net = SmallCNN(10, input_mean=[X.mean()], input_scale=[X.std()], widths=(16, 32))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(40):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X[:300]), y[:300]).backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(X[300:]).argmax(1) == y[300:]).double().mean()
    assert accuracy > 0.85
    assert find_head(net)[0] == "head"


@pytest.mark.parametrize(("size", "channels"), [(8, 1), (32, 3), (7, 2)])
def test_small_cnn_takes_any_image_size(size, channels):
    net = SmallCNN(4, in_channels=channels).eval()
    X = torch.randn(3, channels, size, size)
    with FeatureMixer(net).recording() as features:
        logits = net(X)
    assert logits.shape == (3, 4) and features[0].shape == (3, 128)


def test_small_cnn_standardises_per_channel():
    net = SmallCNN(3, in_channels=2, input_mean=[1.0, 10.0], input_scale=[2.0, 5.0]).eval()
    X = torch.randn(4, 2, 8, 8)
    raw = SmallCNN(3, in_channels=2).eval()
    raw.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("input")},
                        strict=False)
    shifted = X * torch.tensor([2.0, 5.0]).view(1, 2, 1, 1) + torch.tensor([1.0, 10.0]).view(
        1, 2, 1, 1)
    torch.testing.assert_close(net(shifted), raw(X))
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\)"):
        net(torch.randn(4, 128))


def _tiny_vit():
    return models.VisionTransformer(image_size=32, patch_size=8, num_layers=1, num_heads=2,
                                    hidden_dim=16, mlp_dim=16, num_classes=5)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: models.resnet18(weights=None, num_classes=5), "fc"),
        (lambda: models.mobilenet_v3_small(weights=None, num_classes=5), "classifier.3"),
        (_tiny_vit, "heads.head"),
    ],
)
def test_head_of_torchvision_models(build, expected):
    torch.manual_seed(0)
    module = build().eval()
    name, head = find_head(module)
    assert name == expected and head is module.get_submodule(expected)
    # The found layer is the one that makes the output: mixing and recording work on it.
    X = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), FeatureMixer(module).recording() as features:
        logits = module(X)
    torch.testing.assert_close(head(features[0]), logits)


def test_head_conventions_take_precedence_over_registration_order():
    class LateAuxiliary(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.auxiliary = nn.Linear(4, 3)

        def forward(self, X):
            return self.fc(X)

    assert find_head(LateAuxiliary())[0] == "fc"
    # Without a conventional name, the last linear layer.
    assert find_head(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)))[0] == "1"
    with pytest.raises(ValueError, match=r"no torch\.nn\.Linear"):
        find_head(nn.Sequential(nn.Conv2d(1, 1, 1)))


def test_head_features_match_a_whole_forward_and_keep_the_mode(digit_images):
    X, y = digit_images
    torch.manual_seed(0)
    net = SmallCNN(10, widths=(8, 16)).train()
    features = head_features(net, X, batch_size=64)
    assert net.training and features.shape == (400, 16) and not features.requires_grad
    net.eval()
    with torch.no_grad(), FeatureMixer(net).recording() as whole:
        net(X)
    torch.testing.assert_close(features, whole[0])
    from_dataset = head_features(net, TensorDataset(X, y), batch_size=128)
    torch.testing.assert_close(from_dataset, features)
    from_numpy = head_features(net, X.numpy(), batch_size=400)
    torch.testing.assert_close(from_numpy, features)


def test_head_called_twice_is_refused():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(3, 3)

        def forward(self, X):
            return self.head(self.head(X))

    with pytest.raises(ValueError, match="ran 2 times in 1 forward passes"):
        head_features(Twice(), torch.randn(4, 3))


def _finetune(module, X, y, steps, seed, head_name):
    sampler = PairSampler(X, y, 10, 32, 0.6, torch.Generator().manual_seed(seed))
    mixer = FeatureMixer(module, head_name)
    net = SelMixNet(module, sampler=sampler, mixer=mixer, refresh_every=steps, total_steps=steps,
                    criterion=nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.0,
                    optimizer__param_groups=[(f"{mixer.head_name}.*", {"lr": 0.05})],
                    optimizer__weight_decay=5e-4, batch_size=32, device="cpu")
    net.fit(X, y)


def test_head_only_finetuning_on_cached_features_equals_a_frozen_backbone(digit_images):
    X, y = digit_images
    torch.manual_seed(0)
    # No dropout: cached features are eval-mode features.
    full = SmallCNN(10, widths=(8, 16), dropout=0.0, input_mean=[X.mean()],
                    input_scale=[X.std()])
    cached = copy.deepcopy(full)
    before = cached.eval()(X).detach()

    # The whole network, with the backbone's learning rate at 0 (frozen) ...
    _finetune(full, X, y, steps=15, seed=1, head_name="head")
    # ... and the head alone on features computed once, with the same draws.
    features = head_features(cached, X)
    _finetune(HeadOnly(cached), features, y, steps=15, seed=1, head_name=None)

    full.eval(), cached.eval()
    with torch.no_grad():
        after_full, after_cached = full(X), cached(X)
    assert (after_cached - before).abs().max() > 1e-2  # the head did move
    torch.testing.assert_close(after_cached, after_full, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(after_cached.argmax(1).numpy(), after_full.argmax(1).numpy())
