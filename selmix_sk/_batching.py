"""Reading inputs and running a network on them a batch at a time.

The estimator takes arrays, tensors and torch ``Dataset`` objects of
``(x, y)`` pairs alike. This module is where they are read: item by item for a
Dataset (:func:`load_inputs`, :func:`dataset_labels`, :func:`take`), in tensor
batches for all of them (:func:`input_batches`), and through a network,
without gradients, with the head's input features when asked
(:func:`predict_in_batches`).
"""

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, default_collate

__all__ = ["dataset_labels", "input_batches", "load_inputs", "predict_in_batches", "take"]


def _check_pair(item, index):
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        described = type(item).__name__
        if isinstance(item, (tuple, list)):
            described += f" of length {len(item)}"
        raise ValueError(
            f"A Dataset as X must yield (x, y) pairs; item {index} is a {described}."
        )
    return item


def dataset_labels(dataset):
    """The label of every item of a torch ``Dataset`` of ``(x, y)`` pairs, read once.

    Reads ``dataset.targets`` when it has them (as torchvision's data sets do;
    through a ``Subset`` too), else makes one pass over the items.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Yields ``(x, y)`` pairs.

    Returns
    -------
    labels : ndarray of shape (len(dataset),)

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from selmix_sk._batching import dataset_labels
    >>> dataset_labels(TensorDataset(torch.zeros(3, 2), torch.tensor([2, 0, -1])))
    array([ 2,  0, -1])
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"Expected a torch Dataset, got {type(dataset).__name__}.")
    if len(dataset):
        _check_pair(dataset[0], 0)
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        labels = np.asarray(targets.cpu() if torch.is_tensor(targets) else targets)
    elif isinstance(dataset, Subset):
        labels = dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    else:
        labels = np.asarray(
            [np.asarray(_check_pair(dataset[i], i)[1]) for i in range(len(dataset))]
        )
    if labels.shape != (len(dataset),):
        raise ValueError(
            f"The Dataset has {len(dataset)} items but its labels have shape {labels.shape}."
        )
    return labels


def load_inputs(dataset, indices):
    """The inputs ``x`` of the items ``indices`` of a Dataset of ``(x, y)`` pairs, as a batch.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
    indices : sequence of int or torch.Tensor
        On the CPU.

    Returns
    -------
    x : torch.Tensor of shape (len(indices), ...)
        On the CPU.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from selmix_sk._batching import load_inputs
    >>> dataset = TensorDataset(torch.arange(8.0).reshape(4, 2), torch.arange(4))
    >>> load_inputs(dataset, [3, 1])
    tensor([[6., 7.],
            [2., 3.]])
    """
    indices = indices.tolist() if torch.is_tensor(indices) else list(indices)
    inputs = [_check_pair(dataset[i], i)[0] for i in indices]
    try:
        batch = default_collate(inputs)
    except TypeError:
        batch = None
    if not torch.is_tensor(batch):
        raise TypeError(
            "The Dataset's inputs must be tensors, arrays or numbers, got "
            f"{type(inputs[0]).__name__}; give it a transform such as "
            "torchvision.transforms.v2.PILToTensor() for images."
        )
    return batch


def take(X, indices):
    """The items ``indices`` of an array, a tensor or a Dataset (as a ``Subset``, unread).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch.utils.data import TensorDataset
    >>> from selmix_sk._batching import take
    >>> take(np.arange(5), [4, 0])
    array([4, 0])
    >>> len(take(TensorDataset(torch.zeros(5, 2)), [4, 0]))
    2
    """
    return Subset(X, np.asarray(indices).tolist()) if isinstance(X, Dataset) else X[indices]


def input_batches(X, batch_size):
    """The inputs of an array, a tensor or a Dataset of ``(x, y)`` pairs, as tensor batches.

    A Dataset is read a batch at a time and its labels are never touched.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from selmix_sk._batching import input_batches
    >>> dataset = TensorDataset(torch.zeros(5, 2), torch.arange(5))
    >>> [tuple(batch.shape) for batch in input_batches(dataset, 2)]
    [(2, 2), (2, 2), (1, 2)]
    """
    if isinstance(X, Dataset):
        for start in range(0, len(X), batch_size):
            yield load_inputs(X, range(start, min(start + batch_size, len(X))))
    else:
        yield from torch.as_tensor(X).split(batch_size)


def predict_in_batches(module, X, *, batch_size, device=None, mixer=None):
    """The logits of ``module`` on ``X``, a batch at a time and without gradients.

    The module runs in the mode it is in: put it in eval mode first for
    predictions.

    Parameters
    ----------
    module : torch.nn.Module
    X : array-like, torch.Tensor or torch.utils.data.Dataset
        Inputs, or a Dataset of ``(x, y)`` pairs, whose labels are never read.
    batch_size : int
    device : str or torch.device, default=None
        Where each batch goes before the module sees it; None leaves it where
        it is.
    mixer : FeatureMixer, default=None
        A mixer on ``module``'s head: its inputs are recorded too.

    Returns
    -------
    logits : torch.Tensor of shape (n_samples, K)
        On the module's device.
    features : list of torch.Tensor
        The head's input of every batch, in order; only with ``mixer``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk._batching import predict_in_batches
    >>> from selmix_sk.mixup import FeatureMixer
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> logits, features = predict_in_batches(net, torch.randn(10, 4), batch_size=4,
    ...                                       mixer=FeatureMixer(net))
    >>> tuple(logits.shape), [tuple(batch.shape) for batch in features]
    ((10, 3), [(4, 8), (4, 8), (2, 8)])
    """
    if mixer is None:
        with torch.no_grad():
            return torch.cat([module(batch.to(device, non_blocking=True))
                              for batch in input_batches(X, batch_size)])
    with torch.no_grad(), mixer.recording() as features:
        logits = torch.cat([module(batch.to(device, non_blocking=True))
                            for batch in input_batches(X, batch_size)])
    return logits, features
