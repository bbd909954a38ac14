"""Where the held-out signal comes from: splits, cross-fitting and the kept refresh."""

import re

import numpy as np
import pytest
import torch
from pandas import testing as pd_testing
from sklearn.model_selection import KFold, StratifiedKFold

from selmix_sk import SelMixClassifier, _classifier, _members
from selmix_sk._choice import RefreshChoice, choose_refresh, select_refresh
from selmix_sk._members import train_network
from selmix_sk._record import pooled_confusions
from selmix_sk._validation import _holdout_split, check_splits
from selmix_sk.datasets import make_long_tailed
from selmix_sk.objectives import make_objective

FAST = dict(finetune_steps=20, refresh_every=5, pretrain_epochs=10, device="cpu", random_state=0)


def test_holdout_split_survives_tiny_classes():
    y = np.repeat([0, 1, 2, 3], [1, 2, 3, 50])
    train, valid = _holdout_split(y, 0.2, np.random.RandomState(0))
    for label, n_train, n_valid in [(0, 1, 1), (1, 1, 1), (2, 2, 1), (3, 40, 10)]:
        assert np.sum(y[train] == label) == n_train
        assert np.sum(y[valid] == label) == n_valid
    # Only the single sample is shared.
    np.testing.assert_array_equal(np.intersect1d(train, valid), np.flatnonzero(y == 0))


def test_folds_give_every_class_both_sides():
    y = np.repeat([0, 1, 2, 3], [1, 2, 7, 50])
    splits = check_splits(5, y, np.random.RandomState(0))
    assert len(splits) == 5
    held_out = np.concatenate([part for _, part in splits])
    # Every sample is held out at least once; only tiny classes' samples more than once.
    assert set(held_out) == set(range(len(y)))
    counts = np.bincount(held_out, minlength=len(y))
    assert set(np.flatnonzero(counts > 1)) <= set(np.flatnonzero(y < 2))
    for train, part in splits:
        assert set(y[train]) == set(y[part]) == {0, 1, 2, 3}
        shared = np.intersect1d(train, part)
        assert set(y[shared]) <= {0, 1}
        # The large classes are split 4 : 1, as stratified folds do.
        assert np.sum(y[part] == 3) == 10


def test_splitters_and_index_pairs_are_used_as_given():
    y = np.tile([0, 1], 10)
    rng = np.random.RandomState(0)
    given = list(StratifiedKFold(4).split(np.zeros(20), y))
    for cv in (StratifiedKFold(4), given):
        splits = check_splits(cv, y, rng)
        for (train, part), (expected_train, expected_part) in zip(splits, given, strict=True):
            np.testing.assert_array_equal(train, expected_train)
            np.testing.assert_array_equal(part, expected_part)
    # An unstratified splitter can leave a class out of a held-out part: a sample serves both.
    y = np.repeat([0, 1], [18, 2])
    for train, part in check_splits(KFold(5), y, rng):
        assert set(y[part]) == {0, 1} and set(y[train]) == {0, 1}


@pytest.mark.parametrize(
    ("cv", "error", "match"),
    [
        (1.0, ValueError, r"held-out share of every class, in \(0, 1\)"),
        (1, ValueError, "number of folds, at least 2"),
        ("5", TypeError, "cv must be an int"),
        (None, TypeError, "cv must be an int"),
        ([], ValueError, "no split"),
        ([(np.arange(5), np.arange(0))], ValueError, "empty"),
        ([(np.arange(5), np.array([30]))], ValueError, r"outside 0 \.\. 19"),
        ([(1, 2, 3)], ValueError, "not a \\(train, test\\) pair"),
    ],
)
def test_bad_cv_is_named(cv, error, match):
    with pytest.raises(error, match=match):
        check_splits(cv, np.tile([0, 1], 10), np.random.RandomState(0))


def test_pooled_confusions_count_every_held_out_sample():
    labels = [np.array([0, 1, 1]), np.array([0, 1])]
    logits = [
        [torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), torch.zeros(3, 2)],
        [torch.tensor([[0.0, 1.0], [0.0, 1.0]]), torch.zeros(2, 2)],
    ]
    counted, soft = pooled_confusions(labels, logits, 2)
    assert counted.shape == soft.shape == (2, 2, 2)
    np.testing.assert_allclose(counted[0] * 5, [[1, 1], [1, 2]])
    np.testing.assert_allclose(soft[1] * 5, [[1, 1], [1.5, 1.5]])


