"""What the held-out data say of a network, refresh by refresh, and how networks pool it.

At every refresh SelMix evaluates the network on held-out data: the
confusion matrix and the class prototypes that the gain needs
(:func:`evaluate_validation`), and a row of the record that ``history_``
shows (:func:`history_row`). Cross-fitted networks each hold out a part of
the data; their records pool into one out-of-fold record
(:func:`pooled_confusions`, :func:`pooled_history`).
"""

import numpy as np
import pandas as pd
import torch

from ._batching import predict_in_batches
from ._confusion import confusion_from_logits, recalls

__all__ = [
    "HISTORY_COLUMNS",
    "class_prototypes",
    "evaluate_validation",
    "history_row",
    "pooled_confusions",
    "pooled_history",
]

# The columns of every history record, before the per-class ones.
HISTORY_COLUMNS = ("step", "objective", "mean_recall", "min_recall", "max_gain")


def class_prototypes(features, y, n_classes):
    """The mean feature of every class, float64 (zeros for a class with no sample).

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._record import class_prototypes
    >>> class_prototypes(torch.tensor([[1.0], [3.0], [5.0]]), torch.tensor([0, 0, 1]), 3)
    tensor([[2.],
            [5.],
            [0.]], dtype=torch.float64)
    """
    features = features.to(torch.float64)
    sums = torch.zeros(n_classes, features.shape[1], dtype=torch.float64, device=features.device)
    sums.index_add_(0, y, features)
    return sums / torch.bincount(y, minlength=n_classes).clamp_min(1)[:, None]


def evaluate_validation(module, mixer, X, y, n_classes, batch_size=1024, *, soft=False):
    """Confusion matrix and class prototypes of ``module`` on a validation set.

    Parameters
    ----------
    module : torch.nn.Module
        In eval mode; its head is ``mixer.head``.
    mixer : FeatureMixer
    X : torch.Tensor
        Validation inputs on the module's device.
    y : torch.Tensor
        Encoded labels on the same device.
    n_classes : int
    batch_size : int, default=1024
    soft : bool, default=False
        Sum the predicted probabilities of every sample instead of counting
        its argmax prediction: ``confusion[k, l]`` is then the mean
        probability of class ``l`` over the samples of class ``k``, times
        their share.

    Returns
    -------
    confusion : torch.Tensor of shape (K, K)
        Normalised to sum to 1, float64.
    prototypes : torch.Tensor of shape (K, d)
        Mean head input per class, float64 (zeros for an absent class).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk.callbacks import evaluate_validation
    >>> from selmix_sk.mixup import FeatureMixer
    >>> module = nn.Sequential(nn.Linear(2, 2))
    >>> with torch.no_grad():
    ...     _ = module[0].weight.copy_(torch.eye(2)), module[0].bias.zero_()
    >>> X = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    >>> y = torch.tensor([0, 1, 1])
    >>> confusion, prototypes = evaluate_validation(module, FeatureMixer(module), X, y, 2)
    >>> confusion * 3
    tensor([[1., 0.],
            [1., 1.]], dtype=torch.float64)
    >>> soft, _ = evaluate_validation(module, FeatureMixer(module), X, y, 2, soft=True)
    >>> (soft * 3).round(decimals=2)
    tensor([[0.8800, 0.1200],
            [1.0000, 1.0000]], dtype=torch.float64)
    """
    logits, features = predict_in_batches(module, X, batch_size=batch_size, mixer=mixer)
    return (confusion_from_logits(logits, y, n_classes, soft=soft),
            class_prototypes(torch.cat(features), y, n_classes))


