"""``run_benchmark``: the suites, their CSV files and the report in one call."""

import time
from pathlib import Path

from ._cost import run_cost
from ._data import QUALITY_DATASETS, QUICK_DATASETS
from ._quality import OBJECTIVES, run_quality
from ._report import write_report
from ._speed import run_speed

# Fit times vary little from seed to seed: the cost suite times the first few.
_COST_SEEDS = 3
# --quick checks that every part runs, at a fraction of the estimator's budget.
_QUICK_PARAMS = {"pretrain_epochs": 30, "finetune_steps": 100}

def run_benchmark(output, *, suite="all", quick=False, seeds=None, seed=0, n_jobs=2,
                  datasets=None, objectives=OBJECTIVES, estimator_params=None, command=None,
                  progress=None):
    """Run the quality and/or speed suites and write the report, CSVs and plots.

    Parameters
    ----------
    output : str or Path
        Directory, created if needed.
    suite : {"all", "quality", "speed"}, default="all"
        The quality suite includes the cost of cross-fitting
        (:func:`run_cost`) on the first three seeds.
    quick : bool, default=False
        Data sets ``QUICK_DATASETS``, 2 seeds, the first of ``objectives``
        only, 30 pre-training epochs and 100 fine-tuning steps unless
        ``estimator_params`` says otherwise, the cost of cross-fitting on the
        first data set and seed, and the quick speed suite: a check that
        every part runs, not a measurement.
    seeds : int, default=None
        Number of seeds, ``seed, seed + 1, ...``; None: 10, or 2 with ``quick``.
    seed : int, default=0
        First seed.
    n_jobs : int, default=2
        Processes of the quality suite.
    datasets : sequence of str, default=None
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``; None: all of
        ``QUALITY_DATASETS``, or ``QUICK_DATASETS`` with ``quick``.
    objectives : sequence of str, default=OBJECTIVES
    estimator_params : dict, default=None
        Passed to every estimator of the quality suite; see
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
    if suite not in ("all", "quality", "speed"):
        raise ValueError(f"suite must be 'all', 'quality' or 'speed', got {suite!r}.")
    start = time.perf_counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    n_seeds = seeds if seeds is not None else (2 if quick else 10)
    if datasets is None:
        datasets = QUICK_DATASETS if quick else tuple(QUALITY_DATASETS)
    if quick:
        objectives = list(objectives)[:1]
        estimator_params = {**_QUICK_PARAMS, **(estimator_params or {})}
    runs = speed = cost = None
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
        for name in ("gain", "step"):
            speed[name].to_csv(output / f"speed_{name}.csv", index=False)
            written.append(output / f"speed_{name}.csv")
    paths = write_report(output, command=command or "run_benchmark(...)", runs=runs,
                         speed=speed, cost=cost, elapsed=time.perf_counter() - start,
                         estimator_params=estimator_params)
    return [paths[0], *written, *paths[1:]]
