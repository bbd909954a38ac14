"""One network's training: pre-training when it needs it, then SelMix fine-tuning.

The estimator trains one network per held-out part (a fold when
cross-fitting), in turn or in parallel through joblib. Each is trained by
:func:`train_network`, a module-level function of explicit arguments: the
settings (:class:`TrainingSettings`, one small frozen object), the data, the
held-out part and a seed. It returns a :class:`FittedNetwork`: the network,
its record of the held-out data at every refresh and the weights it kept.
"""

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from skorch import NeuralNet, NeuralNetClassifier
from torch import nn
from torch.utils.data import Dataset

from ._batching import input_batches, predict_in_batches, take
from ._checks import accepts
from ._confusion import confusion_from_predictions
from ._finetune import SelMixNet
from ._modules import MLP, LogitAdjustedLoss, SmallCNN, channel_statistics
from ._pretrain import PretrainNet, pretrain
from ._samplers import make_pair_sampler
from ._threads import estimator_threads
from .callbacks import GainRefresh, PairSchedule, ProgressBar
from .mixup import FeatureMixer, HeadOnly, head_features
from .objectives import make_objective

__all__ = [
    "FittedNetwork",
    "TrainingSettings",
    "build_net",
    "finetune_on_schedule",
    "held_out_counts",
    "pair_schedule",
    "train_network",
    "train_networks",
]


@dataclass(frozen=True)
class TrainingSettings:
    """What training a network reads of the estimator: its parameters, resolved.

    Built once per ``fit`` by :meth:`of`; it holds no data and no fitted
    state, so that a parallel backend sends little to each worker.
    """

    net: NeuralNet | None
    objective: object
    constraints: dict | None
    class_labels: np.ndarray
    finetune_steps: int
    selection: str
    temperature: float
    mixup_lambda_min: float
    refresh_every: int
    batch_size: int
    finetune_lr: float
    backbone_lr_factor: float
    weight_decay: float
    pretrain_epochs: int
    logit_adjustment: float
    head: str | None
    freeze_backbone: bool
    augment: object
    fixmatch_threshold: float
    fixmatch_class_thresholds: bool
    fixmatch_alignment: bool
    fixmatch_mu: int
    fixmatch_weight: float
    fixmatch: object
    indicator: str
    confusion: str
    device: str
    verbose: int
    n_threads: object

    @classmethod
    def of(cls, estimator, classes, device):
        """The settings of a :class:`~selmix_sk.SelMixClassifier` for ``classes`` on ``device``."""
        params = {name: getattr(estimator, name) for name in cls.__dataclass_fields__
                  if name not in ("class_labels", "device")}
        return cls(**params, class_labels=classes, device=device)

    @property
    def n_classes(self):
        return len(self.class_labels)

    def new_objective(self, prior):
        """A fresh objective, its multipliers set for training shares ``prior``."""
        return make_objective(self.objective, self.constraints).reset(prior)

    def tuned(self, net):
        """What fine-tuning trains of ``net``: its module, or its head alone (frozen backbone).

        Built afresh from the network, not carried with it: a network that
        comes back from a joblib worker is a copy, its module no longer the
        object that was trained there.
        """
        return HeadOnly(net.module_, self.head) if self.freeze_backbone else net.module_


@dataclass
class FittedNetwork:
    """One trained network and what its held-out part saw at every refresh.

    Attributes
    ----------
    net : skorch.NeuralNet
        Pre-trained, then fine-tuned in place.
    objective : Objective
        With its multipliers at the end of fine-tuning.
    y_held_out : ndarray or None
        The encoded labels of the held-out part; None when nothing was held out.
    records : list of dict or None
        A history row per refresh (see :class:`~selmix_sk.callbacks.GainRefresh`).
    logits : list of torch.Tensor or None
        The logits on the held-out part at every refresh, on the CPU.
    snapshots : dict or None
        States of what fine-tuning trained (see :meth:`TrainingSettings.tuned`)
        by refresh index.
    kept : int or None
        The refresh that a network trained alone chose as it went; None where
        networks share the choice.
    interrupted : bool
        The user stopped its training (Ctrl-C), which ends the fit.
    pretraining : str
        How it was pre-trained: ``"supervised"`` (no unlabelled sample),
        ``"FixMatch"``, ``"labelled"`` (unlabelled samples at hand, the
        labelled ones alone) or ``"fitted"`` (none here).
    pairs : list of torch.Tensor or None
        The pair distribution of every refresh, on the CPU (see
        :func:`pair_schedule`).
    """

    net: NeuralNet
    objective: object
    y_held_out: np.ndarray | None = None
    records: list | None = None
    logits: list | None = None
    snapshots: dict | None = None
    kept: int | None = None
    interrupted: bool = False
    pretraining: str = "fitted"
    pairs: list | None = None

    def restore(self, refresh, settings):
        """Load the weights of the refresh ``refresh`` into the network, where they were kept."""
        if self.snapshots:
            settings.tuned(self.net).load_state_dict(self.snapshots[refresh])


