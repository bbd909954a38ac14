"""The model as a mixture of networks, and the blend of fine-tuned weights with their start.

A fitted :class:`~selmix_sk.SelMixClassifier` predicts with one network or
several (the fold networks of cross-fitting, with the network trained on all
the data when they are blended with it): its probabilities are the weighted
mean of theirs (:func:`mixture_log_proba`). A single network blends in its
weights instead (:func:`blend_weights`), as WiSE-FT does.
"""

from dataclasses import replace

import numpy as np
import torch

from ._batching import predict_in_batches
from ._checks import tunes_offsets
from ._members import pair_schedule
from ._offsets import OffsetDecision, decide_offsets

__all__ = [
    "blend_or_refit",
    "blend_weights",
    "decide_for_model",
    "held_out_log_proba",
    "mixture_log_proba",
    "net_logits",
    "predict_log_proba",
]


def net_logits(net, X):
    """The logits of a fitted skorch net on ``X``, in eval mode, on the CPU.

    Batches of the net's own ``batch_size``, as skorch's ``forward`` takes them.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk import MLP
    >>> from selmix_sk._ensemble import net_logits
    >>> from skorch import NeuralNetClassifier
    >>> net = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3).initialize()
    >>> net_logits(net, np.zeros((5, 2), dtype=np.float32)).shape
    torch.Size([5, 3])
    """
    net.module_.eval()
    return predict_in_batches(net.module_, X, batch_size=net.batch_size, device=net.device).cpu()


def mixture_log_proba(log_probas, weights):
    """The log of the weighted mean of probabilities given as logs.

    Parameters
    ----------
    log_probas : list of torch.Tensor of shape (n_samples, K)
        float64.
    weights : array-like of shape (len(log_probas),)
        Positive, summing to 1.

    Returns
    -------
    log_proba : torch.Tensor of shape (n_samples, K)

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._ensemble import mixture_log_proba
    >>> a, b = torch.tensor([[0.2, 0.8]]).log(), torch.tensor([[0.6, 0.4]]).log()
    >>> mixture_log_proba([a, b], [0.5, 0.5]).exp()
    tensor([[0.4000, 0.6000]])
    """
    log_weights = torch.from_numpy(np.log(np.asarray(weights, dtype=np.float64)))
    stacked = torch.stack(log_probas)
    return torch.logsumexp(stacked + log_weights.to(stacked.dtype)[:, None, None], dim=0)


def predict_log_proba(nets, weights, X):
    """The log-probabilities of the mixture of fitted skorch ``nets`` on ``X``, float64."""
    return mixture_log_proba(
        [torch.log_softmax(net_logits(net, X).to(torch.float64), dim=1) for net in nets], weights,
    )


def blend_weights(kept, start, weight):
    """The state ``weight`` of the way back from ``kept`` to ``start`` (floating entries).

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._ensemble import blend_weights
    >>> blend_weights({"w": torch.tensor([1.0]), "n": torch.tensor(3)},
    ...               {"w": torch.tensor([0.0]), "n": torch.tensor(1)}, 0.25)
    {'w': tensor([0.7500]), 'n': tensor(3)}
    """
    return {name: torch.lerp(value, start[name], weight) if value.is_floating_point() else value
            for name, value in kept.items()}


def held_out_log_proba(networks, kept, blend, nets, X_held_out):
    """The model's log-probabilities on the held-out parts of ``networks``, pooled, float64.

    Each network's logits at the refresh ``kept``, as recorded. ``blend`` is
    the start's share of the model. A single network, whose weights were
    blended, is evaluated afresh on ``X_held_out``, its held-out part, as
    ``nets[0]``. Fold networks are blended in their probabilities with the
    network trained on all of ``X``, which has no held-out data: each fold's
    own start stands in for it there.
    """
    if blend and len(networks) == 1:
        logits = [net_logits(nets[0], X_held_out)]
    else:
        logits = [network.logits[kept] for network in networks]
    log_proba = []
    for network, at_kept in zip(networks, logits, strict=True):
        at_kept = torch.log_softmax(at_kept.to(torch.float64), 1)
        if blend and len(networks) > 1:
            at_start = torch.log_softmax(network.logits[0].to(torch.float64), 1)
            at_kept = mixture_log_proba([at_start, at_kept], [blend, 1.0 - blend])
        log_proba.append(at_kept)
    return torch.cat(log_proba)


# The share of the offsets, tuned on the fold networks' held-out predictions, that a
# model holding the network trained on all of X gets under tune_offsets="auto". On the
# benchmark's nine tables (10 seeds, fit(X, y), test min recall over finetune_steps=0):
# none +0.014, half +0.026, whole +0.024 at 0.006 less mean recall; confirmed on seeds
# 10-19 (see docs/user_guide.rst).
_ALL_DATA_STRENGTH = 0.5