def test_select_refresh_ranks_by_the_score_then_the_soft_value():
    objective = make_objective("min_recall")
    start = np.array([[0.4, 0.1], [0.2, 0.3]])  # recalls 0.8, 0.6
    worse = np.array([[0.5, 0.0], [0.4, 0.1]])  # 1.0, 0.2
    same = start.copy()
    soft_start = np.array([[0.35, 0.15], [0.2, 0.3]])
    soft_better = np.array([[0.4, 0.1], [0.15, 0.35]])
    counted = np.stack([start, worse, same])
    assert select_refresh(objective, counted, np.stack([soft_start, worse, soft_better])) == 2
    assert select_refresh(objective, counted, np.stack([soft_better, worse, soft_start])) == 0
    # A tie on the counts is no lead: with a lead asked for, the start stays.
    assert select_refresh(objective, counted, np.stack([soft_start, worse, soft_better]),
                          min_lead=0.1) == 0


def test_select_refresh_needs_a_resolved_lead_and_may_trade_mean_recall():
    objective = make_objective("min_recall")
    start = np.array([[0.45, 0.05], [0.3, 0.2]])  # recalls 0.9, 0.4: min 0.4, mean 0.65
    one_more = np.array([[0.45, 0.05], [0.25, 0.25]])  # 0.9, 0.5: one sample in 10 more
    traded = np.array([[0.3, 0.2], [0.2, 0.3]])  # 0.6, 0.6: min up, mean down 0.05
    counted = np.stack([start, one_more, traded])
    assert select_refresh(objective, counted, counted) == 2
    assert select_refresh(objective, counted, counted, min_lead=1 / 10) == 2
    assert select_refresh(objective, counted, counted, min_lead=0.21) == 0
    assert select_refresh(objective, counted[:2], counted[:2], min_lead=1 / 10) == 1
    assert select_refresh(objective, counted[:2], counted[:2], min_lead=0.11) == 0


def _whole_record_rule(objective, counted, soft, min_lead):
    """The rule as stated, on the whole record: the first best refresh, if it leads enough."""
    keys = [(objective.score(C), objective.value(S)) for C, S in zip(counted, soft, strict=True)]
    best = max(range(len(keys)), key=lambda i: keys[i])
    return best if keys[best][0] >= keys[0][0] + min_lead - 1e-12 else 0


@pytest.mark.parametrize("objective", ["min_recall", "hmean", "mean_recall_min_coverage"])
def test_refresh_choice_as_it_goes_keeps_what_the_whole_record_selects(objective):
    objective = make_objective(objective)
    rng = np.random.default_rng(0)
    kept = []
    for trial in range(200):
        # 4 held-out samples a class, the misses going to the next class: ties on the score
        # are common, as on real records.
        correct = rng.integers(0, 5, size=(int(rng.integers(1, 8)), 3))
        counted = np.zeros((len(correct), 3, 3))
        for k in range(3):
            counted[:, k, k], counted[:, k, (k + 1) % 3] = correct[:, k], 4 - correct[:, k]
        counted /= 12.0
        soft = 0.5 * counted + 0.5 * rng.dirichlet(np.ones(3), size=counted.shape[:2]) / 3
        if trial % 4 == 0:  # full ties too: the earlier refresh wins them
            soft = counted
        rule = {"min_lead": [0.0, 0.25][trial % 2]}
        choice = RefreshChoice(objective, **rule)
        candidates = [choice.offer(C, S) for C, S in zip(counted, soft, strict=True)]
        kept.append(choice.kept)
        assert kept[-1] == _whole_record_rule(objective, counted, soft, **rule)
        # The kept refresh was a candidate when it came, and the last candidate is the best.
        assert candidates[0] and candidates[kept[-1]]
        assert choice.candidate == max(i for i, new in enumerate(candidates) if new)
    assert 0 < np.mean(np.array(kept) > 0) < 1


