"""Pre-training before SelMix: the logit-adjusted loss, with FixMatch on unlabelled samples.

SelMix fine-tunes a network that is already good on average. The paper
pre-trains it with the logit-adjusted loss (Menon et al., 2021) on labelled
data and, when unlabelled samples are at hand, with FixMatch (Sohn et al.,
2020) on top: a network's confident prediction on a weakly augmented view of
an unlabelled sample becomes the target of a strongly augmented view of it.
The adjustment goes on both losses: the pseudo-label of an unlabelled sample is
the adjusted prediction, since unlabelled samples follow the training
distribution, and the unadjusted logits keep targeting the balanced error.

:func:`pretrain` is the entry point: it runs the plain logit-adjusted epochs
of a skorch net, or :class:`FixMatchNet` around the same module when ``y``
marks unlabelled samples with -1.
"""

import numpy as np
import torch
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import Dataset as SkorchDataset
from torch.nn import functional as F
from torch.utils.data import Dataset
from torchvision.transforms import v2

from ._batching import dataset_labels, load_inputs
from ._finetune import DeviceSteps
from ._modules import LogitAdjustedLoss

__all__ = []

STRENGTHS = ("weak", "strong")
# Of the running mean of the pool's predicted probabilities, for distribution alignment:
# about the last hundred batches.
_ALIGNMENT_MOMENTUM = 0.99


def _check_strength(strength):
    if strength not in STRENGTHS:
        raise ValueError(f"strength must be one of {STRENGTHS}, got {strength!r}.")


