"""skorch callbacks of SelMix: the gain refresh and the progress bar."""

import torch
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from ._samplers import input_batches
from .gain import compute_gain, sampling_distribution
from .objectives import _recalls

__all__ = [
    "GainRefresh",
    "ProgressBar",
    "evaluate_validation",
    "history_row",
    "pair_probabilities",
    "pseudo_labels",
]

SELECTIONS = ("selmix", "uniform", "greedy")
CONFUSIONS = ("soft", "hard")
# The columns of every history record, before the per-class ones.
HISTORY_COLUMNS = ("step", "objective", "mean_recall", "min_recall", "max_gain")


def pair_probabilities(gain, selection, temperature):
    """Pair-sampling probabilities of a selection policy.

    ``"selmix"`` rescales the gains by their largest magnitude, so that the
    temperature means the same whatever the scale of the features, and
    applies :func:`~selmix_sk.gain.sampling_distribution`; ``"uniform"`` draws
    every pair alike; ``"greedy"`` always the pair of largest gain. The last
    two are the paper's ablations.

    Parameters
    ----------
    gain : torch.Tensor of shape (K, K)
    selection : {"selmix", "uniform", "greedy"}
    temperature : float

    Returns
    -------
    probabilities : torch.Tensor of shape (K, K)

    Examples
    --------
    >>> import torch
    >>> from selmix_sk.callbacks import pair_probabilities
    >>> gain = torch.tensor([[0.2, -0.1], [0.1, 0.0]], dtype=torch.float64)
    >>> pair_probabilities(gain, "greedy", 0.1)
    tensor([[1., 0.],
            [0., 0.]], dtype=torch.float64)
    """
    if selection == "uniform":
        return torch.ones_like(gain)
    if selection == "greedy":
        best = torch.zeros_like(gain).flatten()
        best[gain.argmax()] = 1.0
        return best.reshape(gain.shape)
    scale = gain.abs().max()
    return sampling_distribution(gain / scale if scale > 0 else gain, temperature)


def _forward(module, mixer, X, batch_size, device=None):
    """Logits and head inputs of ``module`` on ``X`` (a tensor or a Dataset), in chunks.

    Without gradients; chunks move to ``device`` (None: where they are).
    """
    with torch.no_grad(), mixer.recording() as features:
        logits = torch.cat([module(chunk.to(device, non_blocking=True))
                            for chunk in input_batches(X, batch_size)])
    return logits, torch.cat(features).to(torch.float64)


def pseudo_labels(module, sampler, batch_size=1024):
    """The class ``module`` predicts for each unlabelled sample of ``sampler``, as it orders them.

    Parameters
    ----------
    module : torch.nn.Module
        In eval mode.
    sampler : PairSampler or DatasetPairSampler
    batch_size : int, default=1024

    Returns
    -------
    labels : torch.Tensor of shape (sampler.n_unlabelled,)

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk._samplers import PairSampler
    >>> from selmix_sk.callbacks import pseudo_labels
    >>> X = torch.tensor([[1.0], [-1.0], [2.0], [-3.0]])
    >>> sampler = PairSampler(X, torch.tensor([0, 1, -1, -1]), 2, 4, 0.6, torch.Generator())
    >>> module = nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = module.weight.copy_(torch.tensor([[1.0], [-1.0]])), module.bias.zero_()
    >>> pseudo_labels(module, sampler)
    tensor([0, 1])
    """
    with torch.no_grad():
        return torch.cat([module(batch).argmax(1)
                          for batch in sampler.unlabelled_batches(batch_size)])


def _confusion(logits, y, n_classes, soft):
    """The normalised confusion matrix: argmax counts, or mean probabilities if ``soft``."""
    if soft:
        predictions = torch.softmax(logits.to(torch.float64), dim=1)
    else:
        predictions = torch.nn.functional.one_hot(logits.argmax(1), n_classes).to(torch.float64)
    sums = torch.zeros(n_classes, n_classes, dtype=torch.float64, device=logits.device)
    return sums.index_add_(0, y, predictions) / len(y)


def _prototypes(features, y, n_classes):
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
    logits, features = _forward(module, mixer, X, batch_size)
    return _confusion(logits, y, n_classes, soft), _prototypes(features, y, n_classes)


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
    recall = _recalls(C)[0]
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


