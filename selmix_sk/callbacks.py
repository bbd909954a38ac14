"""skorch callbacks of SelMix: the gain refresh and the progress bar.

:class:`GainRefresh` holds what happens at every refresh of fine-tuning; the
numbers it computes have homes of their own, re-exported here: the gain and
the pair distribution in :mod:`selmix_sk.gain`, the held-out evaluation and
the history rows in ``selmix_sk._record``.
"""

import torch
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from ._batching import predict_in_batches
from ._confusion import confusion_from_logits
from ._record import class_prototypes, evaluate_validation, history_row
from .gain import compute_gain, pair_probabilities

__all__ = [
    "GainRefresh",
    "PairSchedule",
    "ProgressBar",
    "evaluate_validation",
    "history_row",
    "pseudo_labels",
]

CONFUSIONS = ("soft", "hard")


def pseudo_labels(module, sampler, batch_size=1024):
    """The class ``module`` predicts for each unlabelled sample of ``sampler``, as it orders them.

    Parameters
    ----------
    module : torch.nn.Module
        Predicts in eval mode; its mode is restored after.
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
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return torch.cat([module(batch).argmax(1)
                              for batch in sampler.unlabelled_batches(batch_size)])
    finally:
        module.train(training)


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
    pair_probabilities_ : list of torch.Tensor
        The pair distribution handed to the sampler at every refresh, on
        the CPU (see :class:`PairSchedule`, which replays such a list).
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
        self.pair_probabilities_ = []
        self.snapshots_ = {}
        self.diverged_at_ = None
        return self

    def refresh(self, net, step):
        """Evaluate, update the multipliers and the pair distribution; record a row."""
        module, mixer = net.module_, net.mixer
        training = module.training
        module.eval()
        logits, features = predict_in_batches(module, self.X_val, batch_size=1024,
                                              device=self.y_val.device, mixer=mixer)
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
        counted = confusion_from_logits(logits, self.y_val, n_classes, soft=False)
        # A few validation samples a class make argmax counts jump; the mean
        # probabilities move smoothly, as the first-order gain assumes.
        soft = (confusion_from_logits(logits, self.y_val, n_classes, soft=True)
                if self.confusion == "soft" or self.choice is not None else None)
        steering = soft if self.confusion == "soft" else counted
        C, S = counted.cpu().numpy(), steering.cpu().numpy()
        value = self.objective.value(C)
        self.objective.update(S)
        D = torch.as_tensor(self.objective.gradient(S), device=steering.device)
        bias = mixer.head.bias
        gain = compute_gain(
            steering,
            class_prototypes(torch.cat(features), self.y_val, n_classes),
            mixer.head.weight.detach(),
            torch.zeros(n_classes) if bias is None else bias.detach(),
            D,
            lambda_min=self.lambda_min,
            indicator=self.indicator,
            class_prior=steering.sum(1).clamp_min(1e-12),
        )
        probabilities = pair_probabilities(gain, self.selection, self.temperature)
        net.sampler.set_pair_probabilities(probabilities)
        self.pair_probabilities_.append(probabilities.cpu())
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



class PairSchedule(Callback):
    """Hands the sampler given pair distributions, one per refresh period.

    Where :class:`GainRefresh` measures the gains on held-out data, this
    replays distributions measured elsewhere: ``probabilities[r]`` steers
    the ``r``-th period. With unlabelled samples in the sampler, the network
    pseudo-labels them at every refresh, as under :class:`GainRefresh`.

    Parameters
    ----------
    probabilities : sequence of torch.Tensor of shape (K, K)

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk import MLP
    >>> from selmix_sk._finetune import SelMixNet
    >>> from selmix_sk._samplers import PairSampler
    >>> from selmix_sk.callbacks import PairSchedule
    >>> from selmix_sk.mixup import FeatureMixer
    >>> X, y = torch.randn(60, 4), torch.arange(60) % 3
    >>> only_0_1 = torch.zeros(3, 3)
    >>> only_0_1[0, 1] = 1.0
    >>> sampler = PairSampler(X, y, 3, 8, 0.6, torch.Generator().manual_seed(0))
    >>> module = MLP(4, 3, hidden_units=(8,))
    >>> net = SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module), refresh_every=5,
    ...                 total_steps=10, criterion=nn.CrossEntropyLoss,
    ...                 optimizer=torch.optim.SGD, lr=0.01, device="cpu",
    ...                 callbacks=[("pair_schedule", PairSchedule([only_0_1] * 2))]).fit(X, y)
    >>> sampler.pair_probabilities.reshape(3, 3)[0, 1].item()
    1.0
    """

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def _hand(self, net, period):
        if period >= len(self.probabilities):
            return
        if net.sampler.n_unlabelled:
            net.sampler.set_pseudo_labels(pseudo_labels(net.module_, net.sampler))
        net.sampler.set_pair_probabilities(self.probabilities[period])

    def on_train_begin(self, net, **kwargs):
        self._hand(net, 0)

    def on_epoch_end(self, net, **kwargs):
        self._hand(net, len(net.history))


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