class ImageAugment:
    """Weak and strong views of image batches ``(N, C, H, W)``, from torchvision ``transforms.v2``.

    The weak view crops at random after reflection padding, and flips
    horizontally at random if ``flip``; the strong view adds RandAugment.
    Each image draws its own transformation (torchvision would otherwise
    apply one draw to the whole batch), which costs about a millisecond per
    image on a CPU core for the strong view.

    RandAugment's colour operations (posterize, solarize, equalize, ...)
    assume pixels in [0, 1] or uint8. Floating images in any other range,
    such as images in [0, 255] or standardised ones, are mapped to [0, 1] per
    image and channel by their minimum and maximum, augmented, and mapped
    back: the transformation sees the image as a viewer would, and the
    network gets its inputs on their usual scale. uint8 images are augmented
    as they are.

    Parameters
    ----------
    padding : int, default=None
        Padding of the random crop; None takes an eighth of the smaller side
        (4 pixels for 32x32 images, 1 for 8x8), at least 1.
    num_ops, magnitude : int, default=2, 9
        Of :class:`torchvision.transforms.v2.RandAugment`; ``num_ops=0``
        makes the strong view another draw of the weak one.
    flip : bool, default=False
        Flip horizontally at random in both views, as FixMatch does on
        natural images such as CIFAR's. Off by default: the mirror image of a
        digit or a letter is another shape or none, and FixMatch then learns
        the wrong thing (see "Unlabelled data and images" in the user guide).

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._pretrain import ImageAugment
    >>> images = torch.randn(4, 3, 32, 32)
    >>> ImageAugment()(images, "strong").shape
    torch.Size([4, 3, 32, 32])
    """

    def __init__(self, padding=None, num_ops=2, magnitude=9, flip=False):
        self.padding = padding
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.flip = flip

    def _transform(self, size, strength):
        padding = self.padding if self.padding is not None else max(1, min(size) // 8)
        steps = [v2.RandomHorizontalFlip()] if self.flip else []
        steps.append(v2.RandomCrop(size, padding=padding, padding_mode="reflect"))
        if strength == "strong" and self.num_ops:
            steps.append(v2.RandAugment(num_ops=self.num_ops, magnitude=self.magnitude))
        return v2.Compose(steps)

    def __call__(self, x, strength):
        _check_strength(strength)
        if x.ndim != 4:
            raise ValueError(f"ImageAugment takes images (N, C, H, W); got shape {tuple(x.shape)}.")
        transform = self._transform(tuple(x.shape[-2:]), strength)
        if not x.is_floating_point():
            return torch.stack([transform(image) for image in x])
        low = x.amin(dim=(2, 3), keepdim=True)
        span = (x.amax(dim=(2, 3), keepdim=True) - low).clamp_min(1e-12)
        unit = ((x - low) / span).clamp(0.0, 1.0)
        return torch.stack([transform(image) for image in unit]) * span + low


class FeatureNoise:
    """Weak and strong views of feature vectors: Gaussian noise scaled by each feature's spread.

    Parameters
    ----------
    scale : array-like or torch.Tensor of the shape of one sample
        Spread of each feature, such as its standard deviation over the
        training set.
    weak, strong : float, default=0.1, 0.5
        Standard deviation of the noise of each view, in units of ``scale``.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._pretrain import FeatureNoise
    >>> noise = FeatureNoise(torch.tensor([1.0, 100.0]))
    >>> _ = torch.manual_seed(0)
    >>> x = torch.zeros(20000, 2)
    >>> (noise(x, "strong") / noise.scale).std(0).round(decimals=1)
    tensor([0.5000, 0.5000])
    """

    def __init__(self, scale, weak=0.1, strong=0.5):
        self.scale = torch.as_tensor(scale, dtype=torch.float32)
        self.weak = weak
        self.strong = strong

    def __call__(self, x, strength):
        _check_strength(strength)
        level = self.weak if strength == "weak" else self.strong
        return x + torch.randn_like(x) * (level * self.scale.to(x))


def default_augment(X):
    """The augmentation FixMatch uses on ``X`` unless given one.

    Images (4-D ``X``, or a Dataset of 3-D inputs) get :class:`ImageAugment`;
    arrays of other shapes :class:`FeatureNoise` scaled by each feature's
    standard deviation over ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._pretrain import default_augment
    >>> type(default_augment(np.zeros((5, 1, 8, 8)))).__name__
    'ImageAugment'
    >>> default_augment(np.array([[0.0, 1.0], [2.0, 1.0]])).scale
    tensor([1., 0.])
    """
    if isinstance(X, Dataset):
        sample = load_inputs(X, [0]) if len(X) else None
        if sample is not None and sample.ndim == 4:
            return ImageAugment()
        raise ValueError("FixMatch on a Dataset of other inputs than images needs augment=... "
                         "(a callable augment(x, strength) with strength 'weak' or 'strong').")
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 4:
        return ImageAugment()
    return FeatureNoise(X.std(0, correction=0))


def _pretraining_callbacks(verbose):
    """skorch's default callbacks as pre-training needs them: the epoch's time and loss.

    No validation scores, as pre-training has no validation split, and no
    log unless ``verbose`` prints it: skorch's log tabulates every epoch's
    row even when it prints nothing, 5% to 13% of a small table's pre-training.
    """
    callbacks = [("epoch_timer", EpochTimer()),
                 ("train_loss", PassthroughScoring(name="train_loss", on_train=True))]
    return [*callbacks, ("print_log", PrintLog())] if verbose else callbacks


class _InMemoryBatches:
    """Training batches of arrays held in memory, sliced rather than collated item by item.

    What ``DataLoader(dataset, batch_size, shuffle)`` yields for a dataset of
    two arrays, drawing its order from torch's global generator, as the
    DataLoader does. The arrays move to ``device`` once.
    """

    def __init__(self, X, y, batch_size, shuffle, device):
        self.X = torch.as_tensor(X, device=device)
        self.y = torch.as_tensor(y, device=device)
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.X)) if self.shuffle else torch.arange(len(self.X))
        for batch in order.to(self.X.device).split(self.batch_size):
            yield self.X[batch], self.y[batch]


