"""The normalised confusion matrix and the per-class recalls it gives.

Every objective of this package is a function of the confusion matrix
normalised to sum to 1: ``C[k, l]`` is the share of the samples that are of
class ``k`` and predicted as ``l``. This module makes it, from labels
(:func:`normalised_confusion`, :func:`confusion_from_predictions`) or from a
network's logits (:func:`confusion_from_logits`, hard or soft), and reads the
recalls off it (:func:`recalls`).
"""

import numpy as np
import torch
from sklearn.metrics import confusion_matrix
from sklearn.utils.multiclass import unique_labels

__all__ = ["confusion_from_logits", "confusion_from_predictions", "normalised_confusion",
           "recalls"]

# A share of 1e-12 is no sample of any real validation set; dividing by it overflows.
EMPTY_ROW = 1e-12


def recalls(C):
    """The recall of every class of a normalised confusion matrix, and the class shares.

    Parameters
    ----------
    C : ndarray of shape (K, K)

    Returns
    -------
    recall : ndarray of shape (K,)
        ``C[k, k] / pi[k]``; 0 for a class with no samples.
    pi : ndarray of shape (K,)
        The row sums, 1 where a row is empty, so that they divide safely.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._confusion import recalls
    >>> recalls(np.array([[0.4, 0.1], [0.0, 0.5]]))[0]
    array([0.8, 1. ])
    """
    pi = C.sum(axis=1)
    safe_pi = np.where(pi > EMPTY_ROW, pi, 1.0)
    return np.diagonal(C) / safe_pi, safe_pi


def _check_labels(y, n_samples, n_classes):
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},), got {y.shape}.")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer labels, got dtype {y.dtype}.")
    if n_samples and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"Labels must lie in 0 .. {n_classes - 1}, got {y.min()} .. {y.max()}."
        )
    return y.astype(np.intp)


def confusion_from_predictions(y_true, y_pred, n_classes, *, sample_weight=None):
    """Confusion matrix normalised to sum 1, of encoded labels: rows true, columns predicted.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels in ``0 .. n_classes - 1``.
    y_pred : array-like of shape (n_samples,)
        Predicted labels in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes K.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample; all ones if None.

    Returns
    -------
    C : ndarray of shape (n_classes, n_classes)
        ``C[k, l]`` is the weighted share of the samples of class ``k``
        predicted as ``l``; all zeros when there are no samples.

    See Also
    --------
    normalised_confusion : The same of labels of any kind.

    Examples
    --------
    >>> from selmix_sk._confusion import confusion_from_predictions
    >>> confusion_from_predictions([0, 0, 1, 1], [0, 1, 1, 1], 2)
    array([[0.25, 0.25],
           [0.  , 0.5 ]])
    """
    y_true = np.asarray(y_true)
    y_true = _check_labels(y_true, len(y_true), n_classes)
    y_pred = _check_labels(y_pred, len(y_true), n_classes)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"sample_weight must have shape {y_true.shape}, got {sample_weight.shape}."
            )
    counts = np.bincount(
        y_true * n_classes + y_pred, weights=sample_weight, minlength=n_classes**2
    ).astype(np.float64)
    total = counts.sum()
    return (counts / total if total > 0 else counts).reshape(n_classes, n_classes)


def normalised_confusion(y_true, y_pred, *, labels=None, sample_weight=None):
    """Confusion matrix normalised to sum 1, of labels of any kind, over ``labels``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (K,), default=None
        The classes, in the order of the rows; by default every label of
        ``y_true`` or ``y_pred``, sorted. Samples of other labels are left out.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    C : ndarray of shape (K, K)
        All zeros when no sample counts.

    Examples
    --------
    >>> from selmix_sk._confusion import normalised_confusion
    >>> normalised_confusion(["a", "b", "b", "b"], ["a", "a", "b", "b"])
    array([[0.25, 0.  ],
           [0.25, 0.5 ]])
    """
    if labels is None:
        labels = unique_labels(y_true, y_pred)
    C = confusion_matrix(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    C = C.astype(float)
    total = C.sum()
    return C / total if total > 0 else C


def confusion_from_logits(logits, y, n_classes, *, soft):
    """The normalised confusion matrix of a network's logits on labelled samples, in torch.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, K)
    y : torch.Tensor of shape (n_samples,)
        Encoded labels, on the device of ``logits``.
    n_classes : int
    soft : bool
        Sum every sample's predicted probabilities instead of counting its
        argmax prediction: ``C[k, l]`` is then the mean probability of class
        ``l`` over the samples of class ``k``, times their share.

    Returns
    -------
    C : torch.Tensor of shape (K, K)
        float64.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._confusion import confusion_from_logits
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    >>> confusion_from_logits(logits, torch.tensor([0, 1, 1]), 2, soft=False) * 3
    tensor([[1., 0.],
            [1., 1.]], dtype=torch.float64)
    """
    if soft:
        predictions = torch.softmax(logits.to(torch.float64), dim=1)
    else:
        predictions = torch.nn.functional.one_hot(logits.argmax(1), n_classes).to(torch.float64)
    sums = torch.zeros(n_classes, n_classes, dtype=torch.float64, device=logits.device)
    return sums.index_add_(0, y, predictions) / len(y)
