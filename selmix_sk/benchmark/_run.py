"""``run_benchmark``: the suites, their CSV files and the report in one call."""

import time
from pathlib import Path

from ._cost import run_cost
from ._data import QUALITY_DATASETS, QUICK_DATASETS
from ._frozen import run_frozen_cost
from ._quality import OBJECTIVES, run_quality
from ._report import write_report
from ._semi import SEMI_SETTINGS, run_semi_supervised
from ._speed import run_speed
from ._stream import run_stream
from ._user import run_user_speed

# Fit times vary little from seed to seed: the cost suite times the first few.
_COST_SEEDS = 3
# --quick checks that every part runs, at a fraction of the estimator's budget.
_QUICK_PARAMS = {"pretrain_epochs": 30, "finetune_steps": 100}
SUITES = ("all", "quality", "speed", "stream", "semi_supervised", "user_speed")
# The stream, the semi-supervised digits and the user's fits are costly: three seeds
# unless asked.
_SMALL_SUITE_SEEDS = 3


def _small_suite_seeds(seed, seeds, quick):
    """The seeds of the stream, semi-supervised and user-speed suites: ``seeds`` if given."""
    if quick:
        return range(seed, seed + 1)
    return range(seed, seed + (_SMALL_SUITE_SEEDS if seeds is None else seeds))


def run_benchmark(output, *, suite="all", quick=False, seeds=None, seed=0, n_jobs=2,
                  datasets=None, objectives=OBJECTIVES, estimator_params=None, command=None,
                  progress=None):
    """Run the quality and/or speed suites and write the report, CSVs and plots.

    Parameters
    ----------
    output : str or Path
        Directory, created if needed.
    suite : {"all", "quality", "speed", "stream", "semi_supervised", "user_speed"}, default="all"
        The quality suite includes the cost of cross-fitting
        (:func:`run_cost`) on the first three seeds; the speed suite the
        cost of a frozen backbone (:func:`run_frozen_cost`); ``"stream"`` is
        :func:`run_stream`, ``"semi_supervised"``
        :func:`run_semi_supervised` and ``"user_speed"``
        :func:`run_user_speed` on ``datasets``, on three seeds unless
        ``seeds`` says. The user-speed suite times fits with nothing else
        running: run it, as the speed suite, on a quiet machine.
    quick : bool, default=False
        Data sets ``QUICK_DATASETS``, 2 seeds, the first of ``objectives``
        only, 30 pre-training epochs and 100 fine-tuning steps unless
        ``estimator_params`` says otherwise, the cost of cross-fitting on the
        first data set and seed, the quick speed suite, and the user-speed
        suite on the first data set: a check that every part runs, not a
        measurement.
    seeds : int, default=None
        Number of seeds, ``seed, seed + 1, ...``; None: 10, or 2 with ``quick``,
        and 3 for the costlier stream, semi-supervised and user-speed suites
        (1 with ``quick``).
    seed : int, default=0
        First seed.
    n_jobs : int, default=2
        Processes of the quality and semi-supervised suites.
    datasets : sequence of str, default=None
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``; None: all of
        ``QUALITY_DATASETS``, or ``QUICK_DATASETS`` with ``quick``.
    objectives : sequence of str, default=OBJECTIVES
    estimator_params : dict, default=None
        Passed to every estimator of the quality and user-speed suites; see
        :func:`run_quality`.
    command : str, default=None
        The command line for the report's header.
    progress : callable, default=None
        Called with a line of text at each stage.

    Returns
    -------
    paths : list of Path
        Everything written, ``report.md`` first.

    Examples
    --------
    >>> import tempfile
    >>> from selmix_sk.benchmark import run_benchmark
    >>> paths = run_benchmark(tempfile.mkdtemp(), suite="quality", datasets=["wine"], seeds=1,
    ...                       objectives=["min_recall"], n_jobs=1,
    ...                       estimator_params={"pretrain_epochs": 2, "finetune_steps": 2})
    >>> sorted(p.name for p in paths)
    ['cost.csv', 'quality_min_recall.png', 'report.md', 'runs.csv']
    """
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}, got {suite!r}.")
    start = time.perf_counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    n_seeds = seeds if seeds is not None else (2 if quick else 10)
    if datasets is None:
        datasets = QUICK_DATASETS if quick else tuple(QUALITY_DATASETS)
    if quick:
        objectives = list(objectives)[:1]
        estimator_params = {**_QUICK_PARAMS, **(estimator_params or {})}
    runs = speed = cost = stream = semi = user = None
    written = []
    if suite in ("all", "quality"):
        runs = run_quality(datasets, range(seed, seed + n_seeds), objectives=objectives,
                           n_jobs=n_jobs, estimator_params=estimator_params, progress=progress)
        runs.to_csv(output / "runs.csv", index=False)
        cost_seeds = range(seed, seed + (1 if quick else min(_COST_SEEDS, n_seeds)))
        cost = run_cost(datasets[:1] if quick else datasets, cost_seeds,
                        estimator_params=estimator_params, progress=progress)
        cost.to_csv(output / "cost.csv", index=False)
        written += [output / "runs.csv", output / "cost.csv"]
    if suite in ("all", "speed"):
        if progress is not None:
            progress("speed: gain, training step and fit memory")
        speed = run_speed(quick=quick, seed=seed)
        speed["frozen"] = run_frozen_cost(
            seed=seed, **({"n_images": 64, "full_steps": 1, "frozen_steps": 20} if quick else {}))
        for name in ("gain", "step"):
            speed[name].to_csv(output / f"speed_{name}.csv", index=False)
            written.append(output / f"speed_{name}.csv")
    small_seeds = _small_suite_seeds(seed, seeds, quick)
    if suite in ("all", "stream"):
        stream = run_stream(small_seeds, **({"n_passes": 2} if quick else {}))
        stream.to_csv(output / "stream.csv", index=False)
        written.append(output / "stream.csv")
    if suite in ("all", "semi_supervised"):
        semi = run_semi_supervised(
            small_seeds, settings=SEMI_SETTINGS[:1] if quick else SEMI_SETTINGS,
            estimator_params={"pretrain_epochs": 10, "finetune_steps": 20} if quick else None,
            n_jobs=n_jobs, progress=progress)
        semi.to_csv(output / "semi_supervised.csv", index=False)
        written.append(output / "semi_supervised.csv")
    if suite in ("all", "user_speed"):
        user = run_user_speed(datasets[:1] if quick else datasets, small_seeds,
                              estimator_params=estimator_params, progress=progress)
        user.to_csv(output / "user_speed.csv", index=False)
        written.append(output / "user_speed.csv")
    paths = write_report(output, command=command or "run_benchmark(...)", runs=runs,
                         speed=speed, cost=cost, stream=stream, semi_supervised=semi,
                         user_speed=user,
                         elapsed=time.perf_counter() - start,
                         estimator_params=estimator_params)
    return [paths[0], *written, *paths[1:]]