class PretrainNet(DeviceSteps, NeuralNetClassifier):
    """The default networks' skorch classifier, with the costs of a small network cut.

    On arrays it trains on slices of them rather than on batches that
    skorch's DataLoader collates item by item, which took a third of the
    pre-training of the default MLP on a table (the same batches, in another
    random order). On CUDA, the steps of :class:`~selmix_sk._finetune.DeviceSteps`:
    mixed precision and no synchronisation after every batch. Of skorch's
    default callbacks it keeps the epoch's time and training loss, and the
    log when ``verbose``. Otherwise it is :class:`skorch.NeuralNetClassifier`.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from selmix_sk import MLP
    >>> from selmix_sk._pretrain import PretrainNet
    >>> net = PretrainNet(MLP, module__n_features=2, module__n_classes=2, max_epochs=2,
    ...                   batch_size=4, iterator_train__shuffle=True, train_split=None,
    ...                   criterion=torch.nn.CrossEntropyLoss, verbose=0)
    >>> X, y = np.zeros((10, 2), dtype=np.float32), np.arange(10) % 2
    >>> net.fit(X, y).history[-1, "train_batch_count"]
    3
    >>> net.predict_proba(X[:1]).shape
    (1, 2)
    """

    @property
    def _default_callbacks(self):
        return _pretraining_callbacks(self.verbose)

    def get_iterator(self, dataset, training=False):
        in_memory = (isinstance(dataset, SkorchDataset) and dataset.y is not None
                     and isinstance(dataset.X, (np.ndarray, torch.Tensor)))
        if not (training and in_memory):
            return super().get_iterator(dataset, training=training)
        return _InMemoryBatches(dataset.X, dataset.y, self.batch_size,
                                getattr(self, "iterator_train__shuffle", False), self.device)


class _Relabelled(Dataset):
    """A Dataset of ``(x, y)`` pairs whose labels are replaced by ``targets``."""

    def __init__(self, dataset, targets):
        self.dataset = dataset
        self.targets = targets

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index][0], self.targets[index]


