"""SelMixClassifier: a skorch network fine-tuned with SelMix for a confusion-matrix objective.

The estimator orchestrates; each step has a home of its own (``docs/architecture.rst``).
"""

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import Dataset

from ._batching import dataset_labels, input_batches
from ._checks import (
    check_inputs,
    check_params,
    check_validation_labels,
    class_prior,
    encode_labels,
    fit_classes,
    labelled_counts,
    tunes_offsets,
    warn_if_few_held_out,
)
from ._choice import RefreshRule, choose_refresh
from ._confusion import normalised_confusion
from ._ensemble import blend_or_refit, decide_for_model, predict_log_proba
from ._members import (
    TrainingSettings,
    finetune_on_schedule,
    held_out_counts,
    train_network,
    train_networks,
)
from ._memory import ClassReservoir
from ._persist import read_params, saved_networks, write_params
from ._threads import estimator_threads
from ._validation import held_out_parts
from .objectives import make_objective

__all__ = ["SelMixClassifier"]

_MAX_SEED = np.iinfo(np.int32).max


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
    on the held-out parts pooled; a network trained on all the data shares
    the model with the folds' networks, or replaces them where the start is
    kept.

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
        The decision layer: per-class offsets added to the logits, tuned for
        the objective on the model's held-out predictions (see
        :class:`~selmix_sk.TunedOffsetsClassifierCV`). ``"auto"`` applies them
        where, tuned on some held-out samples, they raise the objective on
        the others by one sample of the smallest class, for a model with
        held-out predictions of its own (a validation set, a single split
        whose network is kept) or under constraints, for which it holds data
        out even with ``finetune_steps=0``. A cross-fitted model that holds
        the network trained on all of ``X`` gets them at half strength,
        unless halved they lower the objective on the other samples.
        ``decision_layer_`` says what it found. True applies them whole,
        without these checks.
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
    fixmatch : {True, False, "auto"}, default=True
        How an unfitted network pre-trains when some samples are unlabelled.
        True: FixMatch. False: on the labelled samples alone, the pool only
        picking mixup partners. "auto": ``fit`` pre-trains both ways from the
        same initial weights and keeps FixMatch's network where its objective
        on the held-out data leads the other's by at least one held-out
        sample of the smallest class, else the labelled one; FixMatch where
        nothing is held out, and in ``partial_fit``. On the semi-supervised
        digits FixMatch lifts the worst class in some settings and costs it
        in others, and "auto" did not tell them apart well enough to gain on
        average (see "Unlabelled data and images"); ``pretraining_`` says
        what each network did.
    fixmatch_threshold : float, default=0.95
        FixMatch's confidence: an unlabelled sample enters the pre-training
        loss where its weak view's largest probability reaches it.
    fixmatch_class_thresholds : bool, default=False
        FlexMatch's class thresholds: a pseudo-label of class c needs
        ``fixmatch_threshold`` times ``e / (2 - e)``, where ``e`` is the share
        of the unlabelled samples the network already predicts as c with
        that confidence, against the most learnt class (or the samples not
        yet learnt, while they are more): low at first and for the classes
        it learns least. On the semi-supervised digits it lifted FixMatch's
        min recall in three settings of four and cost it 0.07 in the fourth;
        after SelMix, no gain on average (see "Unlabelled data and images").
    fixmatch_alignment : bool, default=True
        ReMixMatch's distribution alignment of FixMatch's pseudo-labels: a
        weak view's probabilities are multiplied by the labelled samples'
        class shares over the running mean of the pool's probabilities,
        then normalised, so that a class the network predicts less often
        on the pool than among the labelled samples gets more pseudo-labels.
        On the semi-supervised digits it raised SelMix's min recall with the
        pool by +0.016 on average over the four settings (see "Unlabelled
        data and images"); False is plain FixMatch.
    fixmatch_mu : int, default=2
        Unlabelled samples per labelled one in a pre-training batch.
    fixmatch_weight : float, default=1.0
        Weight of the unlabelled loss against the labelled one; 0 trains on
        the labelled samples alone (the pool still picks mixup partners).
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
        held-out data (pooled over the folds when cross-fitting; ties broken
        by the objective on the mean probabilities), the start of fine-tuning
        included. A single part held out of ``X`` (``cv`` a fraction) asks
        more of a refresh: a lead over the start of one held-out sample of
        its smallest class (a smaller lead is within what one sample moves).
        The kept refresh may cost the other classes mean recall. When the
        start is kept with held-out parts from ``cv``, the networks give way
        to one network trained on all of ``X``, the very model of
        ``finetune_steps=0``. ``partial_fit`` keeps the best refresh, its
        SelMix steps being most of a call's training. False keeps the last
        refresh. Either way, fine-tuning stops with a warning if the logits
        stop being finite, and keeps an earlier refresh; the weights are
        copied to the CPU to go back to one.
    start_weight : "auto" or float in [0, 1), default="auto"
        The start's share of the model when a refresh after it is kept, as
        WiSE-FT (Wortsman et al., CVPR 2022) blends a fine-tuned model with
        its origin: a single network moves that share of the way back to its
        start's weights; the fold networks of cross-fitting are averaged with
        the network trained on all of ``X`` (the model of
        ``finetune_steps=0``; see ``finetune_refit``), which gets that share
        of the probabilities.
        The blend keeps most of what fine-tuning on a few held-out samples a
        class gains and gives back most of what it overfits. "auto": 0.3 for
        a single network, 0.5 for fold networks, each trained on part of
        ``X``. 0: the fine-tuned networks alone. ``partial_fit`` does not
        blend.
    finetune_refit : bool, default=False
        With cross-fitting, fine-tune the network trained on all of ``X`` too
        before it joins the fold networks: it has nothing held out to measure
        gains on, so it replays the pair distributions that steered the folds,
        averaged, up to the refresh kept. It costs one more fine-tuning. On
        the benchmark's nine tables (5 seeds, min recall) it raised the
        average gain of ``fit(X, y)`` over ``finetune_steps=0`` from +0.013
        to +0.022 but harmed the cars table (-0.031 of min recall,
        -0.047 of mean recall), so it is off by default: a hyperparameter
        for a search to try on your data.
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
    n_threads : "auto", int or None, default="auto"
        Threads of torch and the BLAS libraries while fitting and predicting
        on the CPU, the caller's restored after. "auto": one for a network of
        vector inputs and at most a million parameters (the default MLP),
        which more threads slow six-fold when another process is busy;
        torch's own for images and larger networks. None leaves them be.

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
    kept_refresh_ : int or None
        The row of ``history_`` whose weights were kept: 0 is the start of
        fine-tuning, which it then did not change. None when nothing was held
        out.
    held_out_score_ : float
        The objective of the model on the held-out data (out of fold when
        cross-fitting, the offsets of the decision layer tuned on other
        folds); nan when nothing was held out.
    held_out_counts_ : ndarray of shape (n_classes,)
        Held-out samples of every class behind ``history_``; zeros when
        nothing was held out.
    offsets_ : ndarray of shape (n_classes,)
        Offsets added to the logits; zeros unless the decision layer applied.
    pretraining_ : list of str
        How each network that this call trained was pre-trained, one per
        held-out part (the networks of ``nets_`` but the one trained on all
        of ``X``): "supervised", "FixMatch", "labelled" (unlabelled samples
        at hand, the labelled ones alone; see ``fixmatch``), "fitted"
        (a network passed fitted) or "unknown" (loaded
        from a file of an earlier version).
    decision_layer_ : dict
        What the decision layer decided: ``applied``, the held-out objective
        ``score_with`` (offsets tuned on other folds) and ``score_without``
        offsets, and the ``reason``.
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

    On iris, the last refresh ties the start's min recall on the pooled
    held-out folds and leads it on the mean probabilities, so it is kept,
    and the three fold networks share the model with one trained on all of
    ``X``:

    >>> clf.history_["selected"].tolist(), len(clf.nets_)
    ([False, False, True], 4)
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
        fixmatch=True,
        fixmatch_threshold=0.95,
        fixmatch_class_thresholds=False,
        fixmatch_alignment=True,
        fixmatch_mu=2,
        fixmatch_weight=1.0,
        indicator="exact",
        confusion="soft",
        keep_best=True,
        start_weight="auto",
        finetune_refit=False,
        memory_size=50,
        device="auto",
        random_state=None,
        verbose=0,
        n_threads="auto",
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
        self.fixmatch = fixmatch
        self.fixmatch_threshold = fixmatch_threshold
        self.fixmatch_class_thresholds = fixmatch_class_thresholds
        self.fixmatch_alignment = fixmatch_alignment
        self.fixmatch_mu = fixmatch_mu
        self.fixmatch_weight = fixmatch_weight
        self.indicator = indicator
        self.confusion = confusion
        self.keep_best = keep_best
        self.start_weight = start_weight
        self.finetune_refit = finetune_refit
        self.memory_size = memory_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads

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
        # Settings and inputs.
        device = check_params(self)
        X, y = check_inputs(self, X, y, reset=True)
        check_classification_targets(y)
        classes = fit_classes(y, self.unlabeled_label)
        y_enc = encode_labels(y, classes, self.unlabeled_label, "y")
        if (X_val is None) != (y_val is None) and not isinstance(X_val, Dataset):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if X_val is not None:
            X_val, y_val = check_inputs(self, X_val, y_val, reset=False)
            y_val = check_validation_labels(
                dataset_labels(X_val) if y_val is None else y_val, classes, self.unlabeled_label)
        settings = TrainingSettings.of(self, classes, device)
        rng = check_random_state(self.random_state)
        # Drawn first, the seed of a network trained on all of X is the same whether it
        # is fine-tuned on X_val, kept as pre-trained or refitted after cross-fitting.
        all_data_seed = rng.randint(_MAX_SEED)

        # Held-out parts.
        if X_val is not None:
            parts, seeds = [(X, y_enc, X_val, y_val)], [all_data_seed]
        elif self._holds_out():
            parts = held_out_parts(X, y_enc, self.cv, rng)
            warn_if_few_held_out(np.concatenate([part[3] for part in parts]), classes)
            seeds = rng.randint(_MAX_SEED, size=len(parts))
        else:
            parts, seeds = [(X, y_enc, None, None)], [all_data_seed]

        # Train the networks.
        priors = [class_prior(labelled_counts(part[1], len(classes))) for part in parts]
        # A single part that cv holds out of X must be led by a sample of its smallest
        # class; the best refresh on a validation set, or on the folds' pooled record,
        # is kept as is, when it is not behind the start (see docs/user_guide.rst).
        rule = RefreshRule(self.keep_best, lead_of_a_sample=X_val is None and len(parts) == 1)
        networks = train_networks(settings, parts, seeds, priors, rule=rule, n_jobs=self.n_jobs)

        def network_on_all_of_X(schedule=()):
            # The very model of finetune_steps=0, drawn first; with finetune_refit, fine-tuned
            # on the pair distributions that steered the folds to the refresh they kept.
            prior = class_prior(labelled_counts(y_enc, len(classes)))
            net = train_network(settings, X, y_enc, None, None, seed=all_data_seed,
                                prior=prior).net
            if schedule and self.finetune_refit:
                finetune_on_schedule(settings, net, X, y_enc, all_data_seed, schedule)
            return net

        # Choose the refresh to keep, blend with the start or refit on all of X, and tune
        # the decision layer, with the threads the networks trained with.
        with estimator_threads(self.n_threads, device, networks[0].net.module_,
                               self._input_shape):
            keep, history = choose_refresh(networks, rule, settings)
            nets, net_weights, blend = blend_or_refit(
                networks, keep, self.start_weight, settings,
                refit=network_on_all_of_X if X_val is None else None)
            decision = decide_for_model(networks, keep, blend, nets, parts[0][2], settings,
                                        self.tune_offsets)

        # Fitted state, and the memory a stream goes on from.
        self._set_fitted(device, classes, nets, net_weights, decision, networks[0].objective,
                         history, held_out_counts(networks, len(classes)),
                         [network.pretraining for network in networks])
        self._class_counts, self._n_partial_fits = labelled_counts(y_enc, len(classes)), 0
        self._memory = ClassReservoir(len(classes), self.memory_size).update(X, y_enc, rng)
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
            device = check_params(self)
        X, y = check_inputs(self, X, y, reset=first)
        check_classification_targets(y)
        if first:
            classes = np.unique(classes)
            if len(classes) < 2:
                raise ValueError("partial_fit needs at least two classes in `classes`.")
            counts, memory = np.zeros(len(classes), dtype=np.int64), None
        else:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(f"classes={classes!r} differs from the classes of the first "
                                 f"call, {self.classes_!r}.")
            classes, device, counts = self.classes_, self.device_, self._class_counts
            memory = getattr(self, "_memory", None)
        y_enc = encode_labels(y, classes, self.unlabeled_label, "y")
        n_calls = 1 if first else self._n_partial_fits + 1
        rng = check_random_state(self.random_state)
        if isinstance(self.random_state, numbers.Integral):
            # Each call its own stream: a seeded stream of chunks is reproducible.
            rng = np.random.RandomState([self.random_state, n_calls])
        counts = counts + labelled_counts(y_enc, len(classes))
        if memory is None:
            memory = ClassReservoir(len(classes), self.memory_size)
        if memory.size and isinstance(X, Dataset):
            X = torch.cat(list(input_batches(X, self.batch_size))).numpy()
        X_all, y_all = memory.with_replay(X, y_enc)

        settings = TrainingSettings.of(self, classes, device)
        rule = RefreshRule(self.keep_best)  # a stream's SelMix steps are most of its training
        nets = [None] if first else self.nets_
        networks = []
        for net in nets:
            part = (held_out_parts(X_all, y_all, self.cv, rng)[0] if self._holds_out()
                    else (X_all, y_all, None, None))
            # The memory makes the training part more balanced than the stream: the
            # logit adjustment follows the shares trained on.
            prior = class_prior(labelled_counts(part[1], len(classes))
                                if len(y_all) > len(y_enc) else counts)
            networks.append(train_network(
                settings, *part, seed=rng.randint(_MAX_SEED), prior=prior, net=net, epochs=1,
                rule=rule if len(nets) == 1 else None,
            ))
        nets = [network.net for network in networks]
        net_weights = np.full(len(nets), 1.0 / len(nets))
        with estimator_threads(self.n_threads, device, nets[0].module_, self._input_shape):
            keep, history = choose_refresh(networks, rule, settings)
            decision = decide_for_model(networks, keep, 0.0, nets, None, settings,
                                        self.tune_offsets)
        self._set_fitted(device, classes, nets, net_weights, decision, networks[0].objective,
                         history, held_out_counts(networks, len(classes)),
                         [network.pretraining for network in networks])
        self._class_counts, self._n_partial_fits = counts, n_calls
        self._memory = memory.update(X, y_enc, rng)
        return self

    def _holds_out(self):
        """Whether fitting needs held-out data: to fine-tune, or to tune offsets."""
        return self.finetune_steps > 0 or tunes_offsets(self.tune_offsets, self.objective,
                                                        self.constraints)

    def _set_fitted(self, device, classes, nets, net_weights, decision, objective, history,
                    held_out_counts, pretraining):
        """Every fitted attribute of ``fit``, ``partial_fit`` and ``load_params``."""
        self.pretraining_ = pretraining
        self.device_, self.classes_, self.nets_, self.net_weights_ = (device, classes, nets,
                                                                      net_weights)
        self.offsets_ = decision.offsets
        self.decision_layer_ = decision.evidence()
        self.objective_, self.history_, self.held_out_counts_ = objective, history, held_out_counts
        selected = np.flatnonzero(history["selected"].to_numpy(dtype=bool))
        self.kept_refresh_ = int(selected[0]) if len(selected) else None
        self.held_out_score_ = (decision.score_with if decision.applied
                                and np.isfinite(decision.score_with) else decision.score_without)

    @property
    def net_(self):
        """The fitted network, when one network makes the predictions (see ``nets_``)."""
        if len(self.nets_) != 1:
            raise AttributeError(
                f"This estimator predicts with {len(self.nets_)} networks; see nets_ and "
                "net_weights_ (net_ is the network of a model that has one, such as a fit "
                "with a validation set).")
        return self.nets_[0]

    def _logits(self, X):
        """Log of the networks' probabilities averaged by ``net_weights_``, plus ``offsets_``."""
        check_is_fitted(self)
        X, _ = check_inputs(self, X, reset=False)
        with estimator_threads(self.n_threads, self.device_, self.nets_[0].module_,
                               self._input_shape):
            log_proba = predict_log_proba(self.nets_, self.net_weights_, X)
        return log_proba + torch.from_numpy(self.offsets_)

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
        C = normalised_confusion(y, self.predict(X), labels=self.classes_,
                                 sample_weight=sample_weight)
        return self.objective_.score(C)

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
        write_params(path, self)

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
        device = check_params(self)
        params = read_params(path)
        nets = saved_networks(params, TrainingSettings.of(self, params["classes"], device))
        objective = make_objective(self.objective, self.constraints).reset(
            class_prior(params["class_counts"]))
        self._set_fitted(device, params["classes"], nets, params["net_weights"],
                         params["decision"], objective, params["history"],
                         params["held_out_counts"], params["pretraining"])
        self.n_features_in_, self._input_shape = params["n_features_in"], params["input_shape"]
        if params["feature_names_in"] is not None:
            self.feature_names_in_ = params["feature_names_in"]
        self._class_counts, self._memory = params["class_counts"], params["memory"]
        self._n_partial_fits = params["n_partial_fits"]
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
