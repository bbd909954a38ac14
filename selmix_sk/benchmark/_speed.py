"""The speed suite: the closed-form gain against a literal K^4 one, the step, memory."""

import copy
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skorch import NeuralNet
from torch import nn

from .._classifier import SelMixClassifier
from .._finetune import SelMixNet
from .._modules import MLP
from .._samplers import PairSampler, make_pair_sampler
from .._threads import limit_threads
from ..datasets import load_long_tailed_digits
from ..gain import compute_gain
from ..mixup import FeatureMixer
from ._frozen import _resnet18_on_random_images

GAIN_KS = (10, 30, 100, 1000)
_GAIN_FEATURES = 128
_LITERAL_MAX_BYTES = 2 * 1024**3
_LITERAL_MAX_SECONDS = 60.0
_STEP_CONFIGS = {
    "MLP 64-128-128-10": (64, (128, 128), 10),
    "wide MLP 256-1024-1024-100": (256, (1024, 1024), 100),
}
_STEP_BATCH = 64
_MiB = 1024**2
_TARGETS = {"speedup_k100": 1000.0, "closed_k100_s": 0.010, "closed_k1000_s": 2.0,
            "step_ratio": 1.2, "copies_growth": 2.0}
_OVERHEAD_REPEATS = 7
# Refreshes of the two image fits whose peak memory is compared (a step between two).
_COPIES_REFRESHES = (5, 25)


def literal_gain(confusion, prototypes, weight, bias, dpsi_dC, *, lambda_min=0.6,
                 class_prior=None):
    """The SelMix gain through the full (K, K, K, K) tensor of logit changes.

    The reference that :func:`~selmix_sk.gain.compute_gain` is checked and
    timed against: for every pair (i, j) it forms the mixed prototype
    ``z_ij = lam z_i + (1 - lam) z_j``, the head's output
    ``p_ij = softmax(W z_ij + b)``, and materialises
    ``dA[i, j, k, l] = (delta_il - p_ij[l]) z_k . z_ij``, the change of the
    head's logit ``l`` on prototype ``k`` after one SGD step (unit learning
    rate) on the (i, j)-mixup; then ``G[i, j] = sum_{k, l} E[k, l] dA[i, j, k, l]``
    with ``E = d psi / d A``. O(K^4) time and memory: 800 MB at K = 100.

    Parameters
    ----------
    confusion, prototypes, weight, bias, dpsi_dC, lambda_min, class_prior
        As in :func:`~selmix_sk.gain.compute_gain` (NumPy arrays).

    Returns
    -------
    gain : ndarray of shape (K, K)
        Equal to ``compute_gain(..., indicator="exact")``.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.gain import compute_gain
    >>> from selmix_sk.benchmark import literal_gain
    >>> rng = np.random.default_rng(0)
    >>> C = rng.random((4, 4)); C /= C.sum()
    >>> Z, W = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    >>> b, D = rng.normal(size=4), rng.normal(size=(4, 4))
    >>> G = literal_gain(C, Z, W, b, D, class_prior=C.sum(1))
    >>> np.allclose(G, compute_gain(C, Z, W, b, D, class_prior=C.sum(1)))
    True
    """
    C, Z, W, b, D = (np.asarray(a, dtype=np.float64)
                     for a in (confusion, prototypes, weight, bias, dpsi_dC))
    K = len(C)
    pi = np.full(K, 1.0 / K) if class_prior is None else np.asarray(class_prior, np.float64)
    lam = (1.0 + lambda_min) / 2.0
    DC = D * C
    E = DC - (DC.sum(axis=1) / pi)[:, None] * C
    mixed = lam * Z[:, None, :] + (1.0 - lam) * Z[None, :, :]
    logits = mixed @ W.T + b
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    overlap = mixed @ Z.T
    step = np.eye(K)[:, None, :] - p
    # A batched outer product: NumPy's broadcasting multiply is 8x slower here,
    # and a fair reference should be as fast as a K^4 tensor allows.
    dA = overlap[..., :, None] @ step[..., None, :]
    return np.tensordot(dA, E, axes=([2, 3], [0, 1]))


def _gain_inputs(K, d, seed):
    """Random gain inputs with a non-uniform class prior."""
    rng = np.random.default_rng(seed)
    C = rng.random((K, K)) * np.linspace(0.2, 2.0, K)[:, None]
    C /= C.sum()
    Z = rng.normal(size=(K, d))
    W = rng.normal(size=(K, d)) / np.sqrt(d)
    return (C, Z, W, rng.normal(size=K), rng.normal(size=(K, K))), {"class_prior": C.sum(1)}