class _FixMatchBatches:
    """Each pass: the labelled samples once in batches, each with ``mu`` times as many unlabelled.

    Unlabelled samples are drawn uniformly with replacement, from torch's
    global generator, as the labelled order is. A batch is the labelled
    inputs, their labels, the unlabelled inputs and their positions in the
    unlabelled pool.
    """

    def __init__(self, X, y, batch_size, mu, device):
        self.X = X
        self.labelled = torch.nonzero(y >= 0).flatten()
        self.unlabelled = torch.nonzero(y < 0).flatten()
        if not len(self.labelled) or not len(self.unlabelled):
            raise ValueError("FixMatch needs labelled samples and unlabelled ones (label -1).")
        self.y = y
        self.batch_size = batch_size
        self.mu = mu
        self.device = device

    def _load(self, indices):
        if isinstance(self.X, Dataset):
            x = load_inputs(self.X, indices)
        else:
            x = self.X[indices]
        return x.to(self.device, non_blocking=True)

    def __len__(self):
        return -(-len(self.labelled) // self.batch_size)

    def __iter__(self):
        order = self.labelled[torch.randperm(len(self.labelled))]
        for batch in order.split(self.batch_size):
            drawn = torch.randint(len(self.unlabelled), (self.mu * len(batch),))
            yield (self._load(batch), self.y[batch].to(self.device, non_blocking=True),
                   self._load(self.unlabelled[drawn]), drawn)


class FixMatchNet(DeviceSteps, NeuralNet):
    """FixMatch with the logit-adjusted loss, as a skorch net around a shared module.

    A training step takes a batch of labelled samples and ``mu`` times as
    many unlabelled ones, and minimises the criterion (the logit-adjusted
    loss) on a weak view of the labelled samples plus ``unlabelled_weight``
    times the cross-entropy of a strong view of every unlabelled sample
    against the prediction on its weak view, where that prediction's
    probability is at least ``threshold`` (one forward pass over all three).
    With ``adjust_unlabelled`` and a :class:`~selmix_sk.LogitAdjustedLoss`
    criterion, that prediction and the strong view's loss use the adjusted
    logits too. An epoch passes once over the labelled samples. ``fit(X, y)`` takes
    ``y == -1`` for an unlabelled sample; the true label of an unlabelled
    sample is never asked for.

    Parameters
    ----------
    module : torch.nn.Module
        The network, as an instance: it is trained in place.
    augment : callable
        ``augment(x, strength)`` with ``strength`` in ``("weak", "strong")``,
        on a batch on the module's device; see :func:`default_augment`.
    threshold : float, default=0.95
        Confidence a pseudo-label needs to count.
    class_thresholds : bool, default=False
        FlexMatch's thresholds, one a class: ``threshold`` times
        ``e / (2 - e)`` for a pseudo-label of class c, where ``e`` is the
        number of unlabelled samples whose last prediction reaching
        ``threshold`` was c, over the largest such number of a class or the
        number of samples without one, whichever is larger. Low while little
        is learnt, and for the classes learnt least. ``pool_labels_`` holds
        those last predictions (-1: none yet).
    mu : int, default=2
        Unlabelled samples per labelled one in a step.
    unlabelled_weight : float, default=1.0
        Weight of the unlabelled loss.
    align_distribution : bool, default=False
        ReMixMatch's distribution alignment: every weak view's probabilities
        are multiplied by the class prior over their running mean on the
        unlabelled batches (momentum 0.99), then normalised, before the
        confidence and the pseudo-label are read from them. A class the
        network predicts less often on the pool than its share of the
        labelled samples gets more pseudo-labels. The prior is the
        :class:`~selmix_sk.LogitAdjustedLoss` criterion's; uniform with
        another criterion. ``pool_mean_`` holds the running mean.
    adjust_unlabelled : bool, default=True
        Pseudo-label with the adjusted logits, ``logits + tau * log(prior)``,
        and train the strong view with the logit-adjusted loss. The
        unlabelled samples follow the training distribution, as the labelled
        ones do: the adjusted prediction is the network's estimate of their
        class, and the adjustment keeps the unadjusted logits on the balanced
        error. False pseudo-labels with the unadjusted logits, which predict
        the tail classes as often as the head ones: on a long tail they label
        head samples as tail classes with confidence, and FixMatch learns
        these errors.
    **kwargs
        Passed to :class:`skorch.NeuralNet`: ``criterion`` (such as
        :class:`~selmix_sk.LogitAdjustedLoss` with its ``criterion__class_prior``),
        optimizer, lr, batch_size, max_epochs, device, callbacks, ...

    Examples
    --------
    >>> import numpy as np, torch
    >>> from selmix_sk import MLP, LogitAdjustedLoss
    >>> from selmix_sk._pretrain import FeatureNoise, FixMatchNet
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.normal(size=(60, 2)) + np.repeat([[0, 0], [4, 0]], 30, 0)).astype(np.float32)
    >>> y = np.repeat([0, 1], 30)
    >>> y[::3] = -1  # a third unlabelled
    >>> _ = torch.manual_seed(0)
    >>> net = FixMatchNet(MLP(2, 2), augment=FeatureNoise(X.std(0)), criterion=LogitAdjustedLoss,
    ...                   criterion__class_prior=[0.5, 0.5], lr=0.01, batch_size=8,
    ...                   max_epochs=3, optimizer=torch.optim.Adam, verbose=0).fit(X, y)
    >>> len(net.history), net.history[-1, "train_batch_count"]
    (3, 5)
    """

    def __init__(self, module, *, augment, threshold=0.95, class_thresholds=False, mu=2,
                 unlabelled_weight=1.0, align_distribution=False, adjust_unlabelled=True,
                 **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(module, **kwargs)
        self.augment = augment
        self.threshold = threshold
        self.class_thresholds = class_thresholds
        self.mu = mu
        self.unlabelled_weight = unlabelled_weight
        self.align_distribution = align_distribution
        self.adjust_unlabelled = adjust_unlabelled

    @property
    def _default_callbacks(self):
        return _pretraining_callbacks(self.verbose)

    def get_dataset(self, X, y=None):
        if isinstance(X, Dataset) and not isinstance(X, SkorchDataset) and y is not None:
            return _Relabelled(X, np.asarray(y))
        return super().get_dataset(X, y)

    def get_iterator(self, dataset, training=False):
        if not training:
            return super().get_iterator(dataset, training=training)
        if isinstance(dataset, SkorchDataset):
            X, y = torch.as_tensor(dataset.X), dataset.y
        else:
            X, y = dataset, dataset_labels(dataset)
        y = torch.as_tensor(np.asarray(y), dtype=torch.long)
        batches = _FixMatchBatches(X, y, self.batch_size, self.mu, self.device)
        # Each unlabelled sample's last confident prediction, -1 until it has one; it moves
        # to the logits' device at the first step.
        self.pool_labels_ = torch.full((len(batches.unlabelled),), -1)
        # The running mean of the weak views' probabilities, for distribution alignment.
        self.pool_mean_ = None
        return batches

    def _aligned(self, probabilities):
        """``probabilities`` times the class prior over their running mean, normalised."""
        batch_mean = probabilities.mean(dim=0)
        self.pool_mean_ = (batch_mean if self.pool_mean_ is None else
                           _ALIGNMENT_MOMENTUM * self.pool_mean_ +
                           (1 - _ALIGNMENT_MOMENTUM) * batch_mean)
        n_classes = probabilities.shape[1]
        prior = (self.criterion_.log_prior.to(probabilities.device).exp()
                 if isinstance(self.criterion_, LogitAdjustedLoss)
                 else probabilities.new_full((n_classes,), 1.0 / n_classes))
        aligned = probabilities * prior / self.pool_mean_.clamp_min(1e-6)
        return aligned / aligned.sum(dim=1, keepdim=True)

    def _thresholds(self, pseudo_labels, n_classes):
        """The confidence each pseudo-label needs: ``threshold``, or its class's share of it."""
        if not self.class_thresholds:
            return self.threshold
        learnt = self.pool_labels_[self.pool_labels_ >= 0]
        counts = torch.bincount(learnt, minlength=n_classes).float()
        # While most of the pool has no confident prediction, every class counts as little
        # learnt: the thresholds start low and rise as the network learns (FlexMatch's
        # warm-up).
        unlearnt = len(self.pool_labels_) - len(learnt)
        effect = counts / max(float(counts.max()), unlearnt, 1)
        return self.threshold * (effect / (2 - effect))[pseudo_labels]

    def train_step_single(self, batch, **fit_params):
        x, y, x_unlabelled, drawn = batch
        self._set_training(True)
        n, m = len(x), len(x_unlabelled)
        with torch.no_grad():
            views = torch.cat([self.augment(x, "weak"), self.augment(x_unlabelled, "weak"),
                               self.augment(x_unlabelled, "strong")])
        logits = self.infer(views, **fit_params)
        labelled, weak, strong = logits.split([n, m, m])
        weak = weak.detach().float()
        if self.adjust_unlabelled and isinstance(self.criterion_, LogitAdjustedLoss):
            shift = self.criterion_.tau * self.criterion_.log_prior.to(weak.device)
            weak, strong = weak + shift, strong + shift
        probabilities = torch.softmax(weak, dim=1)
        if self.align_distribution:
            probabilities = self._aligned(probabilities)
        confidence, pseudo_labels = probabilities.max(dim=1)
        thresholds = self._thresholds(pseudo_labels, n_classes=weak.shape[1])
        confident = (confidence >= thresholds).to(strong.dtype)
        if self.class_thresholds:
            learnt = confidence >= self.threshold
            self.pool_labels_ = self.pool_labels_.to(learnt.device)
            self.pool_labels_[drawn.to(learnt.device)[learnt]] = pseudo_labels[learnt]
        unlabelled_loss = (F.cross_entropy(strong, pseudo_labels, reduction="none")
                           * confident).mean()
        loss = self.get_loss(labelled, y, training=True) + self.unlabelled_weight * unlabelled_loss
        loss.backward()
        return {"loss": loss, "y_pred": labelled, "confident": confident.mean()}


def pretrain(net, X, y, *, class_prior, epochs, augment=None, threshold=0.95,
             class_thresholds=False, align_distribution=False, mu=2, unlabelled_weight=1.0,
             adjust_unlabelled=True):
    """Pre-train an initialised skorch net in place; FixMatch where ``y`` has -1.

    Without unlabelled samples: ``epochs`` epochs of ``net.partial_fit``, the
    logit adjustment of a :class:`~selmix_sk.LogitAdjustedLoss` criterion set
    to ``class_prior``. With them: :class:`FixMatchNet` trains ``net.module_``
    for ``epochs`` passes over the labelled samples, with the optimizer,
    learning rate, batch size, device and callbacks of ``net`` and the
    logit-adjusted loss of ``net``'s strength ``tau`` (0 when its criterion
    is another).

    Parameters
    ----------
    net : skorch.NeuralNet
        Initialised.
    X : array-like, torch.Tensor or torch.utils.data.Dataset
    y : array-like of shape (n_samples,)
        Encoded labels in ``0 .. K - 1``; -1 for an unlabelled sample.
    class_prior : array-like of shape (K,)
        Share of each class among the labelled samples.
    epochs : int
    augment : callable, default=None
        ``augment(x, strength)``; None takes :func:`default_augment` of ``X``.
    threshold, class_thresholds, align_distribution, mu, unlabelled_weight, adjust_unlabelled
        See :class:`FixMatchNet`.

    Returns
    -------
    epochs_done : int
        Fewer than ``epochs`` when training was interrupted (skorch ends on
        KeyboardInterrupt, keeping what was learnt).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from selmix_sk import MLP, LogitAdjustedLoss
    >>> from selmix_sk._pretrain import pretrain
    >>> X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    >>> y = np.repeat([0, 1], 20)
    >>> net = NeuralNetClassifier(MLP, module__n_features=3, module__n_classes=2,
    ...                           criterion=LogitAdjustedLoss, criterion__class_prior=[0.5, 0.5],
    ...                           train_split=None, classes=[0, 1], verbose=0).initialize()
    >>> pretrain(net, X, y, class_prior=[0.5, 0.5], epochs=2)
    2
    >>> y[::2] = -1
    >>> pretrain(net, X, y, class_prior=[0.5, 0.5], epochs=3)
    3
    """
    labels = np.asarray(y)
    prior = torch.as_tensor(np.asarray(class_prior, dtype=np.float64))
    criterion = net.criterion_
    if isinstance(criterion, LogitAdjustedLoss):
        criterion.log_prior.copy_(torch.log(prior))
    if not (labels < 0).any():
        done_before = len(net.history)
        if isinstance(X, Dataset):
            # skorch reads a Dataset's own labels; train on the encoded ones.
            net.partial_fit(_Relabelled(X, labels), None, epochs=epochs)
        else:
            net.partial_fit(X, labels, epochs=epochs)
        return len(net.history) - done_before
    optimizer = {key: value for key, value in net.get_params().items()
                 if key == "optimizer" or key.startswith("optimizer__")}
    fixmatch = FixMatchNet(
        net.module_,
        augment=default_augment(X) if augment is None else augment,
        threshold=threshold,
        class_thresholds=class_thresholds,
        align_distribution=align_distribution,
        mu=mu,
        unlabelled_weight=unlabelled_weight,
        adjust_unlabelled=adjust_unlabelled,
        criterion=LogitAdjustedLoss,
        criterion__class_prior=prior.numpy(),
        criterion__tau=criterion.tau if isinstance(criterion, LogitAdjustedLoss) else 0.0,
        lr=net.lr,
        batch_size=net.batch_size,
        max_epochs=epochs,
        device=net.device,
        callbacks=net.callbacks,
        verbose=net.verbose,
        **optimizer,
    )
    fixmatch.fit(X, labels)
    return len(fixmatch.history)