class GainRefresh(Callback):
    """Refreshes the gains and the pair distribution every refresh period.

    At the start of training and at the end of every epoch of a
    :class:`~selmix_sk._finetune.SelMixNet` (one epoch is one refresh period),
    it evaluates the module on the validation set, advances the objective's
    multipliers, computes the gain of every pair and hands the pair
    probabilities of the selection policy to the sampler. When the sampler
    holds unlabelled samples, it also predicts them and hands the sampler
    these pseudo-labels (see :func:`pseudo_labels`), by which the second
    sample of a pair is drawn until the next refresh.

    Parameters
    ----------
    X_val : torch.Tensor or torch.utils.data.Dataset
        Validation inputs, on the module's device; a Dataset of ``(x, y)``
        pairs is read a batch at a time, its own labels unread.
    y_val : torch.Tensor
        Encoded validation labels, on the module's device.
    objective : Objective
    selection : {"selmix", "uniform", "greedy"}
    temperature, lambda_min : float
    indicator : {"exact", "published"}
    class_labels : array-like of shape (K,)
        Names of the classes, for the record.
    snapshots : bool, default=False
        Keep copies of the weights, on the CPU, so that the estimator can go
        back to the refresh it selects: at every refresh, or only those that
        ``choice`` may keep.
    confusion : {"soft", "hard"}, default="soft"
        The validation confusion matrix that steers the multipliers and the
        gains: mean predicted probabilities, or argmax counts as in the
        published code (see :func:`evaluate_validation`). The record and the
        objective's value use the argmax counts either way.
    choice : object, default=None
        Decides, refresh by refresh, which one to keep: its
        ``offer(counted, soft)`` takes a refresh's argmax and mean-probability
        confusion matrices (NumPy) and says whether that refresh is now the
        candidate, and its ``candidate`` is the index of the latest one (the
        estimator passes its rule so). Then only the start's weights and the
        candidate's are kept, two copies instead of one per refresh; the
        choice advances in place, as the objective's multipliers do. None:
        the choice is made after training, on a record that other networks
        share, and every refresh's weights are kept.

    Attributes
    ----------
    records_ : list of dict
        A row per refresh: step, objective and recalls on validation, largest
        gain, multipliers.
    logits_ : list of torch.Tensor
        The logits on the validation set at every refresh, on the CPU.
    snapshots_ : dict
        The module's state on the CPU by refresh index: at every refresh, or
        at the start and ``choice``'s candidate; empty unless ``snapshots``.
    diverged_at_ : int or None
        The step at which the logits stopped being finite, ending training;
        None if they never did.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch import nn
    >>> from selmix_sk import MLP
    >>> from selmix_sk._finetune import SelMixNet
    >>> from selmix_sk._samplers import PairSampler
    >>> from selmix_sk.callbacks import GainRefresh
    >>> from selmix_sk.mixup import FeatureMixer
    >>> from selmix_sk.objectives import make_objective
    >>> X, y = torch.randn(60, 4), torch.arange(60) % 3
    >>> objective = make_objective("min_recall").reset(np.full(3, 1 / 3))
    >>> refresh = GainRefresh(X, y, objective, "selmix", 0.1, 0.6, "exact", ["a", "b", "c"],
    ...                       snapshots=True)
    >>> module = MLP(4, 3, hidden_units=(8,))
    >>> sampler = PairSampler(X, y, 3, 8, 0.6, torch.Generator().manual_seed(0))
    >>> net = SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module), refresh_every=5,
    ...                 total_steps=10, criterion=nn.CrossEntropyLoss,
    ...                 optimizer=torch.optim.SGD, lr=0.01, device="cpu",
    ...                 callbacks=[("gain_refresh", refresh)]).fit(X, y)
    >>> [row["step"] for row in refresh.records_], sorted(refresh.snapshots_)
    ([0, 5, 10], [0, 1, 2])
    """

    def __init__(self, X_val, y_val, objective, selection, temperature, lambda_min,
                 indicator, class_labels, snapshots=False, confusion="soft", choice=None):
        self.X_val = X_val
        self.y_val = y_val
        self.objective = objective
        self.selection = selection
        self.temperature = temperature
        self.lambda_min = lambda_min
        self.indicator = indicator
        self.class_labels = class_labels
        self.snapshots = snapshots
        self.confusion = confusion
        self.choice = choice

    def initialize(self):
        self.records_ = []
        self.logits_ = []
        self.snapshots_ = {}
        self.diverged_at_ = None
        return self

    def refresh(self, net, step):
        """Evaluate, update the multipliers and the pair distribution; record a row."""
        module, mixer = net.module_, net.mixer
        training = module.training
        module.eval()
        logits, features = _forward(module, mixer, self.X_val, 1024, self.y_val.device)
        if not torch.isfinite(logits).all():
            module.train(training)
            # Steps too large for this network: stop as skorch's EarlyStopping does, and
            # leave the estimator the refreshes recorded so far.
            self.diverged_at_ = step
            raise KeyboardInterrupt
        if net.sampler.n_unlabelled:
            net.sampler.set_pseudo_labels(pseudo_labels(module, net.sampler))
        module.train(training)
        n_classes = len(self.class_labels)
        counted = _confusion(logits, self.y_val, n_classes, soft=False)
        # A few validation samples a class make argmax counts jump; the mean
        # probabilities move smoothly, as the first-order gain assumes.
        soft = (_confusion(logits, self.y_val, n_classes, soft=True)
                if self.confusion == "soft" or self.choice is not None else None)
        steering = soft if self.confusion == "soft" else counted
        C, S = counted.cpu().numpy(), steering.cpu().numpy()
        value = self.objective.value(C)
        self.objective.update(S)
        D = torch.as_tensor(self.objective.gradient(S), device=steering.device)
        bias = mixer.head.bias
        gain = compute_gain(
            steering,
            _prototypes(features, self.y_val, n_classes),
            mixer.head.weight.detach(),
            torch.zeros(n_classes) if bias is None else bias.detach(),
            D,
            lambda_min=self.lambda_min,
            indicator=self.indicator,
            class_prior=steering.sum(1).clamp_min(1e-12),
        )
        net.sampler.set_pair_probabilities(
            pair_probabilities(gain, self.selection, self.temperature)
        )
        self.records_.append(history_row(self.objective, self.class_labels, step, value, C,
                                         float(gain.max()), self.objective.multipliers))
        self.logits_.append(logits.cpu())
        self._keep_weights(module, C, soft)

    def _keep_weights(self, module, counted, soft):
        """Offer this refresh to ``choice``; copy its weights if they may be kept."""
        if self.choice is not None:
            former = self.choice.candidate
            if not self.choice.offer(counted, soft.cpu().numpy()):
                return
            if former:  # the start (0) stays: the estimator may blend with it
                self.snapshots_.pop(former, None)
        if self.snapshots:
            self.snapshots_[len(self.records_) - 1] = {
                name: value.detach().to("cpu", copy=True)
                for name, value in module.state_dict().items()
            }

    def on_train_begin(self, net, **kwargs):
        self.refresh(net, step=0)

    def on_epoch_end(self, net, **kwargs):
        steps = sum(net.history[:, "train_batch_count"])
        self.refresh(net, step=int(steps))
        net.history.record("valid_objective", self.records_[-1]["objective"])



class ProgressBar(Callback):
    """A tqdm progress bar over training steps, with the last validation objective.

    Parameters
    ----------
    total : int
        Number of steps (batches) of the run.
    desc : str, default="SelMix"
        Label of the bar.

    Examples
    --------
    >>> from selmix_sk.callbacks import ProgressBar
    >>> ProgressBar(total=500, desc="fine-tuning").total
    500
    """

    def __init__(self, total, desc="SelMix"):
        self.total = total
        self.desc = desc

    def initialize(self):
        self.bar_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="step", leave=False)

    def on_batch_end(self, net, training=True, **kwargs):
        if training and self.bar_ is not None:
            self.bar_.update(1)

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is not None and "valid_objective" in net.history[-1]:
            self.bar_.set_postfix(objective=f"{net.history[-1, 'valid_objective']:.4f}")

    def on_train_end(self, net, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None
