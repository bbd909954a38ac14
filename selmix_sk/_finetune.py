"""The SelMix fine-tuning loop on skorch: pair batches and the mixup step."""

import itertools
import math

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer
from skorch.dataset import get_len

from .mixup import freeze_batchnorm

__all__ = []


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
        # A pass draws all its batches at once: the pair distribution changes only between
        # passes, at a refresh.
        for batch in self.sampler.draws(len(self)):
            self.steps_done += 1
            yield batch


class DeviceSteps:
    """What a skorch net of this package does differently on an accelerator.

    The training forward pass runs in mixed precision on CUDA (the logits
    come back in float32, so the loss is computed in full precision;
    predictions, without gradients, stay in full precision), and a training
    epoch does not wait for the device after every batch: skorch's loop
    reads every batch loss with ``loss.item()``, a host-device
    synchronisation; here the losses stay on the device until the end of the
    epoch, where all are read at once. For SelMix an epoch is a refresh
    period, which synchronises anyway. On the CPU both are the same
    computation as skorch's.
    """

    def infer(self, x, **fit_params):
        if torch.device(self.device).type != "cuda" or not torch.is_grad_enabled():
            return super().infer(x, **fit_params)
        # bfloat16 keeps float32's range: the loss needs no scaling.
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return super().infer(x, **fit_params).float()

    # A history row per training batch, as skorch keeps; without them, an epoch records
    # its mean loss only.
    _batch_history = True

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if self._batch_history or not training:
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training or iterator is None:
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            if self._batch_history:
                self.history.record_batch(prefix + "_batch_size", get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses and self._batch_history:
            batches = self.history[-1]["batches"][-len(losses):]
            for row, loss in zip(batches, torch.stack(losses).tolist(), strict=True):
                row[prefix + "_loss"] = loss
        elif losses:
            self.history.record(prefix + "_loss", torch.stack(losses).mean().item())
        self.history.record(prefix + "_batch_count", len(losses))


class SelMixNet(DeviceSteps, NeuralNet):
    """A skorch net whose training steps are SelMix mixups of a shared module.

    Each skorch epoch is one refresh period of ``refresh_every`` steps, so
    that the callback refreshing the gains runs at epoch boundaries. The
    learning rate of every parameter group anneals to zero over
    ``total_steps`` by a cosine, as with torch's ``CosineAnnealingLR``
    stepped every batch.

    Parameters
    ----------
    module : torch.nn.Module
        The (pre-trained) network, as an instance: it is trained in place.
    sampler : PairSampler or DatasetPairSampler
        From :mod:`selmix_sk._samplers`.
    mixer : FeatureMixer
    refresh_every, total_steps : int
    **kwargs
        Passed to :class:`skorch.NeuralNet` (criterion, optimizer, lr, ...);
        the optimizer must step without a closure, as SGD does.
    """

    def __init__(self, module, *, sampler, mixer, refresh_every, total_steps, **kwargs):
        super().__init__(
            module, max_epochs=math.ceil(total_steps / refresh_every), train_split=None, **kwargs
        )
        self.sampler = sampler
        self.mixer = mixer
        self.refresh_every = refresh_every
        self.total_steps = total_steps

    # The net lives for one fine-tuning and nothing reads its batches back: a row per step
    # would cost more than the step's pair draw.
    _batch_history = False

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer())]

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        # The schedule starts with the optimizer. A counter, not an attribute set every
        # step: skorch's __setattr__ costs more than the schedule's arithmetic.
        self._initial_lrs = [group["lr"] for group in self.optimizer_.param_groups]
        self._step_count = itertools.count()
        return self

    def get_iterator(self, dataset, training=False):
        if training:
            return _PairBatches(self.sampler, self.refresh_every, self.total_steps)
        return super().get_iterator(dataset, training=training)

    def _set_training(self, training=True):
        super()._set_training(training)
        if training:
            freeze_batchnorm(self.module_)

    def fit_loop(self, X, y=None, *args, **kwargs):
        # The mixing hook stays on the head for the whole fit: a step only sets its lam.
        with self.mixer.attached():
            return super().fit_loop(X, y, *args, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training:
            # Once a refresh period, not once a step (which costs as much as a small step's
            # tensor operations): only the refresh between periods changes the modes.
            self._set_training(True)
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def train_step(self, batch, **fit_params):
        # skorch's step wraps this in a closure for optimizers that re-evaluate the loss, and
        # tells callbacks of the gradients; SGD does not need the one, nor this net's
        # callbacks the other, and each costs a few percent of a small network's step.
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self._anneal_lr()
        self._step_optimizer(None)
        return step

    def _anneal_lr(self):
        """Set this step's learning rates: the cosine schedule, in closed form.

        Here rather than in skorch's ``LRScheduler`` callback around torch's
        ``CosineAnnealingLR``, whose per-step bookkeeping costs a few percent of
        a small network's step.
        """
        progress = min(next(self._step_count) / max(self.total_steps, 1), 1.0)
        scale = (1.0 + math.cos(math.pi * progress)) / 2.0
        for group, initial_lr in zip(self.optimizer_.param_groups, self._initial_lrs,
                                     strict=True):
            group["lr"] = initial_lr * scale

    def train_step_single(self, batch, **fit_params):
        """One mixup step; the module is in training mode already (see ``run_single_epoch``)."""
        x_first, x_second, y, lam = batch
        with self.mixer.mixing(lam):
            logits = self.infer(torch.cat([x_first, x_second]), **fit_params)
        loss = self.get_loss(logits, y, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": logits}