_GAIN_IMPLEMENTATIONS = {"closed form": compute_gain, "literal K^4": literal_gain}


def _seconds(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _median_seconds(func, repeats, warmup=1):
    for _ in range(warmup):
        func()
    return float(np.median([_seconds(func) for _ in range(repeats)]))


def _proc_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _peak_rss_during(func):
    """Peak resident memory of ``func()`` above the memory before it, in bytes.

    On Linux the high-water mark is reset first, so this is the peak during
    the call; elsewhere it is the growth of ``ru_maxrss``, a lower bound.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        before = _proc_kib("VmRSS")
        func()
        return (_proc_kib("VmHWM") - before) * 1024
    except OSError:
        import resource  # not on Windows

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        func()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (after - before) * (1 if sys.platform == "darwin" else 1024)


def _gain_peak_rss(implementation, K, d, seed):
    args, kwargs = _gain_inputs(K, d, seed)
    with limit_threads(1):
        return _peak_rss_during(partial(_GAIN_IMPLEMENTATIONS[implementation], *args, **kwargs))


def _fit_peak_rss(seed, estimator_params):
    data = load_long_tailed_digits(random_state=seed)
    clf = SelMixClassifier(random_state=seed, device="cpu", **estimator_params)
    with limit_threads(1):
        return _peak_rss_during(partial(clf.fit, data.X_train, data.y_train, data.X_val,
                                        data.y_val))


def _image_fit_peak_rss(seed, n_refreshes):
    """Peak memory of a ResNet-18 fine-tuned on images with a validation set, and its weights.

    The ResNet-18 of :func:`~selmix_sk.benchmark.run_frozen_cost`, fitted
    for an epoch on 96 random images, then ``n_refreshes - 1`` SelMix steps
    on 64 of them with a refresh after each, on the other 32: ``(peak bytes
    above the memory before the fit, bytes of the weights)``.
    """
    with limit_threads(1):
        net, X, y = _resnet18_on_random_images(96, seed)
        clf = SelMixClassifier(net, finetune_steps=n_refreshes - 1, refresh_every=1,
                               batch_size=4, device="cpu", random_state=seed)
        peak = _peak_rss_during(partial(clf.fit, X[:64], y[:64], X[64:], y[64:]))
    weights = sum(value.numel() * value.element_size()
                  for value in net.module_.state_dict().values())
    return peak, weights


def _in_fresh_process(func, *args):
    """``func(*args)`` in a new interpreter; ``func`` a module-level function, JSON arguments.

    Memory that earlier work freed would otherwise be reused without showing
    in the resident set. A plain subprocess, unlike multiprocessing's spawn,
    does not re-run the caller's main script.
    """
    code = (f"import json, sys; from {func.__module__} import {func.__name__}; "
            f"print(json.dumps({func.__name__}(*json.loads(sys.argv[1]))))")
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code, json.dumps(args)], check=True,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    return json.loads(result.stdout.splitlines()[-1])


def _gain_speed(ks, *, literal_max_k, seed, measure_memory):
    """Median seconds (and peak memory) of both gain implementations at each K."""
    rows = []
    literal_previous = None
    for K in ks:
        args, kwargs = _gain_inputs(K, _GAIN_FEATURES, seed)
        for name, func in _GAIN_IMPLEMENTATIONS.items():
            row = {"implementation": name, "K": K, "d": _GAIN_FEATURES, "seconds": np.nan,
                   "peak_rss_mib": np.nan, "note": ""}
            if name == "literal K^4":
                tensor_bytes = 8 * K**4
                predicted = (0.0 if literal_previous is None
                             else literal_previous[1] * (K / literal_previous[0]) ** 4)
                if K > literal_max_k:
                    row["note"] = f"skipped: K > {literal_max_k} in this run"
                elif tensor_bytes > _LITERAL_MAX_BYTES:
                    row["note"] = (f"skipped: the K^4 tensor needs {tensor_bytes / 1024**3:,.0f} "
                                   "GiB (> 2 GiB)")
                elif predicted > _LITERAL_MAX_SECONDS:
                    row["note"] = f"skipped: predicted {predicted:.0f} s (> 60 s) from K^4"
                if row["note"]:
                    rows.append(row)
                    continue
            repeats = max(3, min(200, int(2e6 / K**3))) if name == "closed form" else 3
            row["seconds"] = _median_seconds(partial(func, *args, **kwargs), repeats)
            if name == "literal K^4":
                literal_previous = (K, row["seconds"])
            if measure_memory and K >= 100:
                row["peak_rss_mib"] = _in_fresh_process(_gain_peak_rss, name, K,
                                                        _GAIN_FEATURES, seed) / _MiB
            rows.append(row)
    return pd.DataFrame(rows)


def _step_speed(repeats, seed):
    """Median seconds of a SelMix step and of a plain step over the same 2 x batch samples."""
    rows = []
    for name, (n_features, hidden, n_classes) in _STEP_CONFIGS.items():
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        X = torch.randn(2048, n_features, generator=generator)
        y = torch.randint(n_classes, (2048,), generator=generator)
        module = MLP(n_features, n_classes, hidden_units=hidden)
        # Identical weights and optimizer settings; only the step differs.
        options = {"criterion": nn.CrossEntropyLoss, "optimizer": torch.optim.SGD, "lr": 0.01,
                   "optimizer__weight_decay": 5e-4, "device": "cpu"}
        plain_module = MLP(n_features, n_classes, hidden_units=hidden)
        plain_module.load_state_dict(module.state_dict())
        sampler = PairSampler(X, y, n_classes, _STEP_BATCH, 0.6, generator)
        selmix = SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module),
                           refresh_every=20, total_steps=10 + repeats, batch_size=_STEP_BATCH,
                           **options).initialize()
        plain = NeuralNet(plain_module, batch_size=2 * _STEP_BATCH, train_split=None,
                          **options).initialize()
        pair_batch = sampler.draw()
        plain_batch = (torch.cat(pair_batch[:2]), torch.cat([pair_batch[2], pair_batch[2]]))
        selmix_step = partial(selmix.train_step, pair_batch)
        plain_step = partial(plain.train_step, plain_batch)
        for _ in range(10):
            selmix_step()
            plain_step()
        # Interleaved, so that a change of machine load hits both alike.
        times = np.array([(_seconds(selmix_step), _seconds(plain_step)) for _ in range(repeats)])
        draw = _median_seconds(sampler.draw, repeats)
        selmix_s, plain_s = np.median(times, axis=0)
        rows.append({"module": name, "batch": f"{_STEP_BATCH} pairs / {2 * _STEP_BATCH} samples",
                     "plain_step_ms": 1e3 * plain_s, "selmix_step_ms": 1e3 * selmix_s,
                     "pair_draw_ms": 1e3 * draw, "ratio": selmix_s / plain_s,
                     "ratio_with_draw": (selmix_s + draw) / plain_s})
    return pd.DataFrame(rows)


def _plain_loop_seconds(module, X, y, steps, batch_size, lr, weight_decay, seed):
    """Seconds of ``steps`` plain SGD steps (forward, cross-entropy, backward, update)."""
    generator = torch.Generator().manual_seed(seed)
    batches = torch.randint(len(X), (steps, batch_size), generator=generator)
    optimizer = torch.optim.SGD(module.parameters(), lr=lr, weight_decay=weight_decay)
    loss = nn.CrossEntropyLoss()
    module.train()
    start = time.perf_counter()
    for batch in batches:
        optimizer.zero_grad()
        loss(module(X[batch]), y[batch]).backward()
        optimizer.step()
    return time.perf_counter() - start


def _finetune_overhead(steps, repeats, seed, **estimator_params):
    """What ``steps`` SelMix steps add to a fit, against as many steps of a plain loop.

    The default estimator on long-tailed digits with an explicit validation
    set: ``fit`` with ``steps`` SelMix steps minus ``fit`` with none, all the
    fine-tuning's work included (pair draws, refreshes, the schedule, skorch's
    loop); the plain loop trains a copy of the same module on batches of
    2 x ``batch_size`` training samples. Both fits start from one pre-trained
    network, passed as ``net``: pre-training is the same work in both, and
    its run-to-run spread, larger than the steps' time, would otherwise enter
    their difference. Medians of ``repeats``, interleaved, so that a change of
    machine load hits all three alike. ``estimator_params`` change the
    estimator's defaults.
    """
    data = load_long_tailed_digits(random_state=seed)
    start = SelMixClassifier(**estimator_params, finetune_steps=0, random_state=seed,
                             device="cpu").fit(data.X_train, data.y_train, data.X_val, data.y_val)
    params = start.get_params()

    def fit_seconds(finetune_steps):
        clf = SelMixClassifier(**estimator_params, net=start.net_,
                               finetune_steps=finetune_steps, random_state=seed, device="cpu")
        return _seconds(partial(clf.fit, data.X_train, data.y_train, data.X_val, data.y_val))

    fit_seconds(steps)  # warm-up
    X = torch.as_tensor(data.X_train, dtype=torch.float32)
    y = torch.as_tensor(np.searchsorted(start.classes_, data.y_train))
    times = []
    for _ in range(repeats):
        without = fit_seconds(0)
        with_steps = fit_seconds(steps)
        plain = _plain_loop_seconds(copy.deepcopy(start.net_.module_), X, y, steps,
                                    2 * params["batch_size"], params["finetune_lr"],
                                    params["weight_decay"], seed)
        times.append((with_steps - without, plain))
    selmix_s, plain_s = np.median(times, axis=0)
    sampler = make_pair_sampler(X, y.numpy(), len(start.classes_), params["batch_size"],
                                params["mixup_lambda_min"], seed, "cpu")
    period = params["refresh_every"]
    draw_s = _median_seconds(lambda: list(sampler.draws(period)), repeats) / period
    return {"module": f"end to end: fit on long-tailed digits, {steps} steps",
            "batch": f"{params['batch_size']} pairs / {2 * params['batch_size']} samples",
            "plain_step_ms": 1e3 * plain_s / steps, "selmix_step_ms": 1e3 * selmix_s / steps,
            "pair_draw_ms": 1e3 * draw_s, "ratio": selmix_s / plain_s,
            # The fit's time holds its pair draws already.
            "ratio_with_draw": selmix_s / plain_s}


def run_speed(*, quick=False, seed=0, ks=GAIN_KS, measure_memory=True, step_repeats=None,
              overhead_steps=None):
    """Time the gain and the fine-tuning step, and measure peak memory.

    Runs with one torch thread, in this process, except memory
    measurements, each in a fresh process.

    Parameters
    ----------
    quick : bool, default=False
        The literal gain only up to K = 100, fewer repetitions of the step.
    seed : int, default=0
    ks : sequence of int, default=GAIN_KS
        Numbers of classes to time the gain at.
    measure_memory : bool, default=True
        Peak memory of the gain (K >= 100), of a default fit on long-tailed
        digits and of a ResNet-18 fine-tuned on images with 5 and with 25
        refreshes, each in a fresh process (a few seconds each).
    step_repeats : int, default=None
        Repetitions of each step; None: 100, or 300 without ``quick``.
    overhead_steps : int, default=None
        SelMix steps of the end-to-end row of ``"step"``: a default fit on
        long-tailed digits with that many steps minus one with none, against
        a plain PyTorch loop of as many SGD steps on 2 x batch_size samples
        through the same module (medians of 7; under a minute at 1,500
        steps). None: 1,500, or 300 with ``quick``; 0 leaves the row out.

    Returns
    -------
    results : dict
        ``"gain"``: a DataFrame with a row per implementation and K;
        ``"step"``: a row per module with the median step times (ms) and
        their ratio, then the end-to-end row of a fit (see
        ``overhead_steps``); ``"fit_memory_mib"``: peak memory of a fit, or
        None; ``"image_fit_memory"``: the ResNet-18's ``"weights_mib"`` and
        ``"peak_mib"`` by number of refreshes, or None.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_speed
    >>> results = run_speed(ks=(5, 10), measure_memory=False, step_repeats=3, overhead_steps=0)
    >>> results["gain"][["implementation", "K"]].values.tolist()
    [['closed form', 5], ['literal K^4', 5], ['closed form', 10], ['literal K^4', 10]]
    >>> results["step"]["module"].tolist()
    ['MLP 64-128-128-10', 'wide MLP 256-1024-1024-100']
    """
    with limit_threads(1):
        gain = _gain_speed(ks, literal_max_k=100 if quick else max(ks), seed=seed,
                           measure_memory=measure_memory)
        repeats = step_repeats or (100 if quick else 300)
        step = _step_speed(repeats, seed)
        if overhead_steps is None:
            overhead_steps = 300 if quick else 1500
        if overhead_steps:
            overhead = _finetune_overhead(overhead_steps, _OVERHEAD_REPEATS, seed)
            step = pd.concat([step, pd.DataFrame([overhead])], ignore_index=True)
    fit_memory = image_memory = None
    if measure_memory:
        fit_memory = _in_fresh_process(_fit_peak_rss, seed, {}) / _MiB
        peaks = {n: _in_fresh_process(_image_fit_peak_rss, seed, n) for n in _COPIES_REFRESHES}
        image_memory = {"weights_mib": peaks[_COPIES_REFRESHES[0]][1] / _MiB,
                        "peak_mib": {n: peak / _MiB for n, (peak, _) in peaks.items()}}
    return {"gain": gain, "step": step, "fit_memory_mib": fit_memory,
            "image_fit_memory": image_memory}
