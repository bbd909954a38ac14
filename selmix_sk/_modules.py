"""The default network and the pre-training loss."""

import numpy as np
import torch
from torch import nn

__all__ = ["MLP", "LogitAdjustedLoss"]


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
        mean = np.zeros(n_features) if input_mean is None else input_mean
        scale = np.ones(n_features) if input_scale is None else input_scale
        self.register_buffer("input_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("input_scale", torch.as_tensor(scale, dtype=torch.float32))
        layers = []
        width = n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.backbone((X - self.input_mean) / self.input_scale))


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
