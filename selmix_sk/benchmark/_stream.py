"""Streaming: does ``partial_fit`` keep the classes that its later chunks lack?

The long-tailed digits' training set arrives in chunks; the rarest classes
come in the first chunk only, as a stream's rare classes tend to: they miss
most chunks. The stream is seen several times over. One ``fit`` on all the
chunks at once, with the same settings, is the reference.
"""

import time
import warnings

import numpy as np
import pandas as pd

from .._classifier import SelMixClassifier
from .._threads import limit_threads
from ..datasets import load_long_tailed_digits
from ..metrics import mean_recall_score, min_recall_score

# The targets of the stream against one fit, and of the rare classes at its end.
STREAM_TARGETS = {"rare_recall": 0.5, "min_recall_gap": 0.05, "mean_recall_gap": 0.02}
STREAM_PARAMS = {"finetune_steps": 20}


def stream_chunks(y, n_chunks, n_rare, rng):
    """Index chunks of ``y``, the ``n_rare`` rarest classes in the first chunk only.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
    n_chunks : int
    n_rare : int
    rng : numpy.random.RandomState
        Shuffles the samples before they are cut into chunks.

    Returns
    -------
    chunks : list of ndarray
        Disjoint index arrays that cover ``y``.
    rare : ndarray
        The rare classes.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.benchmark import stream_chunks
    >>> y = np.array([0] * 8 + [1] * 6 + [2])
    >>> chunks, rare = stream_chunks(y, 3, 1, np.random.RandomState(0))
    >>> rare, [np.unique(y[c]).tolist() for c in chunks]
    (array([2]), [[0, 1, 2], [0, 1], [0, 1]])
    """
    labels, counts = np.unique(y, return_counts=True)
    rare = labels[np.argsort(counts, kind="stable")[:n_rare]]
    is_rare = np.isin(y, rare)
    chunks = np.array_split(rng.permutation(np.flatnonzero(~is_rare)), n_chunks)
    chunks[0] = np.sort(np.concatenate([chunks[0], np.flatnonzero(is_rare)]))
    return chunks, rare


def run_stream(seeds, *, memory_sizes=(0, 50), n_chunks=5, n_passes=8, n_rare=3,
               estimator_params=None, progress=None):
    """Stream the long-tailed digits through ``partial_fit`` and ``fit`` them at once.

    Parameters
    ----------
    seeds : sequence of int
        Each draws the data split, the chunks and the estimators' randomness.
    memory_sizes : sequence of int, default=(0, 50)
        Values of ``memory_size`` streamed; 0 is ``partial_fit`` without memory.
    n_chunks, n_passes, n_rare : int, default=5, 8, 3
        The stream: ``n_chunks`` chunks seen ``n_passes`` times, the
        ``n_rare`` rarest classes in the first chunk only.
    estimator_params : dict, default=None
        Settings of every estimator, streamed or fitted; None:
        ``STREAM_PARAMS``.
    progress : callable, default=None
        Called with a line of text as each seed finishes.

    Returns
    -------
    stream : pandas.DataFrame
        One row per seed and model (``"fit"``, or ``"partial_fit"`` with its
        ``memory_size``): test ``min_recall``, ``mean_recall``,
        ``rare_recall`` (the smallest recall of the rare classes) and
        ``seconds``.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_stream
    >>> stream = run_stream([0], memory_sizes=[20], n_passes=1,
    ...                     estimator_params={"finetune_steps": 2, "pretrain_epochs": 2})
    >>> stream[["model", "memory_size"]].values.tolist()
    [['fit', 50], ['partial_fit', 20]]
    """
    params = STREAM_PARAMS if estimator_params is None else estimator_params
    rows = []
    with limit_threads(1), warnings.catch_warnings():
        # The held-out parts of the rare classes are tiny by design; the runs say so often.
        warnings.simplefilter("ignore", UserWarning)
        for seed in seeds:
            data = load_long_tailed_digits(random_state=seed)
            chunks, rare = stream_chunks(data.y_train, n_chunks, n_rare,
                                         np.random.RandomState(seed))
            order = np.concatenate(chunks)

            def scores(clf, seconds, data=data, rare=rare):
                y_pred = clf.predict(data.X_test)
                recalls = [np.mean(y_pred[data.y_test == label] == label) for label in rare]
                return {"min_recall": min_recall_score(data.y_test, y_pred),
                        "mean_recall": mean_recall_score(data.y_test, y_pred),
                        "rare_recall": float(np.min(recalls)), "seconds": seconds}

            start = time.perf_counter()
            whole = SelMixClassifier(**params, random_state=seed)
            whole.fit(data.X_train[order], data.y_train[order])
            rows.append({"seed": seed, "model": "fit", "memory_size": whole.memory_size,
                         **scores(whole, time.perf_counter() - start)})
            for size in memory_sizes:
                start = time.perf_counter()
                clf = SelMixClassifier(**params, memory_size=size, random_state=seed)
                for _ in range(n_passes):
                    for chunk in chunks:
                        clf.partial_fit(data.X_train[chunk], data.y_train[chunk],
                                        classes=np.arange(len(data.class_counts)))
                rows.append({"seed": seed, "model": "partial_fit", "memory_size": size,
                             **scores(clf, time.perf_counter() - start)})
            if progress is not None:
                progress(f"stream: seed {seed} done")
    return pd.DataFrame(rows)