def train_network(settings, X, y, X_held_out, y_held_out, *, seed, prior, net=None, epochs=None,
                  rule=None, judge_pool=False):
    """Pre-train (unless fitted) and fine-tune one network.

    Parameters
    ----------
    settings : TrainingSettings
    X, y : the training part; ``y`` encoded, -1 for an unlabelled sample.
    X_held_out, y_held_out : the held-out part, or None when nothing is held out.
    seed : int
        Seeds torch's generators for this network, which are restored after.
    prior : ndarray of shape (n_classes,)
        Training share of every class, for the logit adjustment.
    net : skorch.NeuralNet, default=None
        A network to go on training (``partial_fit``); None builds one
        (:func:`build_net`).
    epochs : int, default=None
        Pre-training epochs; None: the network's own, none for a fitted one.
    rule : RefreshRule, default=None
        A network trained alone chooses the refresh to keep as it trains, by
        this rule, and keeps the weights of the start and of the candidate
        only. None: one of several networks, whose pooled record chooses after
        training; it keeps every refresh's weights.
    judge_pool : bool, default=False
        With unlabelled samples and ``settings.fixmatch == "auto"``, judge
        FixMatch against the labelled samples alone on the held-out part
        (:func:`_pretrain_judging_the_pool`); else FixMatch unless
        ``settings.fixmatch`` is False.

    Returns
    -------
    network : FittedNetwork
    """
    with _forked_rng(settings.device):
        torch.manual_seed(seed)
        first_two, built = next(input_batches(X, 2)), net is None
        if built:
            net, fitted = build_net(settings, X)
            if fitted and epochs is None:
                epochs = 0
        with estimator_threads(settings.n_threads, settings.device, net.module_,
                               first_two.shape[1:]):
            if built:
                # Before any training: a network that cannot serve SelMix fails in seconds.
                _check_module(net, first_two, settings)
            net, finished, pretraining = _pretrain_as_asked(
                net, X, y, X_held_out, y_held_out, epochs, prior, settings, seed, judge_pool)
            steps = settings.finetune_steps if finished else 0
            network = _finetune(settings, net, X, y, X_held_out, y_held_out, seed, steps, prior,
                                rule)
        network.interrupted |= not finished
        network.pretraining = pretraining
        return network


def train_networks(settings, parts, seeds, priors, *, rule, n_jobs=None):
    """A network per held-out part: in turn, or in parallel through joblib (``n_jobs``).

    In turn, Ctrl-C in one ends the fit there: the parts to come do not
    train. That loop is a plain one, as not every joblib backend can hand
    back results one at a time (Ray's cannot). A network trained alone
    chooses its refresh by ``rule`` as it goes; several choose on their pooled
    record after training.
    """
    rule = rule if len(parts) == 1 else None
    jobs = [((settings, *part), {"seed": seed, "prior": prior, "rule": rule, "judge_pool": True})
            for part, seed, prior in zip(parts, seeds, priors, strict=True)]
    if effective_n_jobs(n_jobs) > 1:
        return Parallel(n_jobs=n_jobs)(delayed(train_network)(*args, **kwargs)
                                       for args, kwargs in jobs)
    networks = []
    for args, kwargs in jobs:
        networks.append(train_network(*args, **kwargs))
        if networks[-1].interrupted:
            break
    return networks


def held_out_counts(networks, n_classes):
    """Held-out samples of every class, over the held-out parts of ``networks``."""
    held_out = [network.y_held_out for network in networks if network.y_held_out is not None]
    return np.bincount(np.concatenate(held_out) if held_out else np.zeros(0, dtype=np.intp),
                       minlength=n_classes)


def _net_device(net, device):
    """The ``device`` a skorch net gets: None where an accelerator places tensors itself."""
    accelerator = getattr(net, "accelerator", None)  # skorch's AccelerateMixin
    return None if getattr(accelerator, "device_placement", False) else device