def test_refresh_choice_without_keep_best_keeps_the_latest():
    choice = RefreshChoice(make_objective("min_recall"), min_lead=1.0, keep_best=False)
    worse = np.array([[0.5, 0.0], [0.5, 0.0]])
    assert all(choice.offer(C, C) for C in [np.eye(2) / 2, worse, worse])
    assert choice.kept == 2
    with pytest.raises(ValueError, match="No refresh was offered"):
        RefreshChoice(make_objective("min_recall")).kept  # noqa: B018


def test_cross_fitting_averages_one_network_per_fold(blobs):
    X, y = blobs
    clf = SelMixClassifier(**FAST, cv=3, start_weight=0.0).fit(X, y)
    assert len(clf.nets_) == 3
    with pytest.raises(AttributeError, match="predicts with 3 networks; see nets_"):
        clf.net_  # noqa: B018
    probabilities = [torch.softmax(net.forward(X.astype(np.float32)).double(), 1).numpy()
                     for net in clf.nets_]
    np.testing.assert_allclose(clf.predict_proba(X), np.mean(probabilities, axis=0), rtol=1e-10)
    history = clf.history_
    assert list(history["step"]) == [0, 5, 10, 15, 20]
    assert history["selected"].sum() == 1
    # The kept refresh is the best on the pooled held-out record; the start is a candidate.
    kept = history.loc[history["selected"], "objective"].iloc[0]
    assert kept == history["objective"].max()
    # Every sample was held out once: the pooled recall of class 2 counts its 8 samples.
    assert set(np.round(history["recall_2"] * 8, 9)) <= set(range(9))


def test_the_start_is_kept_when_fine_tuning_only_harms(blobs):
    X, y = blobs
    data = (X[::2], y[::2], X[1::2], y[1::2])
    params = {**FAST, "pretrain_epochs": 30}
    start = SelMixClassifier(**{**params, "finetune_steps": 0}).fit(*data)
    harmful = {**params, "finetune_lr": 3.0, "backbone_lr_factor": 1.0}
    wrecked = SelMixClassifier(**harmful).fit(*data)
    assert list(wrecked.history_["objective"]) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert list(wrecked.history_["selected"]) == [True, False, False, False, False]
    np.testing.assert_allclose(wrecked.predict_proba(X), start.predict_proba(X), rtol=1e-6)
    last = SelMixClassifier(**harmful, keep_best=False).fit(*data)
    assert last.history_["selected"].iloc[-1]
    assert not np.allclose(last.predict_proba(X), start.predict_proba(X))


def test_cross_fitting_that_keeps_the_start_refits_one_network_on_all_the_data(blobs):
    X, y = blobs
    harmful = {**FAST, "cv": 3, "finetune_lr": 3.0, "backbone_lr_factor": 1.0}
    clf = SelMixClassifier(**harmful).fit(X, y)
    assert clf.history_["selected"].iloc[0] and len(clf.history_) == 5
    # Not the three fold networks at their start: one network, trained on every sample.
    assert len(clf.nets_) == 1
    counts = np.bincount(y) + 1.0
    np.testing.assert_allclose(clf.net_.criterion_.log_prior.numpy(),
                               np.log(counts / counts.sum()), rtol=1e-6)
    # The very network that finetune_steps=0 trains with the same random_state (the
    # decision layer, which may add offsets to it, aside).
    start = SelMixClassifier(**{**harmful, "finetune_steps": 0}).fit(X, y)
    np.testing.assert_array_equal(_probabilities(clf.net_, X), _probabilities(start.net_, X))
    plain = SelMixClassifier(**harmful, tune_offsets=False).fit(X, y)
    np.testing.assert_array_equal(plain.predict_proba(X), start.predict_proba(X))
    # Where fine-tuning is kept, the fold networks stay, after that network.
    kept_last = SelMixClassifier(**harmful, keep_best=False).fit(X, y)
    assert len(kept_last.nets_) == 4


