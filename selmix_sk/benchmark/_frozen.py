"""The cost of a fine-tuning step with a frozen backbone against the whole network."""

import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from .._classifier import SelMixClassifier
from .._threads import limit_threads

__all__ = ["FROZEN_TARGET", "run_frozen_cost"]

# freeze_backbone=True must make a step at least this many times cheaper (issue target).
FROZEN_TARGET = 10.0


def _resnet18_on_random_images(n_images, seed):
    """A torchvision ResNet-18 fitted for an epoch on random images: ``(net, X, y)``.

    Random weights, nothing downloaded; ``n_images`` random 3 x 32 x 32
    images of 10 classes, the same for a seed. The caller sets the threads.
    """
    from torchvision.models import resnet18

    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_images, 3, 32, 32)).astype(np.float32)
    y = np.arange(n_images) % 10
    torch.manual_seed(seed)
    net = NeuralNetClassifier(resnet18, module__num_classes=10, max_epochs=1, batch_size=64,
                              train_split=None, optimizer=torch.optim.SGD, lr=0.01,
                              verbose=0).fit(X, y)
    return net, X, y


def _fit_seconds(net, X, y, steps, freeze_backbone, seed, batch_size):
    clf = SelMixClassifier(net, finetune_steps=steps, refresh_every=max(steps, 1),
                           freeze_backbone=freeze_backbone, batch_size=batch_size, device="cpu",
                           random_state=seed)
    start = time.perf_counter()
    clf.fit(X, y, X_val=X[:64], y_val=y[:64])
    return time.perf_counter() - start


def run_frozen_cost(*, n_images=256, full_steps=5, frozen_steps=2000, batch_size=64, seed=0,
                    repeats=3, n_threads=1):
    """Seconds per SelMix step of a ResNet-18 on 32x32 images, frozen and whole.

    A torchvision ResNet-18 (random weights, nothing downloaded) is fitted for
    one epoch on random 3 x 32 x 32 images of 10 classes, then fine-tuned by
    :class:`~selmix_sk.SelMixClassifier` with and without
    ``freeze_backbone=True``. A step's cost is the difference between a fit
    with ``steps`` steps and one with none, divided by ``steps``, so that it
    includes what the estimator does per step (the pair draw, the mixing,
    skorch's loop) and leaves out what it does once (the frozen backbone's
    feature pass, the refreshes at the start and end). Each fit is timed
    ``repeats`` times and the medians are taken: a head-only step takes
    about a millisecond, so it needs many steps to stand out of the noise.

    Parameters
    ----------
    n_images : int, default=256
    full_steps, frozen_steps : int, default=5, 2000
        Steps timed for the whole network and for the head alone.
    batch_size : int, default=64
        Mixup pairs a step, as the estimator's default.
    repeats : int, default=3
    seed : int, default=0
    n_threads : int, default=1
        Torch threads during the timing.

    Returns
    -------
    cost : dict
        ``full_step_s``, ``frozen_step_s``, ``ratio`` (full over frozen),
        ``frozen_setup_s`` (a frozen fit without steps: the one-off feature
        pass and the refresh), ``full_fit_s`` and ``frozen_fit_s`` (the
        median seconds of the fit with its ``full_steps`` and
        ``frozen_steps``), those two step counts, ``target`` and ``met``.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_frozen_cost
    >>> cost = run_frozen_cost(n_images=16, full_steps=1, frozen_steps=2, batch_size=4,
    ...                        repeats=1)
    >>> sorted(cost)  # doctest: +NORMALIZE_WHITESPACE
    ['frozen_fit_s', 'frozen_setup_s', 'frozen_step_s', 'frozen_steps', 'full_fit_s',
     'full_step_s', 'full_steps', 'met', 'ratio', 'target']
    """
    with limit_threads(n_threads):
        net, X, y = _resnet18_on_random_images(n_images, seed)
        cost = {}
        for name, frozen, steps in (("full", False, full_steps), ("frozen", True, frozen_steps)):
            base, tuned = (
                np.median([_fit_seconds(net, X, y, n, frozen, seed, batch_size)
                           for _ in range(repeats)])
                for n in (0, steps)
            )
            cost[f"{name}_step_s"] = (tuned - base) / steps
            # The fit's own seconds, beside the step's: what a user waits for.
            cost[f"{name}_fit_s"], cost[f"{name}_steps"] = tuned, steps
            if frozen:
                cost["frozen_setup_s"] = base
    cost["ratio"] = cost["full_step_s"] / max(cost["frozen_step_s"], 1e-12)
    cost["target"] = FROZEN_TARGET
    cost["met"] = bool(cost["ratio"] >= FROZEN_TARGET)
    return cost
