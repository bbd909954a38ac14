"""Where the mixup happens: feature mixing at the input of the linear head.

SelMix mixes *features*, the input of the final linear layer, so that any
module whose last layer is linear (an MLP, a torchvision ResNet, ...) can be
fine-tuned without changes: one forward pass over ``[x; x']`` runs the
backbone on both halves, and a forward pre-hook on the head replaces its input
``(2B, d)`` by ``lam * first + (1 - lam) * second`` of shape ``(B, d)``.
"""

from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["FeatureMixer", "find_head", "freeze_batchnorm"]


def find_head(module, name=None):
    """The final linear layer of ``module`` and its name.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    name : str, default=None
        Dotted name of the head, such as ``"fc"`` for torchvision's ResNets.
        None takes the last :class:`torch.nn.Linear` registered in ``module``.

    Returns
    -------
    name : str
    head : torch.nn.Linear

    Examples
    --------
    >>> from torch import nn
    >>> from selmix_sk.mixup import find_head
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> find_head(net)[0]
    '2'
    """
    if name is not None:
        try:
            head = module.get_submodule(name)
        except AttributeError as exc:
            raise ValueError(f"The module has no submodule named {name!r} (head).") from exc
    else:
        linear = [(n, m) for n, m in module.named_modules() if isinstance(m, nn.Linear)]
        if not linear:
            raise ValueError(
                "SelMix mixes the input of the final linear layer, and the module has no "
                "torch.nn.Linear layer."
            )
        name, head = linear[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"The head {name!r} must be a torch.nn.Linear, got {type(head).__name__}.")
    return name, head


def freeze_batchnorm(module):
    """Put every batch-norm layer of ``module`` in eval mode.

    Fine-tuning on mixups would otherwise shift the running statistics
    towards the mixed batches, which no test sample resembles.

    Examples
    --------
    >>> from torch import nn
    >>> from selmix_sk.mixup import freeze_batchnorm
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)).train()
    >>> freeze_batchnorm(net)[1].training
    False
    """
    for layer in module.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.eval()
    return module


class FeatureMixer:
    """Mixes or records the input features of a module's linear head.

    Parameters
    ----------
    module : torch.nn.Module
        A network whose output is the output of its final linear layer.
    head : str, default=None
        Dotted name of that layer; None finds it (see :func:`find_head`).

    Attributes
    ----------
    head_name : str
    head : torch.nn.Linear

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk.mixup import FeatureMixer
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> mixer = FeatureMixer(net)
    >>> x_first, x_second = torch.randn(5, 4), torch.randn(5, 4)
    >>> with mixer.mixing(torch.full((5,), 0.7)):
    ...     logits = net(torch.cat([x_first, x_second]))
    >>> logits.shape
    torch.Size([5, 3])
    >>> with mixer.recording() as features:
    ...     _ = net(x_first)
    >>> features[0].shape
    torch.Size([5, 8])
    """

    def __init__(self, module, head=None):
        self.head_name, self.head = find_head(module, head)

    @contextmanager
    def mixing(self, lam):
        """Within the block, the head sees ``lam * first half + (1 - lam) * second half``.

        Parameters
        ----------
        lam : torch.Tensor of shape (B,)
            Mixing coefficient of each pair, on the module's device.
        """

        def mix(_, inputs):
            features = inputs[0]
            first, second = features.chunk(2)
            weight = lam.to(features.dtype).reshape(-1, *([1] * (features.ndim - 1)))
            return (torch.lerp(second, first, weight),)

        handle = self.head.register_forward_pre_hook(mix)
        try:
            yield
        finally:
            handle.remove()

    @contextmanager
    def recording(self):
        """Within the block, the head's input of every call is appended to a list."""
        features = []
        handle = self.head.register_forward_pre_hook(
            lambda _, inputs: features.append(inputs[0].detach())
        )
        try:
            yield features
        finally:
            handle.remove()