def test_finetune_refit_replays_the_folds_pair_distributions(blobs):
    # Uniform selection steers every fold alike, so the mean schedule is uniform: the
    # network on all of X is the network of finetune_steps=0 fine-tuned on it, as many
    # refresh periods as the refresh kept (the last, without keep_best), drawing with the
    # seed that trained it.
    X, y = blobs
    params = {**FAST, "cv": 3, "keep_best": False, "selection": "uniform"}
    clf = SelMixClassifier(**params, finetune_refit=True).fit(X, y)
    np.testing.assert_allclose(clf.net_weights_, [0.5, 1 / 6, 1 / 6, 1 / 6])
    start = SelMixClassifier(**{**params, "finetune_steps": 0}).fit(X, y)
    settings = _members.TrainingSettings.of(clf, clf.classes_, "cpu")
    seed = np.random.RandomState(FAST["random_state"]).randint(_classifier._MAX_SEED)
    uniform, X = torch.ones(3, 3, dtype=torch.float64), X.astype(np.float32)
    _members.finetune_on_schedule(settings, start.net_, X, y, seed, [uniform] * 4)
    np.testing.assert_array_equal(_probabilities(clf.nets_[0], X), _probabilities(start.net_, X))
    # A period less is another network.
    once_less = SelMixClassifier(**{**params, "finetune_steps": 0}).fit(X, y)
    _members.finetune_on_schedule(settings, once_less.net_, X, y, seed, [uniform] * 3)
    assert not np.array_equal(_probabilities(once_less.net_, X), _probabilities(start.net_, X))


def _probabilities(net, X):
    return torch.softmax(net.forward(X.astype(np.float32)).double(), 1).numpy()


def test_cross_fitted_networks_are_blended_with_the_network_trained_on_all_the_data(blobs):
    X, y = blobs
    params = {**FAST, "cv": 3, "keep_best": False}
    clf = SelMixClassifier(**params, start_weight=0.4).fit(X, y)
    np.testing.assert_allclose(clf.net_weights_, [0.4, 0.2, 0.2, 0.2])
    # First the very network of finetune_steps=0, then the fine-tuned fold networks.
    start = SelMixClassifier(**{**params, "finetune_steps": 0}).fit(X, y)
    np.testing.assert_allclose(_probabilities(clf.nets_[0], X), start.predict_proba(X), rtol=1e-12)
    alone = SelMixClassifier(**params, start_weight=0.0).fit(X, y)
    for blended, fine_tuned in zip(clf.nets_[1:], alone.nets_, strict=True):
        np.testing.assert_allclose(_probabilities(blended, X), _probabilities(fine_tuned, X))
    expected = 0.4 * start.predict_proba(X) + 0.6 * alone.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)
    # "auto": the fold networks, trained on part of X, share half with the one on all of it.
    auto = SelMixClassifier(**params).fit(X, y)
    np.testing.assert_allclose(auto.net_weights_, [0.5, 1 / 6, 1 / 6, 1 / 6])


@pytest.mark.parametrize("held_out", ["validation set", "single split"])
def test_a_single_fine_tuned_network_moves_back_towards_its_start(blobs, held_out):
    X, y = blobs
    data = (X[::2], y[::2], X[1::2], y[1::2]) if held_out == "validation set" else (X, y)
    params = {**FAST, "keep_best": False, "cv": 0.25}
    weights = {}
    for start_weight in (0.0, 0.25, 1 - 1e-9, "auto"):
        clf = SelMixClassifier(**params, start_weight=start_weight).fit(*data)
        assert clf.net_weights_.tolist() == [1.0]
        weights[start_weight] = clf.net_.module_.head.weight.detach()
    assert not torch.allclose(weights[0.0], weights[1 - 1e-9])
    torch.testing.assert_close(weights[0.25], 0.75 * weights[0.0] + 0.25 * weights[1 - 1e-9])
    # "auto" for a single network: 0.3.
    torch.testing.assert_close(weights["auto"], 0.7 * weights[0.0] + 0.3 * weights[1 - 1e-9])
    if held_out == "validation set":  # its start is the model of finetune_steps=0
        start = SelMixClassifier(**{**params, "finetune_steps": 0}).fit(*data)
        torch.testing.assert_close(weights[1 - 1e-9], start.net_.module_.head.weight)


def test_offsets_of_a_blended_network_are_tuned_on_what_it_predicts(blobs):
    from selmix_sk._offsets import tune_offsets

    X, y = blobs
    X_val, y_val = X[1::2], y[1::2]
    clf = SelMixClassifier(**FAST, keep_best=False, tune_offsets=True).fit(
        X[::2], y[::2], X_val, y_val)
    logits = clf.net_.forward(X_val.astype(np.float32)).double()
    expected = tune_offsets(torch.log_softmax(logits, 1).numpy(), y_val, clf.objective_)
    np.testing.assert_array_equal(clf.offsets_, expected)
    assert clf.decision_layer_["applied"] and clf.decision_layer_["reason"] == "tune_offsets=True."


