"""A hyper-parameter search spread over a Dask cluster.

joblib, which :class:`~sklearn.model_selection.GridSearchCV` runs its fits
through, hands them to Dask inside ``joblib.parallel_config("dask")``: every
candidate and fold is fitted on a worker of the cluster that the
:class:`distributed.Client` is connected to. Here that cluster is a
:class:`distributed.LocalCluster` of two worker processes on this machine; for a
real cluster, connect the client to its scheduler (``Client("tcp://host:8786")``)
and nothing else changes. The workers need selmix-sk installed, and receive the
estimator and the data pickled.

The search tunes SelMix's temperature and ``finetune_lr`` for the worst
per-class recall on long-tailed digits, and the script records which worker
fitted what, from Dask's task stream.

Needs ``dask[distributed]`` (``pip install "selmix-sk[dask]"``).

Usage::

    python examples/dask_search.py [OUTPUT.csv]

About 40 seconds on two CPU cores, a third of it starting the workers.
"""

import sys
import tempfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster, get_task_stream
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from selmix_sk import SelMixClassifier
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.metrics import make_objective_scorer, min_recall_score


def main(output=None):
    data = load_long_tailed_digits(imbalance=10, random_state=0)
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    search = GridSearchCV(
        SelMixClassifier(finetune_steps=60, pretrain_epochs=20, cv=0.2, random_state=0),
        {"temperature": [0.05, 0.5], "finetune_lr": [0.01, 0.05]},
        scoring=make_objective_scorer("min_recall"),
        cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
        n_jobs=-1,
    )
    # The guard matters: the workers are new processes that import this script.
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        print(f"cluster: {client}")
        with joblib.parallel_config("dask"), get_task_stream(client) as tasks:
            search.fit(X, y)
        workers = pd.Series([task["worker"] for task in tasks.data]).value_counts()
    print(f"tasks per worker:\n{workers.to_string()}")

    results = pd.DataFrame(search.cv_results_)
    columns = ["param_temperature", "param_finetune_lr", "mean_test_score", "rank_test_score"]
    print(results[columns].to_string(index=False))
    print(f"best parameters: {search.best_params_}; test min recall of the refitted model "
          f"{min_recall_score(data.y_test, search.predict(data.X_test)):.3f}")

    if output is None:
        output = Path(tempfile.mkdtemp(prefix="selmix_")) / "dask_search.csv"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    results[columns].to_csv(output, index=False)
    print(f"results saved to {output}")
    return output


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