def history_row(objective, class_labels, step, value, C, max_gain, multipliers):
    """One record of fine-tuning: the objective and recalls of ``C``, gains, multipliers.

    Parameters
    ----------
    objective : Objective
        Gives the per-class slack of its constraints, if it has any.
    class_labels : array-like of shape (K,)
    step : int
    value : float
        The objective's value on ``C``.
    C : ndarray of shape (K, K)
        The normalised (argmax) confusion matrix on held-out data.
    max_gain : float
    multipliers : ndarray of shape (K,) or None

    Returns
    -------
    row : dict
        ``HISTORY_COLUMNS``, then ``recall_<label>``, ``slack_<name>_<label>``
        and ``multiplier_<k>`` columns.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.callbacks import history_row
    >>> from selmix_sk.objectives import make_objective
    >>> C = np.array([[0.4, 0.1], [0.0, 0.5]])
    >>> row = history_row(make_objective("mean_recall"), ["a", "b"], 20, 0.9, C, 0.1, None)
    >>> float(row["min_recall"]), float(row["recall_b"])
    (0.8, 1.0)
    """
    recall = recalls(C)[0]
    row = dict(zip(HISTORY_COLUMNS,
                   (step, value, recall.mean(), recall.min(), max_gain),
                   strict=True))
    columns = {"recall": recall}
    if hasattr(objective, "constraint_slack"):
        slack = objective.constraint_slack(C)
        columns.update({f"slack_{name}": values for name, values in slack.items()})
    for prefix, values in columns.items():
        row.update({f"{prefix}_{label}": v for label, v in zip(class_labels, values, strict=True)})
    if multipliers is not None:
        row.update({f"multiplier_{i}": m for i, m in enumerate(multipliers)})
    return row


def pooled_confusions(held_out_labels, held_out_logits, n_classes):
    """Out-of-fold confusion matrices, refresh by refresh, pooled over folds.

    Parameters
    ----------
    held_out_labels : list of ndarray
        The encoded labels of every fold's held-out part.
    held_out_logits : list of list of torch.Tensor
        For every fold, its logits on its held-out part at each refresh. A
        fold that stopped early (interrupted, or diverged) ends the record.
    n_classes : int

    Returns
    -------
    counted, soft : ndarray of shape (n_refreshes, K, K)
        Normalised confusion matrices from argmax counts and from mean
        predicted probabilities.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from selmix_sk._record import pooled_confusions
    >>> labels = [np.array([0, 1]), np.array([1])]
    >>> logits = [[torch.tensor([[2.0, 0.0], [0.0, 2.0]])], [torch.tensor([[3.0, 0.0]])]]
    >>> counted, soft = pooled_confusions(labels, logits, 2)
    >>> counted[0] * 3
    array([[1., 0.],
           [1., 1.]])
    """
    y = torch.as_tensor(np.concatenate(held_out_labels))
    counted, soft = [], []
    # zip stops at the shortest fold: the refreshes that every fold reached.
    for per_fold in zip(*held_out_logits):  # noqa: B905
        logits = torch.cat([part.cpu().to(torch.float64) for part in per_fold])
        counted.append(confusion_from_logits(logits, y, n_classes, soft=False).numpy())
        soft.append(confusion_from_logits(logits, y, n_classes, soft=True).numpy())
    return np.stack(counted), np.stack(soft)


def pooled_history(objective, class_labels, records, counted, kept):
    """``history_``: a row per refresh of the pooled record, gains and multipliers averaged.

    Parameters
    ----------
    objective : Objective
        Of the first network: its value of each pooled confusion matrix.
    class_labels : array-like of shape (K,)
    records : list of list of dict
        Every network's record (see :class:`~selmix_sk.callbacks.GainRefresh`).
    counted : ndarray of shape (n_refreshes, K, K)
        The pooled argmax confusion matrices (:func:`pooled_confusions`).
    kept : int
        The refresh whose weights were kept: its row is ``selected``.

    Returns
    -------
    history : pandas.DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._record import history_row, pooled_history
    >>> from selmix_sk.objectives import make_objective
    >>> objective = make_objective("mean_recall")
    >>> C = np.array([[0.4, 0.1], [0.0, 0.5]])
    >>> records = [[history_row(objective, [0, 1], 0, 0.9, C, g, None)] for g in (0.1, 0.3)]
    >>> pooled_history(objective, [0, 1], records, C[None], kept=0)[["max_gain", "selected"]]
       max_gain  selected
    0       0.2      True
    """
    rows = []
    for index, C in enumerate(counted):
        at_refresh = [record[index] for record in records]
        multipliers = objective.multipliers
        if multipliers is not None:
            multipliers = np.mean(
                [[r[f"multiplier_{k}"] for k in range(len(multipliers))] for r in at_refresh], 0)
        rows.append(history_row(
            objective, class_labels, at_refresh[0]["step"], objective.value(C), C,
            float(np.mean([r["max_gain"] for r in at_refresh])), multipliers,
        ) | {"selected": index == kept})
    return pd.DataFrame(rows)