def _long_tailed_digits(digits, seed):
    """Long-tailed digits with 5 validation images a class, and a quick fit's settings."""
    X, y = digits
    data = make_long_tailed(X / 16.0, y, n_max=40, imbalance=10, n_val_per_class=5,
                            n_test_per_class=5, random_state=seed)
    return data, dict(finetune_steps=30, refresh_every=10, pretrain_epochs=30, device="cpu",
                      random_state=seed)


@pytest.mark.parametrize("seed, n_nets", [(0, 4), (2, 1)])
def test_a_model_holding_the_network_on_all_of_x_gets_half_the_offsets(digits, seed, n_nets):
    # Blended with the fold networks (seed 0) or alone, the start kept (seed 2): the
    # folds' held-out predictions tune the offsets either way, and "auto" halves them.
    data, params = _long_tailed_digits(digits, seed)
    params["cv"] = 3
    auto = SelMixClassifier(**params).fit(data.X_train, data.y_train)
    whole = SelMixClassifier(**params, tune_offsets=True).fit(data.X_train, data.y_train)
    assert len(auto.nets_) == n_nets and (auto.kept_refresh_ == 0) == (n_nets == 1)
    assert auto.decision_layer_["applied"]
    assert auto.decision_layer_["reason"].startswith("Applied at half strength: the model holds")
    assert auto.decision_layer_["score_with"] >= auto.decision_layer_["score_without"]
    assert np.abs(whole.offsets_).max() > 0.5
    np.testing.assert_allclose(auto.offsets_, 0.5 * whole.offsets_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("how", ["last weights", "stream"])
def test_offsets_are_tuned_whichever_refresh_rule_keeps_the_weights(blobs, how):
    X, y = blobs
    params = {**FAST, "cv": 3, "tune_offsets": True}
    if how == "last weights":
        clf = SelMixClassifier(**params, keep_best=False).fit(X, y)
    else:
        clf = SelMixClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    assert clf.offsets_.shape == (3,) and np.isfinite(clf.offsets_).all()
    assert clf.history_["selected"].sum() == 1


def test_diverging_fine_tuning_stops_and_keeps_finite_weights(blobs):
    X, y = blobs
    data = (X[::2], y[::2], X[1::2], y[1::2])
    with pytest.warns(UserWarning, match=r"diverged .* at step \d+ of 20") as caught:
        clf = SelMixClassifier(**FAST, finetune_lr=1e3, backbone_lr_factor=1.0,
                               keep_best=False).fit(*data)
    diverged_at = int(re.search(r"at step (\d+)", str(caught[0].message)).group(1))
    # The record ends at the refresh before the one whose logits were not finite.
    assert list(clf.history_["step"]) == list(range(0, diverged_at, 5))
    assert np.isfinite(clf.predict_proba(X)).all()


def test_folds_in_parallel_give_the_same_model(blobs):
    X, y = blobs
    serial = SelMixClassifier(**FAST, cv=2).fit(X, y)
    parallel = SelMixClassifier(**FAST, cv=2, n_jobs=2).fit(X, y)
    assert parallel.history_["selected"].tolist() == serial.history_["selected"].tolist()
    np.testing.assert_allclose(parallel.predict_proba(X), serial.predict_proba(X),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_networks_from_workers_take_the_kept_refresh(blobs, seed):
    # A network back from a joblib worker is a copy: the kept refresh must be loaded
    # into that copy, not into the module that trained in the worker.
    X, y = blobs
    params = {**FAST, "cv": 2, "random_state": seed, "start_weight": 0.0}
    serial = SelMixClassifier(**params).fit(X, y)
    parallel = SelMixClassifier(**params, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(parallel.predict_proba(X), serial.predict_proba(X),
                               rtol=1e-6, atol=1e-9)


def test_cross_fitted_params_save_and_load(blobs, tmp_path):
    X, y = blobs
    clf = SelMixClassifier(**FAST, cv=2, keep_best=False).fit(X, y)
    clf.save_params(tmp_path / "weights.pt")
    loaded = SelMixClassifier(**FAST, cv=2).load_params(tmp_path / "weights.pt")
    assert len(loaded.nets_) == 3
    np.testing.assert_array_equal(loaded.net_weights_, [0.5, 0.25, 0.25])
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_partial_fit_after_cross_fitting_trains_every_network(blobs):
    X, y = blobs
    clf = SelMixClassifier(**FAST, cv=2, keep_best=False).fit(X, y)
    before = [net.module_.head.weight.detach().clone() for net in clf.nets_]
    clf.partial_fit(X, y)
    # The network trained on all the data too; a stream does not blend.
    assert len(clf.nets_) == 3
    np.testing.assert_allclose(clf.net_weights_, np.full(3, 1 / 3))
    for net, weight in zip(clf.nets_, before, strict=True):
        assert not torch.equal(net.module_.head.weight, weight)


@pytest.fixture
def kept_snapshots(monkeypatch):
    """The refreshes whose weights every network kept, at each choice of a refresh."""
    recorded = []

    def recording(networks, *args, **kwargs):
        recorded.append([sorted(network.snapshots or {}) for network in networks])
        return choose_refresh(networks, *args, **kwargs)

    monkeypatch.setattr(_classifier, "choose_refresh", recording)
    return recorded


def _keeping_every_snapshot(*args, rule=None, **kwargs):
    """A network trained as one of several: it keeps every refresh's weights."""
    return train_network(*args, **kwargs)


@pytest.fixture(scope="module")
def tail_digits(digits):
    """Digits with three small classes, and a validation set of the rest."""
    X, y = digits
    train = np.concatenate([np.flatnonzero(y == k)[: 12 if k < 3 else 60] for k in range(10)])
    val = np.setdiff1d(np.arange(len(y)), train)[::6]
    return X[train] / 16, y[train], X[val] / 16, y[val]


def test_a_network_fine_tuned_alone_keeps_two_copies_of_its_weights(tail_digits, kept_snapshots,
                                                                     monkeypatch):
    params = dict(FAST, finetune_steps=60, pretrain_epochs=10)
    alone = SelMixClassifier(**params).fit(*tail_digits)
    kept = alone.kept_refresh_
    assert kept > 0 and alone.history_["selected"].iloc[kept]
    assert kept_snapshots[-1] == [[0, kept]]
    with monkeypatch.context() as patched:
        patched.setattr(_members, "train_network", _keeping_every_snapshot)
        every = SelMixClassifier(**params).fit(*tail_digits)
    assert kept_snapshots[-1] == [list(range(13))]
    # The same refresh kept, the same model.
    pd_testing.assert_frame_equal(alone.history_, every.history_)
    np.testing.assert_array_equal(alone.predict_proba(tail_digits[2]),
                                  every.predict_proba(tail_digits[2]))
    # A stream's network alone too; cross-fitted networks keep every refresh until they choose.
    SelMixClassifier(**params).partial_fit(*tail_digits[:2], classes=np.arange(10))
    assert len(kept_snapshots[-1]) == 1 and len(kept_snapshots[-1][0]) <= 2
    SelMixClassifier(**FAST, cv=3).fit(*tail_digits[:2])
    assert kept_snapshots[-1] == [list(range(5))] * 3


def test_a_validation_set_keeps_its_best_refresh_without_a_lead(digits):
    # Every refresh ties the start on the validation set's argmax counts (5 images a
    # class, so a lead of a sample is 0.2): the best by mean probabilities is kept, where
    # a part that cv holds out of X asks a refresh for a lead of a sample.
    data, params = _long_tailed_digits(digits, 1)
    clf = SelMixClassifier(**params).fit(data.X_train, data.y_train, data.X_val, data.y_val)
    scores = clf.history_["objective"].to_numpy()
    assert clf.kept_refresh_ > 0 and np.all(scores == scores[0])
    # A fifth of X held out: the best refresh beats the start by less than the lead (its
    # smallest class has one held-out sample), and the start is kept.
    split = SelMixClassifier(**params, cv=0.2).fit(data.X_train, data.y_train)
    scores = split.history_["objective"].to_numpy()
    assert split.held_out_counts_.min() == 1
    assert scores[0] < scores.max() < scores[0] + 1 and split.kept_refresh_ == 0
