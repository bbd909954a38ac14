"""The default networks (an MLP, a small CNN for images) and the pre-training loss."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ._batching import load_inputs

__all__ = ["MLP", "LogitAdjustedLoss", "SmallCNN", "channel_statistics"]


def _standardisation(n, mean, scale):
    """Fixed shift and scale of ``n`` inputs or channels as float32 buffers (None: identity)."""
    mean = np.zeros(n) if mean is None else mean
    scale = np.ones(n) if scale is None else scale
    return (torch.as_tensor(mean, dtype=torch.float32),
            torch.as_tensor(scale, dtype=torch.float32))


class MLP(nn.Module):
    """A multi-layer perceptron that ends in a linear head, as SelMix needs.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of classes (outputs of the linear head, as logits).
    hidden_units : tuple of int, default=(128, 128)
        Width of each hidden layer.
    dropout : float, default=0.1
        Dropout after each hidden layer.
    input_mean, input_scale : array-like of shape (n_features,), default=None
        Fixed standardisation of the inputs, so that the network trains well
        whatever the scale of the features; None leaves them as they are.
        :class:`~selmix_sk.SelMixClassifier` fills them from the training data.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk import MLP
    >>> MLP(n_features=4, n_classes=3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_units=(128, 128),
        dropout=0.1,
        input_mean=None,
        input_scale=None,
    ):
        super().__init__()
        mean, scale = _standardisation(n_features, input_mean, input_scale)
        self.register_buffer("input_mean", mean)
        self.register_buffer("input_scale", scale)
        layers = []
        width = n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.backbone((X - self.input_mean) / self.input_scale))


def channel_statistics(X, max_items=1024):
    """Mean and spread of every channel of images ``(N, C, H, W)``, for standardising them.

    Parameters
    ----------
    X : array-like of shape (N, C, H, W) or torch.utils.data.Dataset
        Images, or a Dataset of ``(image, label)`` pairs, of which up to
        ``max_items`` spread evenly are read (its labels are not).
    max_items : int, default=1024

    Returns
    -------
    mean, scale : ndarray of shape (C,)
        A channel of constant value gets the scale 1.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._modules import channel_statistics
    >>> images = np.stack([np.zeros((2, 4, 4)), np.ones((2, 4, 4))]) * [[[[1.0]], [[0.0]]]]
    >>> channel_statistics(images)
    (array([0.5, 0. ]), array([0.5, 1. ]))
    """
    if isinstance(X, Dataset):
        indices = np.linspace(0, len(X) - 1, min(len(X), max_items)).round().astype(int)
        X = load_inputs(X, np.unique(indices))
    X = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    mean = X.mean(dim=(0, 2, 3))
    scale = X.std(dim=(0, 2, 3), correction=0)
    return mean.numpy(), torch.where(scale > 1e-6, scale, 1.0).numpy()


class SmallCNN(nn.Module):
    """A small convolutional network for images, ending in a linear head as SelMix needs.

    Stages of two 3x3 convolutions with batch norm and ReLU, halving the
    resolution between stages, then global average pooling: the same network
    serves 8x8 digits and 32x32 images, and the head sees ``widths[-1]``
    features whatever the image size.

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs of the linear head, as logits).
    in_channels : int, default=1
        Channels of the input images ``(N, C, H, W)``.
    widths : tuple of int, default=(32, 64, 128)
        Channels of each stage.
    dropout : float, default=0.1
        Dropout before the head.
    input_mean, input_scale : array-like of shape (in_channels,), default=None
        Fixed per-channel standardisation of the inputs, so that images in
        [0, 255], [0, 1] or [0, 16] all train well; None leaves them as they
        are.

    Attributes
    ----------
    backbone : torch.nn.Sequential
        Images to features of dimension ``widths[-1]``.
    head : torch.nn.Linear

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._modules import SmallCNN
    >>> net = SmallCNN(n_classes=10, in_channels=3)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> SmallCNN(n_classes=10)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_classes, in_channels=1, widths=(32, 64, 128), dropout=0.1,
                 input_mean=None, input_scale=None):
        super().__init__()
        mean, scale = _standardisation(in_channels, input_mean, input_scale)
        self.register_buffer("input_mean", mean)
        self.register_buffer("input_scale", scale)
        layers = []
        channels = in_channels
        for stage, width in enumerate(widths):
            if stage:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU()]
                channels = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout)]
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, X):
        if X.ndim != 4:
            raise ValueError(f"SmallCNN takes images (N, C, H, W); got shape {tuple(X.shape)}.")
        shape = (1, -1, 1, 1)
        X = (X - self.input_mean.view(shape)) / self.input_scale.view(shape)
        return self.head(self.backbone(X))


class LogitAdjustedLoss(nn.CrossEntropyLoss):
    """Cross-entropy on logits shifted by ``tau * log(class prior)``.

    Training with the shift and predicting without it targets the balanced
    error (Menon et al., 2021), the pre-training SelMix starts from. Being a
    :class:`torch.nn.CrossEntropyLoss`, skorch applies a softmax in
    ``predict_proba``.

    Parameters
    ----------
    class_prior : array-like of shape (n_classes,)
        Training share of each class, positive.
    tau : float, default=1.0
        Strength of the adjustment; 0 gives the plain cross-entropy.
    **kwargs
        Passed to :class:`torch.nn.CrossEntropyLoss`.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss([0.9, 0.1])
    >>> logits = torch.zeros(2, 2)
    >>> loss(logits, torch.tensor([1, 1])) > loss(logits, torch.tensor([0, 0]))
    tensor(True)
    """

    def __init__(self, class_prior, tau=1.0, **kwargs):
        super().__init__(**kwargs)
        prior = torch.as_tensor(np.asarray(class_prior, dtype=np.float64))
        self.register_buffer("log_prior", torch.log(prior).float())
        self.tau = tau

    def forward(self, input, target):
        return super().forward(input + self.tau * self.log_prior.to(input.device), target)
