"""The SelMix fine-tuning loop on skorch: pair batches and the mixup step."""

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring

from .mixup import freeze_batchnorm

__all__ = []


class PairSampler:
    """Draws (i, j)-mixup batches on the module's device, vectorised.

    A batch draws ``batch_size`` class pairs from the pair distribution, then
    one sample of class i and one of class j for each pair, and a mixing
    coefficient ``lam ~ Uniform(lambda_min, 1)``: a few tensor operations,
    no Python loop per sample.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        Training inputs, on the device that the module runs on.
    y : torch.Tensor of shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``, on the same device.
    n_classes : int
    batch_size : int
    lambda_min : float
    generator : torch.Generator
        On the same device; seeds every draw.
    """

    def __init__(self, X, y, n_classes, batch_size, lambda_min, generator):
        self.X = X
        self.y = y
        self.n_classes = n_classes
        self.batch_size = batch_size
        self.lambda_min = lambda_min
        self.generator = generator
        self.order = torch.argsort(y, stable=True)
        self.counts = torch.bincount(y, minlength=n_classes)
        self.starts = torch.cumsum(self.counts, 0) - self.counts
        # Classes with no training sample (a partial_fit chunk that lacks them) can't be drawn.
        present = (self.counts > 0).to(torch.float64)
        self.pair_mask = present[:, None] * present[None, :]
        self.set_pair_probabilities(torch.ones(n_classes, n_classes, dtype=torch.float64))

    def set_pair_probabilities(self, probabilities):
        """Use ``probabilities`` (K x K, any scale) for the following draws."""
        weights = probabilities.to(self.pair_mask) * self.pair_mask
        if not weights.sum() > 0:
            weights = self.pair_mask
        self.pair_probabilities = (weights / weights.sum()).flatten()

    def _draw_members(self, classes):
        offsets = torch.rand(len(classes), generator=self.generator, device=classes.device)
        within = (offsets * self.counts[classes]).long().clamp_max(self.counts[classes] - 1)
        return self.order[self.starts[classes] + within]

    def draw(self):
        """One batch ``(x_first, x_second, y_first, lam)``."""
        pairs = torch.multinomial(
            self.pair_probabilities, self.batch_size, replacement=True, generator=self.generator
        )
        first = self._draw_members(pairs // self.n_classes)
        second = self._draw_members(pairs % self.n_classes)
        lam = torch.rand(self.batch_size, generator=self.generator, device=self.y.device)
        lam = self.lambda_min + (1.0 - self.lambda_min) * lam
        return self.X[first], self.X[second], self.y[first], lam


class _PairBatches:
    """An iterable of pair batches: ``steps_per_epoch`` a pass, ``total_steps`` in all."""

    def __init__(self, sampler, steps_per_epoch, total_steps):
        self.sampler = sampler
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = total_steps
        self.steps_done = 0

    def __len__(self):
        return min(self.steps_per_epoch, self.total_steps - self.steps_done)

    def __iter__(self):
        for _ in range(len(self)):
            self.steps_done += 1
            yield self.sampler.draw()


class SelMixNet(NeuralNet):
    """A skorch net whose training steps are SelMix mixups of a shared module.

    Each skorch epoch is one refresh period of ``refresh_every`` steps, so
    that the callback refreshing the gains runs at epoch boundaries.

    Parameters
    ----------
    module : torch.nn.Module
        The (pre-trained) network, as an instance: it is trained in place.
    sampler : PairSampler
    mixer : FeatureMixer
    refresh_every, total_steps : int
    **kwargs
        Passed to :class:`skorch.NeuralNet` (criterion, optimizer, lr, ...).
    """

    def __init__(self, module, *, sampler, mixer, refresh_every, total_steps, **kwargs):
        super().__init__(
            module, max_epochs=math.ceil(total_steps / refresh_every), train_split=None, **kwargs
        )
        self.sampler = sampler
        self.mixer = mixer
        self.refresh_every = refresh_every
        self.total_steps = total_steps

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]

    def get_iterator(self, dataset, training=False):
        if training:
            return _PairBatches(self.sampler, self.refresh_every, self.total_steps)
        return super().get_iterator(dataset, training=training)

    def _set_training(self, training=True):
        super()._set_training(training)
        if training:
            freeze_batchnorm(self.module_)

    def train_step_single(self, batch, **fit_params):
        x_first, x_second, y, lam = batch
        self._set_training(True)
        with self.mixer.mixing(lam):
            logits = self.infer(torch.cat([x_first, x_second]), **fit_params)
        loss = self.get_loss(logits, y, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": logits}