def start_share(start_weight, n_networks):
    """``start_weight``, "auto" resolved for a model of ``n_networks`` fine-tuned networks.

    Examples
    --------
    >>> from selmix_sk._ensemble import start_share
    >>> start_share("auto", 1), start_share("auto", 5), start_share(0.2, 5)
    (0.3, 0.5, 0.2)
    """
    if start_weight == "auto":
        # Fold networks trained on four fifths of X start behind the network trained
        # on all of it. On the benchmark's tables (10 seeds, two draws) a share of 0.3
        # left cars 2.6 points of mean recall below that network; half, within one.
        return 0.5 if n_networks > 1 else 0.3
    return start_weight


def blend_or_refit(networks, kept, start_weight, settings, *, refit=None):
    """The networks that predict, their weights, and the start's share of the model.

    A refresh kept after the start is blended with it (``start_weight``, see
    :func:`start_share`): a single network moves that share of the way back
    to its start's weights; fold networks are averaged with the network
    trained on all of ``X``, which ``refit(schedule)`` trains, handed the
    pair distributions that steered them up to the refresh kept
    (:func:`~selmix_sk._members.pair_schedule`) to fine-tune it on, if the
    estimator asks. A start kept by every
    fold gives way to that network, as ``TunedThresholdClassifierCV`` refits,
    where there is ``refit`` (the held-out parts came from ``cv``). After
    Ctrl-C the fit keeps what it has: no network on all of ``X`` trains.

    Parameters
    ----------
    networks : list of FittedNetwork
        With the weights of the refresh ``kept`` (see ``choose_refresh``).
    kept : int or None
    start_weight : "auto" or float
    settings : TrainingSettings
    refit : callable, default=None
        Trains and returns the network on all of ``X``, given the folds'
        pair schedule.

    Returns
    -------
    nets : list of skorch.NeuralNet
    net_weights : ndarray of shape (len(nets),)
    blend : float
        The start's share; 0 when nothing was blended.
    """
    nets = [network.net for network in networks]
    net_weights = np.full(len(nets), 1.0 / len(nets))
    interrupted = any(network.interrupted for network in networks)
    blend = 0.0
    if kept and not (interrupted and len(networks) > 1):
        blend = start_share(start_weight, len(networks))
    if blend and len(networks) == 1:
        snapshots = networks[0].snapshots
        settings.tuned(nets[0]).load_state_dict(
            blend_weights(snapshots[kept], snapshots[0], blend))
    elif blend:
        nets = [refit(pair_schedule(networks, kept)), *nets]
        net_weights = np.array([blend, *np.full(len(networks), (1.0 - blend) / len(networks))])
    elif kept == 0 and refit is not None and not interrupted:
        nets, net_weights = [refit()], np.ones(1)
    return nets, net_weights, blend


def decide_for_model(networks, kept, blend, nets, X_held_out, settings, tune_offsets):
    """The decision layer of the model ``nets``, on its pooled held-out predictions.

    A model of the networks whose held-out predictions these are gets the
    layer of :func:`~selmix_sk._offsets.decide_offsets` as ``tune_offsets``
    asks. A model that holds the network trained on all of ``X`` (blended
    with the fold networks, or alone when the start is kept) has no
    held-out predictions of its own: the fold networks' stand in for them,
    and offsets tuned on those overcorrect it, since it predicts the rare
    classes better. Under ``tune_offsets="auto"`` such a model gets the
    offsets at half strength (``_ALL_DATA_STRENGTH``), applied unless
    halved offsets tuned on other folds lower the held-out objective;
    under constraints, which ask for the offsets, it gets them whole, as
    ``decide_offsets`` decides.

    Returns
    -------
    decision : OffsetDecision
    """
    n_classes = settings.n_classes
    if kept is None:
        return OffsetDecision(np.zeros(n_classes), False, np.nan, np.nan,
                              "Nothing was held out.")
    log_proba = held_out_log_proba(networks, kept, blend, nets, X_held_out).numpy()
    y_held_out = np.concatenate([network.y_held_out for network in networks])
    objective = networks[0].objective
    own = len(nets) == len(networks) and all(
        net is network.net for net, network in zip(nets, networks, strict=True))
    if (own or not isinstance(tune_offsets, str)
            or tunes_offsets(tune_offsets, settings.objective, settings.constraints)):
        return decide_offsets(log_proba, y_held_out, objective, apply=tune_offsets,
                              class_labels=settings.class_labels)
    decision = decide_offsets(log_proba, y_held_out, objective, apply=tune_offsets,
                              class_labels=settings.class_labels,
                              strength=_ALL_DATA_STRENGTH, lead="none")
    if np.isnan(decision.score_with):  # skipped: a scorer's objective
        return decision
    held_out = decision.reason.split(": ", 1)[1]
    return replace(decision, reason=(
        ("Applied at half strength" if decision.applied else "Not applied")
        + ": the model holds a network trained on all the data, which needs less correction "
        f"than the fold networks whose held-out predictions tuned the offsets; halved, {held_out}"))
