"""SelMixClassifier: a skorch network fine-tuned with SelMix for a confusion-matrix objective."""

import copy
import inspect
import math
import numbers
import pickle
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import confusion_matrix
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from torch import nn
from torch.utils.data import Dataset

from ._finetune import SelMixNet
from ._memory import ClassReservoir
from ._modules import MLP, LogitAdjustedLoss, SmallCNN, channel_statistics
from ._offsets import tune_logit_offsets
from ._pretrain import PretrainNet, pretrain
from ._samplers import dataset_labels, input_batches, make_pair_sampler, take
from ._validation import (
    MEAN_RECALL_SLACK,
    RefreshChoice,
    check_splits,
    pooled_confusions,
    select_refresh,
)
from .callbacks import (
    CONFUSIONS,
    HISTORY_COLUMNS,
    SELECTIONS,
    GainRefresh,
    ProgressBar,
    history_row,
)
from .gain import INDICATORS
from .mixup import FeatureMixer, HeadOnly, head_features
from .objectives import ConstrainedObjective, make_objective

__all__ = ["SelMixClassifier"]

# Below this many held-out samples, a class's validation recall moves in steps
# of a third or more: too coarse to steer the gains.
_FEW_VALIDATION_SAMPLES = 3
_PARAMS_FORMATS = ("selmix_sk.params/1", "selmix_sk.params/2", "selmix_sk.params/3")


