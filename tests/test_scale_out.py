"""Searches and cross-fitting spread over Dask and Ray, and a network trained through Accelerate.

The clusters are real: a Dask ``LocalCluster`` of two worker processes and a local Ray
instance with two CPUs, each started once for the module. A search on a cluster must find
what the same search finds in this process: on CPU a seeded fit gives the same weights in
any process, so the scores agree to rounding.
"""

import os
import pickle

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from skorch import NeuralNetClassifier
from skorch.hf import AccelerateMixin

from selmix_sk import MLP, SelMixClassifier

GRID = {"finetune_lr": [0.01, 0.5], "mixup_lambda_min": [0.5, 0.9]}
CV = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)


# "pid" reports the process a candidate was fitted and scored in. A lambda, because
# cloudpickle sends a lambda by value, while a named function of this module would have to
# be importable on Ray's workers, which do not have the tests on their path.
SCORING = {"nll": "neg_log_loss", "pid": lambda estimator, X, y: os.getpid()}


@pytest.fixture(scope="module")
def data():
    """Three overlapping classes of 60, 45 and 30 samples in 4 dimensions."""
    rng = np.random.RandomState(0)
    counts = [60, 45, 30]
    centres = rng.normal(scale=1.5, size=(3, 4))
    X = np.vstack([rng.normal(c, 1.0, size=(n, 4)) for c, n in zip(centres, counts, strict=True)])
    return X.astype(np.float32), np.repeat([0, 1, 2], counts)


def _estimator(**params):
    # keep_best=False: the last weights, so that the fine-tuning parameters searched matter.
    defaults = {"pretrain_epochs": 5, "finetune_steps": 20, "refresh_every": 10, "cv": 0.25,
                "keep_best": False, "device": "cpu", "random_state": 0}
    return SelMixClassifier(**{**defaults, **params})


def _search(X, y, n_jobs):
    return GridSearchCV(_estimator(), GRID, scoring=SCORING, refit="nll", cv=CV,
                        n_jobs=n_jobs).fit(X, y)


@pytest.fixture(scope="module")
def reference(data):
    """The search and the cross-validation scores in this process, with joblib's defaults."""
    X, y = data
    return _search(X, y, n_jobs=None), cross_val_score(_estimator(), X, y, cv=CV)


def _assert_same_search(search, reference):
    expected, _ = reference
    assert search.best_params_ == expected.best_params_
    n_splits = CV.get_n_splits()
    for split in range(n_splits):
        key = f"split{split}_test_nll"
        assert_allclose(search.cv_results_[key], expected.cv_results_[key], rtol=1e-6)
    assert search.best_score_ == pytest.approx(expected.best_score_, rel=1e-6)
    # The candidates differ, so agreement is not the agreement of one repeated number.
    assert np.ptp(expected.cv_results_["mean_test_nll"]) > 1e-3


def _fit_pids(search):
    keys = [f"split{split}_test_pid" for split in range(CV.get_n_splits())]
    return {int(pid) for key in keys for pid in search.cv_results_[key]}


def test_reference_search_runs_here(reference):
    assert _fit_pids(reference[0]) == {os.getpid()}


@pytest.fixture(scope="module")
def dask_client():
    import distributed

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_search_and_cross_validation_match_the_local_ones(data, reference, dask_client):
    X, y = data
    worker_pids = set(dask_client.run(os.getpid).values())
    with joblib.parallel_config("dask"):
        search = _search(X, y, n_jobs=2)
        scores = cross_val_score(_estimator(), X, y, cv=CV, n_jobs=2)
    _assert_same_search(search, reference)
    assert_allclose(scores, reference[1], rtol=1e-6)
    assert _fit_pids(search) <= worker_pids
    assert os.getpid() not in worker_pids


def test_dask_spreads_the_cross_fitted_networks_of_one_fit(data, dask_client):
    from distributed import get_task_stream

    X, y = data
    local = _estimator(cv=2, n_jobs=None).fit(X, y)
    with joblib.parallel_config("dask"), get_task_stream(dask_client) as tasks:
        spread = _estimator(cv=2, n_jobs=2).fit(X, y)
    workers = {task["worker"] for task in tasks.data}
    assert workers and workers <= set(dask_client.scheduler_info()["workers"])
    assert_allclose(spread.predict_proba(X), local.predict_proba(X), rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def ray_backend():
    import ray
    from ray.util.joblib import register_ray

    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_search_and_cross_validation_match_the_local_ones(data, reference, ray_backend):
    X, y = data
    with joblib.parallel_config("ray"):
        search = _search(X, y, n_jobs=2)
        scores = cross_val_score(_estimator(), X, y, cv=CV, n_jobs=2)
    _assert_same_search(search, reference)
    assert_allclose(scores, reference[1], rtol=1e-6)
    assert os.getpid() not in _fit_pids(search)


class AcceleratedNet(AccelerateMixin, NeuralNetClassifier):
    """skorch's classifier, trained through an ``accelerate.Accelerator``."""


def _accelerated_net(**params):
    import accelerate

    accelerator = accelerate.Accelerator(cpu=True, **params)
    return AcceleratedNet(MLP, accelerator=accelerator, max_epochs=5, batch_size=32)


def test_accelerate_net_pretrains_fine_tunes_and_pickles(data, tmp_path):
    X, y = data
    # The estimator sets the net's device itself, so the accelerator must not place it.
    clf = _estimator(net=_accelerated_net(device_placement=False)).fit(X, y)
    assert len(clf.net_.history) == 5
    assert clf.history_["step"].iloc[-1] == 20
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (clf.predict(X) == y).mean() > 0.5

    # After training skorch unwraps what the accelerator prepared; on one CPU process
    # nothing stays wrapped, so the fitted estimator pickles.
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), proba)

    path = tmp_path / "selmix.pt"
    clf.save_params(path)
    loaded = _estimator(net=_accelerated_net(device_placement=False)).load_params(path)
    assert_allclose(loaded.predict_proba(X), proba)


def test_accelerate_net_that_places_tensors_itself(data):
    X, y = data
    # The accelerator's default: it places the tensors, so the estimator leaves the device.
    # (Its mixed precision is process-wide state; test_classifier checks autocast alone.)
    clf = _estimator(net=_accelerated_net()).fit(X, y)
    assert clf.net_.device is None
    assert clf.history_["step"].iloc[-1] == 20
    assert (clf.predict(X) == y).mean() > 0.5