def stream_section(stream):
    """The report's lines on the stream: means over seeds and each target met or NOT met.

    Parameters
    ----------
    stream : pandas.DataFrame
        What :func:`run_stream` returns.

    Returns
    -------
    lines : list of str
        Markdown.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk.benchmark import stream_section
    >>> stream = pd.DataFrame({"seed": [0, 0], "model": ["fit", "partial_fit"],
    ...                        "memory_size": [20, 20], "min_recall": [0.6, 0.58],
    ...                        "mean_recall": [0.9, 0.89], "rare_recall": [0.6, 0.58],
    ...                        "seconds": [10.0, 30.0]})
    >>> print("\\n".join(stream_section(stream)[-3:]))
    - memory_size=20: rare classes' recall 0.580 >= 0.5: met
    - memory_size=20: min recall 0.020 below fit (at most 0.05): met
    - memory_size=20: mean recall 0.010 below fit (at most 0.02): met
    """
    columns = ["min_recall", "mean_recall", "rare_recall", "seconds"]
    means = stream.groupby(["model", "memory_size"], sort=False)[columns].mean()
    fit = means.loc["fit"].iloc[0]
    lines = ["## Streaming: partial_fit against one fit", "",
             f"Test recalls, means over {stream['seed'].nunique()} seed(s).", "",
             "| model | memory_size | min recall | mean recall | rare recall | seconds |",
             "|---|---|---|---|---|---|"]
    for (model, size), row in means.iterrows():
        lines.append(f"| {model} | {size} | {row.min_recall:.3f} | {row.mean_recall:.3f} | "
                     f"{row.rare_recall:.3f} | {row.seconds:.1f} |")
    lines.append("")
    for size, row in means.loc["partial_fit"].iterrows():
        rare_met = row.rare_recall >= STREAM_TARGETS["rare_recall"]
        lines.append(f"- memory_size={size}: rare classes' recall {row.rare_recall:.3f} >= "
                     f"{STREAM_TARGETS['rare_recall']}: {'met' if rare_met else 'NOT met'}")
        for name, gap in (("min", "min_recall_gap"), ("mean", "mean_recall_gap")):
            below = fit[f"{name}_recall"] - row[f"{name}_recall"]
            met = below <= STREAM_TARGETS[gap] + 1e-12
            lines.append(f"- memory_size={size}: {name} recall {below:.3f} below fit "
                         f"(at most {STREAM_TARGETS[gap]}): {'met' if met else 'NOT met'}")
    return lines