def build_net(settings, X):
    """The network to train on ``X``, initialised, and whether it is already fitted.

    The estimator's ``net`` cloned (or copied, when fitted), or the default
    network for the shape of ``X``; set up for pre-training with the
    logit-adjusted loss and no skorch validation split.
    """
    n_classes = settings.n_classes
    shape = next(input_batches(X, 1)).shape[1:]
    if settings.net is None:
        if len(shape) == 3:
            mean, scale = channel_statistics(X)
            module, module_params = SmallCNN, {"in_channels": shape[0]}
        elif len(shape) == 1:
            scale = X.std(axis=0)
            mean, scale = X.mean(axis=0), np.where(scale > 1e-6, scale, 1.0)
            module, module_params = MLP, {"n_features": shape[0]}
        else:
            raise ValueError(
                "The default network (net=None) is an MLP for 2-D X and a SmallCNN for "
                f"images (4-D X); got samples of shape {tuple(shape)}. Pass a network for "
                "inputs of other shapes."
            )
        net = PretrainNet(
            module,
            **{f"module__{name}": value for name, value in module_params.items()},
            module__n_classes=n_classes,
            module__input_mean=mean,
            module__input_scale=scale,
            optimizer=torch.optim.AdamW,
            # The same updates in one kernel per parameter group: a third less time for a
            # small network's steps on the CPU.
            optimizer__fused=True,
            lr=1e-3,
            max_epochs=settings.pretrain_epochs,
            batch_size=settings.batch_size,
            iterator_train__shuffle=True,
        )
    elif getattr(settings.net, "initialized_", False):
        net = copy.deepcopy(settings.net)
        net.device = _net_device(net, settings.device)
        net.module_.to(settings.device)
        return net, True
    else:
        net = clone(settings.net)
        module = net.module
        params = net.get_params()
        for name, value in (("n_features", shape[0]), ("n_classes", n_classes)):
            if accepts(module, name) and f"module__{name}" not in params:
                net.set_params(**{f"module__{name}": value})
    callbacks = list(net.callbacks or [])
    if settings.verbose:
        steps = net.max_epochs * -(-len(X) // net.batch_size)
        callbacks.append(("selmix_progress", ProgressBar(steps, desc="pre-training")))
    net.set_params(
        criterion=LogitAdjustedLoss,
        criterion__class_prior=np.full(n_classes, 1.0 / n_classes),
        criterion__tau=settings.logit_adjustment,
        train_split=None,
        device=_net_device(net, settings.device),
        callbacks=callbacks,
        verbose=int(settings.verbose > 1),
    )
    if isinstance(net, NeuralNetClassifier):
        net.set_params(classes=list(range(n_classes)))
    return net.initialize(), False


def _check_module(net, X, settings):
    """Fail, saying why, unless the network's output is its head's (the logits) on ``X``."""
    module = net.module_
    mixer = FeatureMixer(module, settings.head)
    X = X.to(torch.device(settings.device))
    module.eval()
    try:
        with torch.no_grad(), mixer.recording() as features:
            output = module(X)
    except RuntimeError as exc:
        raise ValueError(f"The network failed on two samples of X: {exc}") from exc
    if not features:
        raise ValueError(f"The network never calls its layer {mixer.head_name!r} (head).")
    with torch.no_grad():
        # Under mixed precision (an accelerator's autocast) the features may be bfloat16.
        expected = mixer.head(features[-1].to(mixer.head.weight.dtype))
    low_precision = output.dtype in (torch.float16, torch.bfloat16)
    tolerance = {"rtol": 2e-2, "atol": 2e-2} if low_precision else {}
    if output.shape != expected.shape or not torch.allclose(
        output.to(expected.dtype), expected, **tolerance
    ):
        raise ValueError(
            f"The network's output must be the output of its final linear layer "
            f"{mixer.head_name!r} (the logits); pass head=... to name that layer."
        )


def _pretrain(net, X, y, epochs, prior, settings):
    """Pre-train in place; whether every epoch ran (else the user interrupted it)."""
    epochs = epochs or net.max_epochs
    # skorch ends training quietly on KeyboardInterrupt, keeping what it learnt.
    done = pretrain(net, X, y, class_prior=prior, epochs=epochs, augment=settings.augment,
                    threshold=settings.fixmatch_threshold,
                    class_thresholds=settings.fixmatch_class_thresholds,
                    align_distribution=settings.fixmatch_alignment, mu=settings.fixmatch_mu,
                    unlabelled_weight=settings.fixmatch_weight)
    if done < epochs:
        warnings.warn(
            f"Pre-training was interrupted after {done} of {epochs} epochs; fine-tuning is "
            "skipped and the estimator keeps the network as it is.",
            UserWarning,
            stacklevel=4,
        )
    return done == epochs


def _forked_rng(device):
    """torch's random streams, forked: what runs inside leaves them as they were."""
    cuda = torch.device(device).type == "cuda"
    return torch.random.fork_rng(devices=[torch.device(device)] if cuda else [])


def _pretrain_labelled(net, X, y, epochs, prior, settings):
    """Pre-train in place on the labelled samples alone; whether every epoch ran."""
    labelled = np.flatnonzero(np.asarray(y) >= 0)
    return _pretrain(net, take(X, labelled), np.asarray(y)[labelled], epochs, prior, settings)


def _pretrain_as_asked(net, X, y, X_held_out, y_held_out, epochs, prior, settings, seed,
                       judge_pool):
    """Pre-train as ``settings.fixmatch`` asks; the network, whether it finished, and how."""
    if epochs == 0:
        return net, True, "fitted"
    if not (np.asarray(y) < 0).any():
        return net, _pretrain(net, X, y, epochs, prior, settings), "supervised"
    if not isinstance(settings.fixmatch, str) and not settings.fixmatch:
        return net, _pretrain_labelled(net, X, y, epochs, prior, settings), "labelled"
    if judge_pool and settings.fixmatch == "auto" and y_held_out is not None:
        return _pretrain_judging_the_pool(net, X, y, X_held_out, y_held_out, epochs, prior,
                                          settings, seed)
    return net, _pretrain(net, X, y, epochs, prior, settings), "FixMatch"


def _pretrain_judging_the_pool(net, X, y, X_held_out, y_held_out, epochs, prior, settings,
                               seed):
    """FixMatch on the unlabelled samples, kept where it beats the labelled samples alone.

    Both pre-trainings start from the weights of ``net``. FixMatch runs first,
    on the random streams a fit without this choice gives it; the labelled
    one runs on streams of its own, forked, so that whichever is kept,
    fine-tuning draws what it would have drawn. FixMatch's network is kept
    where its objective on the held-out part (argmax predictions) leads the
    other's by at least one held-out sample of the smallest class: on the
    semi-supervised digits, FixMatch's pre-training costs the worst class in
    some settings and lifts it in others, by as much either way.

    Returns
    -------
    net : skorch.NeuralNet
        The network kept.
    finished : bool
        Whether every epoch of its pre-training ran.
    pretraining : {"FixMatch", "labelled"}
    """
    labelled_only = copy.deepcopy(net)
    if not _pretrain(net, X, y, epochs, prior, settings):
        return net, False, "FixMatch"
    with _forked_rng(settings.device):
        torch.manual_seed(seed + 1)
        if not _pretrain_labelled(labelled_only, X, y, epochs, prior, settings):
            return labelled_only, False, "labelled"
    objective = settings.new_objective(prior)
    n_classes = settings.n_classes

    def held_out_score(candidate):
        candidate.module_.eval()
        logits = predict_in_batches(candidate.module_, X_held_out,
                                    batch_size=max(settings.batch_size, 1024),
                                    device=settings.device)
        predictions = logits.argmax(1).cpu().numpy()
        return objective.score(confusion_from_predictions(y_held_out, predictions, n_classes))

    lead = 1.0 / max(np.bincount(y_held_out, minlength=n_classes).min(), 1)
    if held_out_score(net) >= held_out_score(labelled_only) + lead - 1e-12:
        return net, True, "FixMatch"
    return labelled_only, True, "labelled"


def _finetune(settings, net, X, y, X_val, y_val, seed, steps, prior, rule):
    """SelMix fine-tuning of ``net`` for ``steps`` steps, steered by ``(X_val, y_val)``."""
    objective = settings.new_objective(prior)
    if X_val is None:
        # No fine-tuning and no offsets: nothing was held out, nothing to evaluate.
        return FittedNetwork(net, objective)
    choice = None if rule is None else rule.choice(objective, y_val, settings.n_classes)
    device = torch.device(settings.device)
    if settings.freeze_backbone:
        X_val = head_features(net.module_, X_val, head=settings.head)
    refresh = GainRefresh(
        X_val if isinstance(X_val, Dataset) else torch.as_tensor(X_val, device=device),
        torch.as_tensor(y_val, device=device),
        objective,
        settings.selection,
        settings.temperature,
        settings.mixup_lambda_min,
        settings.indicator,
        settings.class_labels,
        snapshots=steps > 0,
        confusion=settings.confusion,
        choice=choice,
    )
    _selmix_fit(settings, net, X, y, seed, steps, ("gain_refresh", refresh))
    done = refresh.records_[-1]["step"]
    if refresh.diverged_at_ is not None:
        warnings.warn(
            f"SelMix fine-tuning diverged (logits not finite) at step {refresh.diverged_at_} "
            f"of {steps} and stopped; lower finetune_lr. The estimator keeps the weights of "
            "a refresh before it.",
            UserWarning,
            stacklevel=4,
        )
    elif done < steps:
        warnings.warn(
            f"SelMix fine-tuning was interrupted after {done} of {steps} steps; the "
            "estimator keeps the weights and the history so far.",
            UserWarning,
            stacklevel=4,
        )
    interrupted = refresh.diverged_at_ is None and done < steps
    return FittedNetwork(net, objective, y_val, refresh.records_, refresh.logits_,
                         refresh.snapshots_, None if choice is None else choice.kept, interrupted,
                         pairs=refresh.pair_probabilities_)


def _selmix_fit(settings, net, X, y, seed, steps, steering, **fit_params):
    """SelMix fine-tuning of ``net`` on ``(X, y)`` in place, steered by the callback ``steering``.

    ``steps`` sets the learning-rate schedule; ``fit_params`` go to skorch's
    ``fit`` (``epochs`` stops it after that many refresh periods).
    """
    tuned = settings.tuned(net)
    if settings.freeze_backbone:
        # The backbone never changes: its output is computed once, and the head trains alone.
        X = head_features(net.module_, X, head=settings.head)
    mixer = FeatureMixer(tuned, "head" if settings.freeze_backbone else settings.head)
    sampler = make_pair_sampler(X, y, settings.n_classes, settings.batch_size,
                                settings.mixup_lambda_min, seed, torch.device(settings.device))
    callbacks = [steering]
    if settings.verbose and steps:
        callbacks.append(("progress", ProgressBar(steps, desc="SelMix")))
    SelMixNet(
        tuned,
        sampler=sampler,
        mixer=mixer,
        refresh_every=settings.refresh_every,
        total_steps=steps,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        lr=settings.finetune_lr * settings.backbone_lr_factor,
        optimizer__param_groups=[(f"{mixer.head_name}.*", {"lr": settings.finetune_lr})],
        optimizer__weight_decay=settings.weight_decay,
        # The same updates in one kernel per parameter group, on the CPU too: the
        # fewest operations per step.
        optimizer__fused=True,
        batch_size=settings.batch_size,
        callbacks=callbacks,
        device=settings.device,
    ).fit(X, y, **fit_params)
    net.module_.eval()


def pair_schedule(networks, kept):
    """The pair distributions that steered ``networks`` up to the refresh ``kept``, averaged.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._members import FittedNetwork, pair_schedule
    >>> a = FittedNetwork(None, None, pairs=[torch.eye(2), torch.ones(2, 2)])
    >>> b = FittedNetwork(None, None, pairs=[torch.zeros(2, 2), torch.ones(2, 2)])
    >>> pair_schedule([a, b], kept=1)
    [tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]])]
    """
    return [torch.stack([network.pairs[period] for network in networks]).mean(0)
            for period in range(kept)]


def finetune_on_schedule(settings, net, X, y, seed, schedule):
    """SelMix fine-tuning of ``net`` on ``X``, the pair distributions given, not measured.

    A network trained on all of ``X`` has nothing held out to measure its
    gains on. It is fine-tuned instead with the pair distributions that
    steered the fold networks, refresh by refresh: ``schedule[r]`` for the
    ``r``-th refresh period, with the learning rates of a full fine-tuning
    (``settings.finetune_steps``), stopped after ``len(schedule)`` periods.
    """
    with _forked_rng(settings.device):
        torch.manual_seed(seed)
        _selmix_fit(settings, net, X, y, seed, settings.finetune_steps,
                    ("pair_schedule", PairSchedule(schedule)), epochs=len(schedule))
    return net
