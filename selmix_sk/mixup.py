"""Where the mixup happens: feature mixing at the input of the linear head.

The head is also where a frozen backbone is cut off: :func:`head_features`
computes the head's input once, and :class:`HeadOnly` fine-tunes the head
alone on those cached features.

SelMix mixes *features*, the input of the final linear layer, so that any
module whose last layer is linear (an MLP, a torchvision ResNet, ...) can be
fine-tuned without changes: one forward pass over ``[x; x']`` runs the
backbone on both halves, and a forward pre-hook on the head replaces its input
``(2B, d)`` by ``lam * first + (1 - lam) * second`` of shape ``(B, d)``.
"""

from contextlib import contextmanager

import torch
from torch import nn

from ._batching import predict_in_batches

__all__ = ["FeatureMixer", "HeadOnly", "find_head", "freeze_batchnorm", "head_features"]


# Where classification models keep their final linear layer: torchvision's
# ResNets and RegNets (fc), VGG, MobileNets, EfficientNets and ConvNeXt
# (classifier[-1]), DenseNet (classifier), ViT (heads.head), Swin and this
# package's networks (head).
_HEAD_NAMES = ("fc", "classifier", "heads.head", "head")


def _conventional_head(module):
    for name in _HEAD_NAMES:
        try:
            layer = module.get_submodule(name)
        except AttributeError:
            continue
        if isinstance(layer, nn.Sequential) and len(layer):
            name, layer = f"{name}.{len(layer) - 1}", layer[-1]
        if isinstance(layer, nn.Linear):
            return name, layer
    return None


def find_head(module, name=None):
    """The final linear layer of ``module`` and its name.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    name : str, default=None
        Dotted name of the head, such as ``"fc"`` for torchvision's ResNets.
        None looks for the heads of torchvision's classification models in
        turn: ``fc`` (ResNet), the last layer of ``classifier`` (VGG,
        MobileNet, EfficientNet), ``heads.head`` (ViT) and ``head``, the first
        that is a :class:`torch.nn.Linear`; failing those, the last
        :class:`torch.nn.Linear` registered in ``module``.

    Returns
    -------
    name : str
    head : torch.nn.Linear

    Examples
    --------
    >>> from torch import nn
    >>> from torchvision.models import mobilenet_v3_small
    >>> from selmix_sk.mixup import find_head
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> find_head(net)[0]
    '2'
    >>> find_head(mobilenet_v3_small(weights=None, num_classes=5))
    ('classifier.3', Linear(in_features=1024, out_features=5, bias=True))
    """
    if name is not None:
        try:
            head = module.get_submodule(name)
        except AttributeError as exc:
            raise ValueError(f"The module has no submodule named {name!r} (head).") from exc
    elif (found := _conventional_head(module)) is not None:
        name, head = found
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
    >>> with mixer.attached():  # one hook for a loop of mixing steps
    ...     for _ in range(3):
    ...         with mixer.mixing(torch.full((5,), 0.7)):
    ...             logits = net(torch.cat([x_first, x_second]))
    ...     unmixed = net(x_first)  # outside a mixing block, the head's input as it is
    >>> logits.shape, unmixed.shape
    (torch.Size([5, 3]), torch.Size([5, 3]))
    >>> with mixer.recording() as features:
    ...     _ = net(x_first)
    >>> features[0].shape
    torch.Size([5, 8])
    """

    def __init__(self, module, head=None):
        self.head_name, self.head = find_head(module, head)
        self._lam = None
        self._hook = None

    def _mix(self, _, inputs):
        if self._lam is None:
            return None
        features = inputs[0]
        first, second = features.chunk(2)
        weight = self._lam.to(features.dtype).reshape(-1, *([1] * (features.ndim - 1)))
        return (torch.lerp(second, first, weight),)

    @contextmanager
    def attached(self):
        """Within the block the mixing hook stays on the head, idle outside :meth:`mixing`.

        A training loop of many mixing steps registers the hook once this way
        instead of at every step; forward passes outside a :meth:`mixing`
        block are left as they are.
        """
        if self._hook is not None:
            yield
            return
        self._hook = self.head.register_forward_pre_hook(self._mix)
        try:
            yield
        finally:
            self._hook.remove()
            self._hook = None

    @contextmanager
    def mixing(self, lam):
        """Within the block, the head sees ``lam * first half + (1 - lam) * second half``.

        Parameters
        ----------
        lam : torch.Tensor of shape (B,)
            Mixing coefficient of each pair, on the module's device.
        """
        with self.attached():
            self._lam = lam
            try:
                yield
            finally:
                self._lam = None

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


def _device(module):
    parameter = next(module.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


def head_features(module, X, *, head=None, batch_size=1024):
    """The input features of ``module``'s head on ``X``, computed once without gradients.

    The backbone runs in eval mode (batch-norm running statistics, no
    dropout), a batch at a time; the module's mode is restored afterwards.
    Fine-tuning :class:`HeadOnly` on these features trains the head exactly as
    fine-tuning the whole module with a frozen backbone would, at the cost of
    the head alone per step.

    Parameters
    ----------
    module : torch.nn.Module
        A network whose output is the output of its final linear layer.
    X : array-like, torch.Tensor or torch.utils.data.Dataset
        Inputs, or a Dataset of ``(x, y)`` pairs; moved to the module's
        device a batch at a time.
    head : str, default=None
        Dotted name of the head; None finds it (see :func:`find_head`).
    batch_size : int, default=1024

    Returns
    -------
    features : torch.Tensor of shape (n_samples, d)
        On the module's device.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk.mixup import head_features
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> head_features(net, torch.randn(10, 4), batch_size=3).shape
    torch.Size([10, 8])
    """
    mixer = FeatureMixer(module, head)
    device = _device(module)
    if not len(X):
        return torch.empty(0, mixer.head.in_features, device=device)
    training = module.training
    module.eval()
    try:
        _, features = predict_in_batches(module, X, batch_size=batch_size, device=device,
                                         mixer=mixer)
    finally:
        module.train(training)
    calls = -(-len(X) // batch_size)
    if len(features) != calls:
        raise ValueError(
            f"The head {mixer.head_name!r} ran {len(features)} times in {calls} forward passes; "
            "caching its input needs exactly one call per pass."
        )
    return torch.cat(features)


class HeadOnly(nn.Module):
    """The head of a network alone, to fine-tune on cached features.

    It holds the network's head itself, not a copy: training it updates the
    network in place, which then predicts from raw inputs as before.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    head : str, default=None
        Dotted name of its head; None finds it (see :func:`find_head`).

    Attributes
    ----------
    head : torch.nn.Linear
        The network's head, shared.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk.mixup import HeadOnly, head_features
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    >>> X = torch.randn(5, 4)
    >>> torch.allclose(HeadOnly(net)(head_features(net, X)), net(X))
    True
    """

    def __init__(self, module, head=None):
        super().__init__()
        self.head = find_head(module, head)[1]

    def forward(self, features):
        return self.head(features)