def _check_number(name, value, low=None, high=None, *, integer=False, low_open=False,
                  high_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"{'-inf' if low is None else low}, {'inf' if high is None else high}"
        raise ValueError(f"{name} must be in {left}{bounds}{right}, got {value!r}.")


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'auto' or 'cpu'.")
    return str(resolved)


def _accepts(cls, name):
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _forward_all(net, X):
    """The logits of a fitted skorch net on an array, or on a Dataset read a batch at a time."""
    if not isinstance(X, Dataset):
        return net.forward(X, training=False)
    return torch.cat([net.forward(batch, training=False)
                      for batch in input_batches(X, net.batch_size)])


@dataclass
class _Member:
    """One trained network and what its held-out part saw at every refresh.

    ``snapshots`` are states of what fine-tuning trained (see
    ``SelMixClassifier._tuned``) by refresh index: the network's module, or
    its head alone when the backbone was frozen. ``kept``: the refresh that
    a network trained alone chose as it went, None where networks share the
    choice. ``interrupted``: the user stopped its training (Ctrl-C), which
    ends the fit.
    """

    net: NeuralNet
    objective: object
    y_held_out: np.ndarray | None = None
    records: list | None = None
    logits: list | None = None
    snapshots: dict | None = None
    kept: int | None = None
    interrupted: bool = False


class SelMixClassifier(ClassifierMixin, BaseEstimator):
    """Neural network classifier fine-tuned with SelMix for a confusion-matrix objective.

    ``fit`` pre-trains a skorch network with the logit-adjusted loss (unless
    it is already fitted), then fine-tunes it with selective mixup: feature
    mixups between class pairs drawn by their closed-form gain on the
    objective, re-estimated on held-out data every ``refresh_every`` steps
    (Ramasubramanian et al., "Selective Mixup Fine-Tuning for Optimizing
    Non-Decomposable Objectives", ICLR 2024).

    Without a validation set, ``fit`` cross-fits: one network per fold of
    ``cv``, each trained on the other folds and steered by its own, and
    their probabilities averaged at predict time, so that every sample both
    trains and steers. The refresh kept is the one with the best objective
    on the held-out parts pooled, where it beats the start beyond what one
    held-out sample moves; when none does, one network trained on all the
    data replaces the folds' networks.

    Parameters
    ----------
    net : skorch.NeuralNet, default=None
        The network. Its module must end in a linear layer that outputs the
        logits. Unfitted, it is cloned, pre-trained on the training data with
        :class:`~selmix_sk.LogitAdjustedLoss` as criterion and without skorch's
        own validation split (SelMix holds its own), then fine-tuned. Fitted,
        it is copied and only fine-tuned. ``module__n_features`` and
        ``module__n_classes`` are filled in when the module accepts them and
        they are not set. None: an :class:`~selmix_sk.MLP` with standardised
        inputs, trained with AdamW (learning rate 1e-3) for
        ``pretrain_epochs`` epochs; for images (4-D ``X`` or a ``Dataset``
        of 3-D inputs) a :class:`~selmix_sk.SmallCNN` with per-channel
        standardisation instead. A network of your own may take inputs of
        any shape, such as a torchvision model,
        ``NeuralNetClassifier(torchvision.models.resnet18, module__num_classes=K)``.
    objective : str, callable or Objective, default="min_recall"
        What to maximise: ``"min_recall"``, ``"mean_recall"``, ``"hmean"``,
        ``"gmean"``, ``"min_head_tail_recall"``, ``"mean_recall_min_coverage"``,
        a scikit-learn scorer or scorer name (``"f1_macro"``, ...), a metric
        ``f(y_true, y_pred)``, a function of the confusion matrix (NumPy or
        torch) or an :class:`~selmix_sk.objectives.Objective`; see
        :func:`~selmix_sk.objectives.make_objective`.
    constraints : dict, default=None
        ``{"min_recall": t, "min_coverage": a}``, either or both: maximise the
        objective subject to every class's recall ``>= t`` and every class's
        share of predictions ``>= a`` times its share of the validation set,
        through Lagrange multipliers updated at every refresh.
    finetune_steps : int, default=500
        Number of SelMix steps; 0 keeps the pre-trained network (the baseline).
    selection : {"selmix", "uniform", "greedy"}, default="selmix"
        How mixup pairs are drawn: by their gain, uniformly over all class
        pairs, or always the pair of largest gain.
    temperature : float, default=0.1
        Temperature of the pair distribution, applied to gains rescaled to a
        largest magnitude of 1, so that it does not depend on the scale of
        the features.
    mixup_lambda_min : float, default=0.6
        Mixing coefficients are drawn from ``Uniform(mixup_lambda_min, 1)``.
    refresh_every : int, default=20
        Steps between two refreshes of the gains.
    cv : int, float, cross-validation generator or iterable, default=5
        Where the held-out signal comes from when ``fit`` gets no validation
        set. An int: that many stratified folds, a network each (as in
        :class:`~sklearn.calibration.CalibratedClassifierCV` with
        ``ensemble=True``). A float in ``(0, 1)``: one network and one
        stratified split holding out that share of every class. A splitter
        or an iterable of ``(train, test)`` index arrays: one network per
        split. A class that a split leaves out of one side lends it one
        sample, which then serves both. Nothing is held out when there is
        nothing to validate: ``finetune_steps=0`` without tuned offsets.
        ``partial_fit`` holds out the first split of ``cv`` on each chunk.
    n_jobs : int, default=None
        Networks trained in parallel when cross-fitting, through joblib: None
        means 1 unless in a :func:`joblib.parallel_config` context, so a Dask
        or Ray backend spreads the folds over a cluster.
    batch_size : int, default=64
        Mixup pairs per fine-tuning step; also the batch size of the default
        network's pre-training.
    finetune_lr : float, default=0.01
        Learning rate of the linear head during fine-tuning (SGD with a cosine
        schedule).
    backbone_lr_factor : float, default=0.1
        The rest of the network trains at ``finetune_lr * backbone_lr_factor``.
    weight_decay : float, default=5e-4
        Weight decay during fine-tuning.
    pretrain_epochs : int, default=100
        Pre-training epochs of the default network (``net=None``).
    logit_adjustment : float, default=1.0
        Strength ``tau`` of :class:`~selmix_sk.LogitAdjustedLoss` in
        pre-training; 0 gives the plain cross-entropy.
    tune_offsets : {"auto", True, False}, default="auto"
        After fine-tuning, add per-class offsets to the logits, tuned on the
        validation set for the objective (the post-hoc plug-in rule).
        ``"auto"`` tunes them when the objective has constraints: a
        coverage constraint asks for a share of predictions per class,
        which offsets set directly while mixups move it slowly.
    head : str, default=None
        Name of the final linear layer, such as ``"fc"``; None finds it
        (``fc``, ``classifier[-1]``, ``heads.head``, ``head``, else the last
        ``nn.Linear``: any torchvision classification model works).
    freeze_backbone : bool, default=False
        Fine-tune the head alone: its input features are computed once, for
        the training and the held-out data, and SelMix mixes and evaluates
        those cached features, so that a step costs the head's computation
        only. The fast path for large backbones and for frozen embeddings.
        Pre-training of an unfitted network still trains all of it.
    unlabeled_label : int, str or None, default=None
        The label that marks an unlabelled sample, such as -1 as in
        :mod:`sklearn.semi_supervised`. None: every label is a class, -1
        included. Unlabelled samples are never held out: they join the
        training part of every fold. Pre-training becomes FixMatch with the
        logit-adjusted loss on the labelled samples (an unfitted network),
        and fine-tuning draws the second sample of a pair of classes (i, j)
        from the unlabelled samples predicted as j, predicted afresh at every
        gain refresh. Their true labels are never read.
    augment : callable, default=None
        ``augment(x, strength)``, strength ``"weak"`` or ``"strong"``, on a
        batch: FixMatch's views of the unlabelled samples. None: crops (and
        RandAugment for the strong view) for images, without flips, which
        turn a digit into another shape; Gaussian noise scaled by every
        feature's spread otherwise (see "Unlabelled data and images").
    indicator : {"exact", "published"}, default="exact"
        Form of the gain; see :func:`~selmix_sk.gain.compute_gain`.
    confusion : {"soft", "hard"}, default="soft"
        The validation confusion matrix that steers the gains and the
        multipliers. ``"soft"`` sums each sample's predicted probabilities,
        which move smoothly where a class has few validation samples;
        ``"hard"`` counts argmax predictions, as the published code does.
        ``history_``, ``keep_best`` and the offsets use argmax counts either
        way.
    keep_best : bool, default=True
        Keep the weights of the refresh with the best objective on the
        held-out data (pooled over the folds when cross-fitting), provided it
        beats the start of fine-tuning by at least one held-out sample of the
        smallest class and gives up at most one point of the start's mean
        recall; else keep the start. So fine-tuning never returns a model
        worse than its start on that signal, nor one chosen for a lead too
        small for the signal to resolve. When the start is
        kept and the held-out parts came from ``cv``, the networks give way
        to one network trained on all of ``X``: the very model that
        ``finetune_steps=0`` gives with the same ``random_state``.
        ``partial_fit`` keeps the best refresh on its held-out part, where a
        stream's SelMix steps are also most of a call's training. False
        keeps the last refresh. A refresh kept after the start is blended
        with it (see ``start_weight``).
        Either way, fine-tuning stops with a warning if the logits stop being
        finite, and keeps the weights of an earlier refresh. The weights of
        every refresh are copied to the CPU while fine-tuning.
    start_weight : "auto" or float in [0, 1), default="auto"
        The start's share of the model that ``fit`` returns when it keeps a
        refresh after the start, the fine-tuned networks having the rest, as
        WiSE-FT (Wortsman et al., CVPR 2022) blends a fine-tuned model with
        the one it came from. A single network (a validation set, or a
        float ``cv``) moves ``start_weight`` of the way back from the kept
        weights to its start's, and stays one network. The fold networks of
        cross-fitting are averaged with the network trained on all of ``X``
        (the model of ``finetune_steps=0``, trained for this after them),
        which gets ``start_weight`` of the probabilities. Fine-tuning steered
        by a few held-out samples a class overfits them; the blend keeps most
        of its gain on the objective and gives back what it cost the other
        classes. "auto": 0.3 for a single network, 0.5 for cross-fitting,
        whose fold networks, each trained on part of ``X``, start behind the
        network trained on all of it. 0: the fine-tuned networks alone.
        ``partial_fit`` does not blend.
    memory_size : int, default=50
        Samples of every class that ``partial_fit`` keeps in memory, a
        uniform sample of the class's stream (a reservoir per class). Each
        call trains and holds out on its chunk plus this memory, so that a
        class the latest chunks lack is still trained on and still steers
        the gains. ``fit`` fills the memory from its data. 0 keeps nothing:
        every call sees its chunk only. Read when the memory starts: at
        ``fit`` or at the first ``partial_fit``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the weights, the batches and the pair draws: the
        same integer gives the same ``predict_proba`` on CPU.
    verbose : int, default=0
        1 shows progress bars; 2 also skorch's epoch log of pre-training.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.
    nets_ : list of skorch.NeuralNet
        The fitted networks (pre-trained, then fine-tuned in place): one per
        fold when cross-fitting, after the network trained on all of ``X``
        when they are blended with it (see ``start_weight``); else one.
    net_weights_ : ndarray of shape (n_networks,)
        Weight of the probabilities of each network of ``nets_`` in the
        predictions; they sum to 1.
    net_ : skorch.NeuralNet
        The fitted network, when one network makes the predictions.
    objective_ : Objective
        The objective, with the multipliers of the first network at the end
        of fine-tuning.
    history_ : pandas.DataFrame
        A row per gain refresh: step, objective, mean and min recall and
        per-class recalls on the held-out data (pooled over folds), largest
        gain and multipliers (averaged over networks), with constraints their
        per-class slack, and ``selected``, true on the refresh whose weights
        were kept. No rows when there was nothing held out to evaluate.
    offsets_ : ndarray of shape (n_classes,)
        Offsets added to the logits; zeros unless offsets were tuned.
    device_ : str
        The device used.

    See Also
    --------
    selmix_sk.gain.compute_gain : The gain of every class pair.
    sklearn.model_selection.TunedThresholdClassifierCV : Post-hoc tuning of a
        binary classifier's threshold for a metric.

    Notes
    -----
    Labels are encoded by ``np.unique``, so strings, objects and ``[-1, 1]``
    all work as ordinary classes; -1 marks unlabelled samples only with
    ``unlabeled_label=-1``. Changing the default to -1, as
    :mod:`sklearn.semi_supervised` has it, would silently discard a class of
    binary ``{-1, 1}`` data, so unlabelled data are asked for by name.
    ``X`` may be an array, a torch tensor or a torch ``Dataset`` of
    ``(x, y)`` pairs, read a batch at a time. On CUDA some kernels are not deterministic,
    so two fits with the same ``random_state`` may differ slightly there.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from selmix_sk import SelMixClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SelMixClassifier(finetune_steps=40, pretrain_epochs=30, cv=3, random_state=0)
    >>> clf.fit(X, y).predict(X[:3])
    array([0, 0, 0])

    On iris, no refresh beats the start on the pooled held-out folds by a
    held-out flower, so the three fold networks give way to one trained on
    all of ``X``:

    >>> clf.history_["selected"].tolist(), len(clf.nets_)
    ([True, False, False], 1)
    """

    def __init__(
        self,
        net=None,
        *,
        objective="min_recall",
        constraints=None,
        finetune_steps=500,
        selection="selmix",
        temperature=0.1,
        mixup_lambda_min=0.6,
        refresh_every=20,
        cv=5,
        n_jobs=None,
        batch_size=64,
        finetune_lr=0.01,
        backbone_lr_factor=0.1,
        weight_decay=5e-4,
        pretrain_epochs=100,
        logit_adjustment=1.0,
        tune_offsets="auto",
        head=None,
        freeze_backbone=False,
        unlabeled_label=None,
        augment=None,
        indicator="exact",
        confusion="soft",
        keep_best=True,
        start_weight="auto",
        memory_size=50,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.net = net
        self.objective = objective
        self.constraints = constraints
        self.finetune_steps = finetune_steps
        self.selection = selection
        self.temperature = temperature
        self.mixup_lambda_min = mixup_lambda_min
        self.refresh_every = refresh_every
        self.cv = cv
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.finetune_lr = finetune_lr
        self.backbone_lr_factor = backbone_lr_factor
        self.weight_decay = weight_decay
        self.pretrain_epochs = pretrain_epochs
        self.logit_adjustment = logit_adjustment
        self.tune_offsets = tune_offsets
        self.head = head
        self.freeze_backbone = freeze_backbone
        self.unlabeled_label = unlabeled_label
        self.augment = augment
        self.indicator = indicator
        self.confusion = confusion
        self.keep_best = keep_best
        self.start_weight = start_weight
        self.memory_size = memory_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        if self.net is not None and not isinstance(self.net, NeuralNet):
            raise TypeError(
                f"net must be a skorch NeuralNet or None, got {type(self.net).__name__}."
            )
        make_objective(self.objective, self.constraints)
        _check_number("finetune_steps", self.finetune_steps, 0, integer=True)
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}.")
        _check_number("temperature", self.temperature, 0, low_open=True)
        _check_number("mixup_lambda_min", self.mixup_lambda_min, 0, 1, high_open=True)
        _check_number("refresh_every", self.refresh_every, 1, integer=True)
        _check_number("batch_size", self.batch_size, 1, integer=True)
        _check_number("finetune_lr", self.finetune_lr, 0, low_open=True)
        _check_number("backbone_lr_factor", self.backbone_lr_factor, 0)
        _check_number("weight_decay", self.weight_decay, 0)
        _check_number("pretrain_epochs", self.pretrain_epochs, 1, integer=True)
        _check_number("logit_adjustment", self.logit_adjustment, 0)
        if not isinstance(self.freeze_backbone, (bool, np.bool_)):
            raise TypeError(f"freeze_backbone must be True or False, got {self.freeze_backbone!r}.")
        if self.augment is not None and not callable(self.augment):
            raise TypeError(f"augment must be callable or None, got {self.augment!r}.")
        if not isinstance(self.tune_offsets, (bool, np.bool_)) and not (
            isinstance(self.tune_offsets, str) and self.tune_offsets == "auto"
        ):
            raise ValueError(
                f'tune_offsets must be "auto", True or False, got {self.tune_offsets!r}.'
            )
        if self.indicator not in INDICATORS:
            raise ValueError(f"indicator must be one of {INDICATORS}, got {self.indicator!r}.")
        if self.confusion not in CONFUSIONS:
            raise ValueError(f"confusion must be one of {CONFUSIONS}, got {self.confusion!r}.")
        if isinstance(self.start_weight, str):
            if self.start_weight != "auto":
                raise ValueError('start_weight must be "auto" or a number in [0, 1), got '
                                 f"{self.start_weight!r}.")
        else:
            _check_number("start_weight", self.start_weight, 0, 1, high_open=True)
        _check_number("memory_size", self.memory_size, 0, integer=True)
        _check_number("verbose", self.verbose, 0, integer=True)
        return _resolve_device(self.device)

    def fit(self, X, y=None, X_val=None, y_val=None):
        """Pre-train (if needed) and fine-tune the network with SelMix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), \
torch.Tensor or torch.utils.data.Dataset
            Training data; any shape the network takes (images
            ``(n_samples, channels, height, width)`` for a CNN), or a Dataset
            of ``(x, y)`` pairs, read a batch at a time.
        y : array-like of shape (n_samples,), default=None
            Class labels, ``unlabeled_label`` for an unlabelled sample.
            None only when ``X`` is a Dataset: its own labels.
        X_val, y_val : array-like, torch.Tensor or Dataset, default=None
            A validation set to estimate the gains on, with every class of
            ``y``: then one network trains on all of ``X``. None: the
            held-out parts come from ``cv``. ``y_val`` may be None when
            ``X_val`` is a Dataset.

        Returns
        -------
        self : SelMixClassifier
        """
        self.device_ = self._check_params()
        X, y = self._check_inputs(X, y, reset=True)
        check_classification_targets(y)
        unlabelled = self._unlabelled(y)
        if unlabelled.all():
            raise ValueError(
                f"Every sample of y is unlabelled (unlabeled_label={self.unlabeled_label!r}); "
                "SelMixClassifier needs labelled samples of at least two classes."
            )
        self.classes_ = np.unique(y[~unlabelled])
        if len(self.classes_) < 2:
            raise ValueError(
                f"SelMixClassifier needs labelled samples of at least two classes; y has one "
                f"class: {self.classes_[0]!r}."
            )
        y_enc = self._encode(y, "y")
        if (X_val is None) != (y_val is None) and not isinstance(X_val, Dataset):
            raise ValueError("Pass both X_val and y_val, or neither.")
        rng = check_random_state(self.random_state)
        # Drawn first, the seed of a network trained on all of X is the same whether it
        # is fine-tuned on X_val, kept as pre-trained or refitted after cross-fitting.
        all_data_seed = rng.randint(np.iinfo(np.int32).max)
        if X_val is not None:
            parts = [(X, y_enc, *self._validate_validation_set(X_val, y_val))]
            seeds = [all_data_seed]
        elif self._uses_validation():
            parts = self._held_out_parts(X, y_enc, rng)
            self._warn_if_few_held_out(np.concatenate([part[3] for part in parts]))
            seeds = rng.randint(np.iinfo(np.int32).max, size=len(parts))
        else:
            parts, seeds = [(X, y_enc, None, None)], [all_data_seed]
        self._class_counts = np.bincount(y_enc[~unlabelled], minlength=len(self.classes_))
        self._n_partial_fits = 0
        members = self._train_members(parts, seeds)

        def network_on_all_of_X():  # the very model of finetune_steps=0
            return self._train_member(X, y_enc, None, None, seed=all_data_seed,
                                      prior=self._prior(y_enc)).net

        keep = self._keep(members)
        # After Ctrl-C the fit keeps what it has: no network on all of X trains.
        interrupted = any(member.interrupted for member in members)
        blend = 0.0
        if keep and not (interrupted and len(members) > 1):
            blend = self._start_weight(len(members))
        if blend:
            self._blend_with_start(members, keep, blend, network_on_all_of_X)
        elif keep == 0 and X_val is None and not interrupted:
            # Fine-tuning beat the start on no held-out part: the networks, each trained on
            # a part of the data, give way to one trained on all of it (offsets tuned out of
            # fold, as TunedThresholdClassifierCV does).
            self.nets_ = [network_on_all_of_X()]
            self.net_weights_ = np.ones(1)
        self._tune_offsets(members, keep, blend, parts[0][2])
        self._memory = ClassReservoir(len(self.classes_), self.memory_size).update(X, y_enc, rng)
        return self

    def partial_fit(self, X, y, classes=None):
        """One more round of training on a chunk of data.

        Each call adds to the chunk the samples of earlier chunks kept in
        memory (``memory_size`` per class; none that the chunk brings
        again), holds out the first split of ``cv`` of the two together (a
        fifth of every class with the default ``cv=5``), trains every
        network for one epoch on the rest with the logit-adjusted loss
        (class shares of the samples trained on), then runs
        ``finetune_steps`` SelMix steps drawing pairs from the rest and
        steered by what was held out. So every class seen so far trains
        and steers, whichever chunk brought it. The chunk then joins the
        memory. The first call trains one network; after a cross-fitted
        ``fit``, every fold's network continues.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call.

        Returns
        -------
        self : SelMixClassifier
        """
        first = not hasattr(self, "classes_")
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.device_ = self._check_params()
        X, y = self._check_inputs(X, y, reset=first)
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError("partial_fit needs at least two classes in `classes`.")
            self._class_counts = np.zeros(len(self.classes_), dtype=np.int64)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the classes of the first call, "
                f"{self.classes_!r}."
            )
        y_enc = self._encode(y, "y")
        self._n_partial_fits = 1 if first else self._n_partial_fits + 1
        rng = check_random_state(self.random_state)
        if isinstance(self.random_state, numbers.Integral):
            # Each call its own stream: a seeded stream of chunks is reproducible.
            rng = np.random.RandomState([self.random_state, self._n_partial_fits])
        self._class_counts += np.bincount(y_enc[y_enc >= 0], minlength=len(self.classes_))
        memory = getattr(self, "_memory", None)
        if first or memory is None:
            memory = ClassReservoir(len(self.classes_), self.memory_size)
        if memory.size and isinstance(X, Dataset):
            X = torch.cat(list(input_batches(X, self.batch_size))).numpy()
        X_replay, y_replay = memory.replay(X, y_enc)
        X_all, y_all = X, y_enc
        if y_replay.size:
            X_all, y_all = np.concatenate([X, X_replay]), np.concatenate([y_enc, y_replay])
        members = []
        nets = [None] if first else self.nets_
        for net in nets:
            part = (self._held_out_parts(X_all, y_all, rng)[0] if self._uses_validation()
                    else (X_all, y_all, None, None))
            # The memory makes the training part more balanced than the stream: the
            # logit adjustment follows the shares trained on.
            prior = self._prior(part[1]) if y_replay.size else self._prior()
            members.append(self._train_member(*part, seed=rng.randint(np.iinfo(np.int32).max),
                                              prior=prior, net=net, epochs=1,
                                              strict=False if len(nets) == 1 else None))
        self._tune_offsets(members, self._keep(members, strict=False))
        self._memory = memory.update(X, y_enc, rng)
        return self

    def _check_inputs(self, X, y=None, *, reset):
        """``X`` and ``y`` validated: arrays as scikit-learn does, a Dataset as it is.

        A tensor becomes an array. A Dataset is read for the shape of its
        first input only; ``y=None`` with a Dataset, when fitting, reads its
        labels. The shape of a sample must be the one seen when fitting.
        """
        if torch.is_tensor(X):
            X = X.detach().cpu().numpy()
        if torch.is_tensor(y):
            y = y.detach().cpu().numpy()
        if isinstance(X, Dataset):
            if not len(X):
                raise ValueError("X is an empty Dataset.")
            self._check_shape(tuple(next(input_batches(X, 1)).shape[1:]), reset)
            if reset:
                if y is None:
                    y = dataset_labels(X)
                y = validate_data(self, X="no_validation", y=y, reset=True)
                self.n_features_in_ = self._input_shape[0] if self._input_shape else 1
            elif y is not None:
                y = validate_data(self, X="no_validation", y=y, reset=False)
            if y is not None and len(y) != len(X):
                raise ValueError(f"X has {len(X)} items and y {len(y)} labels.")
            return X, y
        if not reset and hasattr(X, "shape"):
            self._check_shape(tuple(X.shape[1:]), reset)
        if y is None:
            X = validate_data(self, X, dtype=np.float32, reset=reset, allow_nd=True)
        else:
            X, y = validate_data(self, X, y, dtype=np.float32, reset=reset, allow_nd=True)
        self._check_shape(X.shape[1:], reset)
        return X, y

    def _check_shape(self, shape, reset):
        """Remember the shape of a sample, or check it against the one remembered."""
        if reset:
            self._input_shape = tuple(shape)
            return
        fitted = getattr(self, "_input_shape", None)
        # Two 2-D shapes that differ get scikit-learn's own message, on the feature count.
        if fitted is not None and tuple(shape) != fitted and len(shape) + len(fitted) > 2:
            raise ValueError(
                f"X has samples of shape {tuple(shape)}, but this {type(self).__name__} was "
                f"fitted on samples of shape {fitted}."
            )

    def _unlabelled(self, y):
        """Which samples of ``y`` carry ``unlabeled_label``."""
        if self.unlabeled_label is None:
            return np.zeros(len(y), dtype=bool)
        return np.asarray(y == self.unlabeled_label, dtype=bool).reshape(len(y))

    def _encode(self, y, name):
        """Labels as class indices, -1 for an unlabelled sample."""
        unlabelled = self._unlabelled(y)
        labelled = y[~unlabelled]
        unknown = np.setdiff1d(np.unique(labelled), self.classes_)
        if unknown.size:
            raise ValueError(
                f"{name} has labels that are not among the classes {self.classes_!r}: {unknown!r}."
            )
        encoded = np.full(len(y), -1, dtype=np.intp)
        encoded[~unlabelled] = np.searchsorted(self.classes_, labelled)
        return encoded

    def _held_out_parts(self, X, y, rng):
        """``(X_train, y_train, X_held_out, y_held_out)`` for every split of ``cv``.

        Only labelled samples are split; the unlabelled ones train in every part.
        """
        labelled, pool = np.flatnonzero(y >= 0), np.flatnonzero(y < 0)
        splits = check_splits(self.cv, y[labelled], rng)
        parts = []
        for train, held in splits:
            train, held = np.concatenate([labelled[train], pool]), labelled[held]
            parts.append((take(X, train), y[train], take(X, held), y[held]))
        return parts

    def _validate_validation_set(self, X_val, y_val):
        X_val, y_val = self._check_inputs(X_val, y_val, reset=False)
        if y_val is None:
            y_val = dataset_labels(X_val)
        if self._unlabelled(y_val).any():
            raise ValueError("y_val has unlabelled samples; the validation set must be labelled.")
        y_val_enc = self._encode(y_val, "y_val")
        missing = np.setdiff1d(np.arange(len(self.classes_)), y_val_enc)
        if missing.size:
            raise ValueError(
                f"y_val has no sample of the classes {self.classes_[missing]!r}; SelMix needs "
                "every class in the validation set."
            )
        return X_val, y_val_enc

    def _prior(self, y=None):
        """Training share of every class (smoothed): of ``y``, or of all data seen."""
        if y is None:
            counts = self._class_counts
        else:
            counts = np.bincount(y[y >= 0], minlength=len(self.classes_))
        return (counts + 1.0) / (counts + 1.0).sum()

    def _warn_if_few_held_out(self, y_held_out):
        counts = np.bincount(y_held_out, minlength=len(self.classes_))
        few = self.classes_[counts < _FEW_VALIDATION_SAMPLES]
        if few.size:
            warnings.warn(
                f"The held-out parts of y have fewer than {_FEW_VALIDATION_SAMPLES} samples of "
                f"the classes {few.tolist()!r}: their recalls are too coarse to steer SelMix. "
                "Pass X_val and y_val, or finetune_steps=0 (see 'The validation set' in the "
                "user guide).",
                UserWarning,
                stacklevel=3,
            )

    def _tunes_offsets(self):
        if isinstance(self.tune_offsets, str):  # "auto"
            objective = make_objective(self.objective, self.constraints)
            return isinstance(objective, ConstrainedObjective)
        return bool(self.tune_offsets)

    def _uses_validation(self):
        """Whether fitting needs held-out data: to fine-tune, or to tune offsets."""
        return self.finetune_steps > 0 or self._tunes_offsets()

    def _train_members(self, parts, seeds):
        """A network per part: in turn, or in parallel through joblib (``n_jobs``).

        In turn, Ctrl-C in one ends the fit there: the parts to come do not
        train. That loop is a plain one, as not every joblib backend can hand
        back results one at a time (Ray's cannot).
        """
        # A network trained alone chooses its refresh as it goes; several, on their pooled
        # record after training.
        strict = True if len(parts) == 1 else None
        if effective_n_jobs(self.n_jobs) > 1:
            return Parallel(n_jobs=self.n_jobs)(
                delayed(self._train_member)(*part, seed=seed, prior=self._prior(part[1]),
                                            strict=strict)
                for part, seed in zip(parts, seeds, strict=True)
            )
        members = []
        for part, seed in zip(parts, seeds, strict=True):
            members.append(self._train_member(*part, seed=seed, prior=self._prior(part[1]),
                                              strict=strict))
            if members[-1].interrupted:
                break
        return members

    def _train_member(self, X, y, X_val, y_val, *, seed, prior, net=None, epochs=None,
                      strict=None):
        """Pre-train (unless fitted) and fine-tune one network; leaves ``self`` untouched.

        Folds run this in parallel (joblib), so it only reads the estimator.
        ``strict``: a network trained alone chooses the refresh to keep as it
        trains, by the rule of ``_keep(strict=strict)``, and keeps the weights
        of the start and of the candidate only; None, one of several networks,
        whose pooled record chooses after training, keeps every refresh's.
        """
        cuda = torch.device(self.device_).type == "cuda"
        with torch.random.fork_rng(devices=[torch.device(self.device_)] if cuda else []):
            torch.manual_seed(seed)
            if net is None:
                net, fitted = self._build_net(X)
                # Before any training: a network that cannot serve SelMix fails in seconds.
                self._check_module(net, next(input_batches(X, 2)))
                if fitted and epochs is None:
                    epochs = 0
            finished = epochs == 0 or self._pretrain(net, X, y, epochs, prior)
            steps = self.finetune_steps if finished else 0
            member = self._finetune(net, X, y, X_val, y_val, seed, steps, prior, strict)
            member.interrupted |= not finished
            return member

    def _build_net(self, X):
        """The network to train, and whether it is already fitted."""
        n_classes = len(self.classes_)
        shape = next(input_batches(X, 1)).shape[1:]
        if self.net is None:
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
                lr=1e-3,
                max_epochs=self.pretrain_epochs,
                batch_size=self.batch_size,
                iterator_train__shuffle=True,
            )
        elif getattr(self.net, "initialized_", False):
            net = copy.deepcopy(self.net)
            net.device = self._net_device(net)
            net.module_.to(self.device_)
            return net, True
        else:
            net = clone(self.net)
            module = net.module
            params = net.get_params()
            for name, value in (("n_features", shape[0]), ("n_classes", n_classes)):
                if _accepts(module, name) and f"module__{name}" not in params:
                    net.set_params(**{f"module__{name}": value})
        callbacks = list(net.callbacks or [])
        if self.verbose:
            steps = net.max_epochs * -(-len(X) // net.batch_size)
            callbacks.append(("selmix_progress", ProgressBar(steps, desc="pre-training")))
        net.set_params(
            criterion=LogitAdjustedLoss,
            criterion__class_prior=np.full(n_classes, 1.0 / n_classes),
            criterion__tau=self.logit_adjustment,
            train_split=None,
            device=self._net_device(net),
            callbacks=callbacks,
            verbose=int(self.verbose > 1),
        )
        if isinstance(net, NeuralNetClassifier):
            net.set_params(classes=list(range(n_classes)))
        return net.initialize(), False

    def _net_device(self, net):
        """The ``device`` a skorch net gets: None where an accelerator places tensors itself."""
        accelerator = getattr(net, "accelerator", None)  # skorch's AccelerateMixin
        return None if getattr(accelerator, "device_placement", False) else self.device_

    def _pretrain(self, net, X, y, epochs, prior):
        epochs = epochs or net.max_epochs
        # skorch ends training quietly on KeyboardInterrupt, keeping what it learnt.
        done = pretrain(net, X, y, class_prior=prior, epochs=epochs, augment=self.augment)
        if done < epochs:
            warnings.warn(
                f"Pre-training was interrupted after {done} of {epochs} epochs; fine-tuning is "
                "skipped and the estimator keeps the network as it is.",
                UserWarning,
                stacklevel=4,
            )
        return done == epochs

    def _finetune(self, net, X, y, X_val, y_val, seed, steps, prior, strict=None):
        objective = make_objective(self.objective, self.constraints).reset(prior)
        if X_val is None:
            # No fine-tuning and no offsets: nothing was held out, nothing to evaluate.
            return _Member(net, objective)
        choice = (None if strict is None
                  else RefreshChoice(objective, **self._refresh_rule(y_val, strict=strict)))
        device = torch.device(self.device_)
        module, tuned = net.module_, self._tuned(net)
        if self.freeze_backbone:
            # The backbone never changes: its output is computed once, and the head trains alone.
            X, X_val = (head_features(module, part, head=self.head) for part in (X, X_val))
        mixer = FeatureMixer(tuned, "head" if self.freeze_backbone else self.head)
        sampler = make_pair_sampler(X, y, len(self.classes_), self.batch_size,
                                    self.mixup_lambda_min, seed, device)
        refresh = GainRefresh(
            X_val if isinstance(X_val, Dataset) else torch.as_tensor(X_val, device=device),
            torch.as_tensor(y_val, device=device),
            objective,
            self.selection,
            self.temperature,
            self.mixup_lambda_min,
            self.indicator,
            self.classes_,
            snapshots=steps > 0,
            confusion=self.confusion,
            choice=choice,
        )
        callbacks = [("gain_refresh", refresh)]
        if self.verbose and steps:
            callbacks.append(("progress", ProgressBar(steps, desc="SelMix")))
        SelMixNet(
            tuned,
            sampler=sampler,
            mixer=mixer,
            refresh_every=self.refresh_every,
            total_steps=steps,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.SGD,
            lr=self.finetune_lr * self.backbone_lr_factor,
            optimizer__param_groups=[(f"{mixer.head_name}.*", {"lr": self.finetune_lr})],
            optimizer__weight_decay=self.weight_decay,
            # The same updates in one kernel per parameter group, on the CPU too: the
            # fewest operations per step.
            optimizer__fused=True,
            batch_size=self.batch_size,
            callbacks=callbacks,
            device=self.device_,
        ).fit(X, y)
        module.eval()
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
        return _Member(net, objective, y_val, refresh.records_, refresh.logits_,
                       refresh.snapshots_, None if choice is None else choice.kept, interrupted)

    def _start_weight(self, n_networks):
        """``start_weight``, "auto" resolved for a model of ``n_networks`` fine-tuned networks."""
        if self.start_weight == "auto":
            # Fold networks trained on four fifths of X start behind the network trained
            # on all of it. On the benchmark's tables (10 seeds, two draws) a share of 0.3
            # left cars 2.6 points of mean recall below that network; half, within one.
            return 0.5 if n_networks > 1 else 0.3
        return self.start_weight

    def _tuned(self, net):
        """What fine-tuning trains of ``net``: its module, or its head alone (frozen backbone).

        Built afresh from the network, not carried with it: a network that
        comes back from a joblib worker is a copy, its module no longer the
        object that was trained there.
        """
        return HeadOnly(net.module_, self.head) if self.freeze_backbone else net.module_

    def _keep(self, members, *, strict=True):
        """Adopt the trained networks at the refresh the pooled held-out record selects.

        ``strict`` as in :meth:`_refresh_rule`; a network trained alone chose
        by that rule as it trained. Returns the index of the kept refresh,
        None when nothing was held out.
        """
        self.nets_ = [member.net for member in members]
        self.net_weights_ = np.full(len(members), 1.0 / len(members))
        self.objective_ = members[0].objective
        self.offsets_ = np.zeros(len(self.classes_))
        if members[0].records is None:
            self.history_ = pd.DataFrame(columns=[*HISTORY_COLUMNS, "selected"])
            return None
        counted, soft = pooled_confusions([member.y_held_out for member in members],
                                          [member.logits for member in members],
                                          len(self.classes_))
        if len(members) == 1 and members[0].kept is not None:
            keep = members[0].kept  # chosen as it trained, by the same rule
        else:
            y_held_out = np.concatenate([member.y_held_out for member in members])
            keep = select_refresh(self.objective_, counted, soft,
                                  **self._refresh_rule(y_held_out, strict=strict))
        for member in members:
            if member.snapshots:
                self._tuned(member.net).load_state_dict(member.snapshots[keep])
        self.history_ = self._pooled_history(members, counted, keep)
        return keep

    def _refresh_rule(self, y_held_out, *, strict):
        """How the refresh to keep is chosen (see ``RefreshChoice``), on these held-out labels.

        ``strict`` (``fit``): a lead over the start of one held-out sample of
        the smallest class, and ``MEAN_RECALL_SLACK`` at most of the mean
        recall given up. Else the best refresh: in a stream, a call's SelMix
        steps are also most of its training (``partial_fit``).
        """
        rule = {"keep_best": self.keep_best}
        if strict:
            n_smallest = np.bincount(y_held_out, minlength=len(self.classes_)).min()
            rule.update(min_lead=1.0 / n_smallest, mean_recall_slack=MEAN_RECALL_SLACK)
        return rule

    def _blend_with_start(self, members, keep, weight, network_on_all_of_X):
        """Give the start a share ``weight`` of the model, the kept refresh ``keep`` the rest.

        A single network (a validation set or a single split) moves that
        share of the way back from its kept weights to its start's. Several
        (cross-fitting) are averaged with the network trained on all of ``X``,
        which ``network_on_all_of_X()`` trains, with that share of the
        probabilities.
        """
        if len(members) == 1:
            start, kept = members[0].snapshots[0], members[0].snapshots[keep]
            self._tuned(members[0].net).load_state_dict({
                name: torch.lerp(value, start[name], weight) if value.is_floating_point() else value
                for name, value in kept.items()
            })
            return
        fine_tuned = self.nets_
        self.nets_ = [network_on_all_of_X(), *fine_tuned]
        self.net_weights_ = np.array([weight, *np.full(len(fine_tuned),
                                                       (1.0 - weight) / len(fine_tuned))])

    def _tune_offsets(self, members, keep, blend=0.0, X_held_out=None):
        """Offsets tuned on the pooled held-out record of the kept refresh, as predicted.

        ``blend`` is the start's share of the model. A single network, whose
        weights were blended, is evaluated afresh on ``X_held_out``, its
        held-out part. Fold networks are blended in their probabilities with
        the network trained on all of ``X``, which has no held-out data: each
        fold's own start stands in for it there.
        """
        if keep is None or not self._tunes_offsets():
            return
        if blend and len(members) == 1:
            with torch.random.fork_rng(devices=[]):
                logits = [_forward_all(self.net_, X_held_out).cpu()]
        else:
            logits = [member.logits[keep] for member in members]
        log_proba = []
        for member, kept in zip(members, logits, strict=True):
            kept = torch.log_softmax(kept.to(torch.float64), 1)
            if blend and len(members) > 1:
                at_start = torch.log_softmax(member.logits[0].to(torch.float64), 1)
                kept = torch.logaddexp(at_start + math.log(blend), kept + math.log1p(-blend))
            log_proba.append(kept)
        y_held_out = np.concatenate([member.y_held_out for member in members])
        self.offsets_ = tune_logit_offsets(torch.cat(log_proba).numpy(), y_held_out,
                                           self.objective_)

    def _pooled_history(self, members, counted, keep):
        """``history_``: a row per refresh of the pooled record, gains averaged over networks."""
        rows = []
        for index, C in enumerate(counted):
            records = [member.records[index] for member in members]
            multipliers = self.objective_.multipliers
            if multipliers is not None:
                multipliers = np.mean(
                    [[r[f"multiplier_{k}"] for k in range(len(multipliers))] for r in records], 0)
            rows.append(history_row(
                self.objective_, self.classes_, records[0]["step"], self.objective_.value(C), C,
                float(np.mean([r["max_gain"] for r in records])), multipliers,
            ) | {"selected": index == keep})
        return pd.DataFrame(rows)

    @property
    def net_(self):
        """The fitted network, when one network makes the predictions (see ``nets_``)."""
        nets = self.nets_
        if len(nets) != 1:
            raise AttributeError(
                f"This estimator predicts with {len(nets)} networks; see nets_ and "
                "net_weights_ (net_ is the network of a model that has one, such as a fit "
                "with a validation set)."
            )
        return nets[0]

    def _check_module(self, net, X):
        module = net.module_
        mixer = FeatureMixer(module, self.head)
        X = X.to(torch.device(self.device_))
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

    def _logits(self, X):
        """Log of the networks' probabilities averaged by ``net_weights_``, plus ``offsets_``."""
        check_is_fitted(self)
        X, _ = self._check_inputs(X, reset=False)
        # A DataLoader draws a seed from the global generator even without shuffling.
        with torch.random.fork_rng(devices=[]):
            log_proba = torch.stack([
                torch.log_softmax(_forward_all(net, X).to(torch.float64), dim=1)
                for net in self.nets_
            ])
        log_weights = torch.from_numpy(np.log(self.net_weights_))[:, None, None]
        return torch.logsumexp(log_proba + log_weights, dim=0) + torch.from_numpy(self.offsets_)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network's logits (plus ``offsets_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict(self, X):
        """The class of largest logit for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        best = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[best]

    def score(self, X, y, sample_weight=None):
        """The objective on ``(X, y)``, computed from the confusion matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            ``objective_.score`` of the normalised confusion matrix: the
            objective, penalised where a constraint fails.
        """
        C = confusion_matrix(y, self.predict(X), labels=self.classes_, sample_weight=sample_weight)
        return self.objective_.score(C / C.sum())

    def save_params(self, path):
        """Save the fitted weights and what predicting needs, loadable without pickle.

        The file holds tensors, numbers and strings only, so that
        :meth:`load_params` reads it with ``torch.load(..., weights_only=True)``,
        which never runs code from the file. The network's architecture is not
        saved: it comes from the estimator that loads.

        Parameters
        ----------
        path : str or path-like
            Where to write.

        Examples
        --------
        >>> import tempfile, os
        >>> from sklearn.datasets import load_iris
        >>> from selmix_sk import SelMixClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = SelMixClassifier(finetune_steps=20, pretrain_epochs=10, random_state=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "selmix.pt")
        >>> clf.fit(X, y).save_params(path)
        >>> loaded = SelMixClassifier(finetune_steps=20, pretrain_epochs=10).load_params(path)
        >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
        True
        """
        check_is_fitted(self)
        labels = self.classes_.tolist()
        if not all(isinstance(label, (str, int, float, bool)) for label in labels):
            raise TypeError(
                "save_params stores class labels that are strings or numbers; use pickle or "
                "joblib for other labels."
            )
        names = getattr(self, "feature_names_in_", None)
        memory = getattr(self, "_memory", None)
        torch.save(
            {
                "format": "selmix_sk.params/3",
                "modules": [{k: v.cpu() for k, v in net.module_.state_dict().items()}
                            for net in self.nets_],
                "net_weights": torch.from_numpy(self.net_weights_),
                "classes": labels,
                "n_features_in": int(self.n_features_in_),
                "input_shape": list(getattr(self, "_input_shape", (self.n_features_in_,))),
                "feature_names_in": None if names is None else names.tolist(),
                "class_counts": torch.from_numpy(self._class_counts),
                "offsets": torch.from_numpy(self.offsets_),
                "history": self.history_.to_dict(orient="list"),
                "n_partial_fits": int(getattr(self, "_n_partial_fits", 0)),
                "memory": None if memory is None else {
                    "size": int(memory.size),
                    "n_seen": torch.from_numpy(memory.n_seen_),
                    "X": None if memory.X_ is None else torch.from_numpy(memory.X_),
                    "y": torch.from_numpy(memory.y_.astype(np.int64)),
                },
            },
            path,
        )

    def load_params(self, path):
        """Load what :meth:`save_params` wrote into this estimator's network.

        The estimator must build the same architecture as the one that saved:
        the same ``net`` (unfitted), or the default network. Nothing is
        trained; the estimator is fitted afterwards.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        self : SelMixClassifier
        """
        self.device_ = self._check_params()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ValueError(
                f"{path!s} holds objects other than tensors, numbers and strings; "
                "load_params does not run code from files."
            ) from exc
        if not isinstance(state, dict) or state.get("format") not in _PARAMS_FORMATS:
            raise ValueError(f"{path!s} was not written by SelMixClassifier.save_params.")
        self.classes_ = np.asarray(state["classes"])
        self.n_features_in_ = state["n_features_in"]
        self._input_shape = tuple(state.get("input_shape", [self.n_features_in_]))
        if state["feature_names_in"] is not None:
            self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self._class_counts = state["class_counts"].numpy()
        self.offsets_ = state["offsets"].numpy()
        self.history_ = pd.DataFrame(state["history"])
        self._n_partial_fits = state.get("n_partial_fits", 0)
        self._memory = None
        if state.get("memory") is not None:
            saved = state["memory"]
            self._memory = ClassReservoir(len(self.classes_), saved["size"])
            self._memory.n_seen_ = saved["n_seen"].numpy()
            self._memory.X_ = None if saved["X"] is None else saved["X"].numpy()
            self._memory.y_ = saved["y"].numpy().astype(np.intp)
        # Format 1, of version 0.1, held the single network's weights.
        modules = state["modules"] if "modules" in state else [state["module"]]
        self.nets_ = []
        for weights in modules:
            net, _ = self._build_net(np.zeros((2, *self._input_shape), dtype=np.float32))
            try:
                net.module_.load_state_dict(weights)
            except RuntimeError as exc:
                raise ValueError(
                    f"The saved weights do not fit this estimator's network: {exc}"
                ) from exc
            net.module_.to(self.device_).eval()
            self.nets_.append(net)
        # Formats 1 and 2, written before the blend with the start, weighed networks alike.
        self.net_weights_ = (state["net_weights"].numpy() if "net_weights" in state
                             else np.full(len(self.nets_), 1.0 / len(self.nets_)))
        self.objective_ = make_objective(self.objective, self.constraints).reset(self._prior())
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps the networks of a model fitted on CUDA to the CPU when loaded where
        # there is no GPU; the estimator follows, so that it predicts there.
        fitted_on_cuda = str(getattr(self, "device_", "cpu")).startswith("cuda")
        if fitted_on_cuda and not torch.cuda.is_available():
            self.device_ = "cpu"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        tags.non_deterministic = self.device != "cpu" and torch.cuda.is_available()
        return tags
