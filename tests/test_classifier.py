import pickle
import warnings
from typing import ClassVar

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from selmix_sk import MLP, SelMixClassifier
from selmix_sk.callbacks import evaluate_validation
from selmix_sk.mixup import FeatureMixer
from selmix_sk.objectives import MinRecall

# One network and one held-out share: the behaviour most tests look at. Cross-fitting, the
# default, has tests of its own in test_validation.py.
FAST = dict(finetune_steps=20, refresh_every=5, pretrain_epochs=10, cv=0.2, device="cpu",
            random_state=0)


def test_fit_predict_and_history(blobs):
    X, y = blobs
    clf = SelMixClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.n_features_in_ == 5
    assert isinstance(clf.net_, NeuralNetClassifier)  # a single split keeps one network
    assert clf.score(X, y) == pytest.approx(
        min(np.mean(clf.predict(X)[y == k] == k) for k in range(3))
    )
    history = clf.history_
    assert list(history["step"]) == [0, 5, 10, 15, 20]
    assert {"objective", "mean_recall", "min_recall", "max_gain", "recall_0", "recall_2",
            "multiplier_0", "multiplier_2"} <= set(history.columns)
    np.testing.assert_allclose(history["objective"], history["min_recall"])
    # The separable classes are learnt: not the chance level.
    assert history["min_recall"].iloc[-1] > 0.8


def test_string_labels_and_dataframe(blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    labels = np.array(["cat", "dog", "eel"], dtype=object)[y]
    clf = SelMixClassifier(**FAST).fit(frame, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert set(clf.predict(frame)) <= {"cat", "dog", "eel"}
    assert {"recall_cat", "recall_eel"} <= set(clf.history_.columns)


def test_same_seed_same_model_and_user_rng_untouched(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = SelMixClassifier(**FAST).fit(X, y).predict_proba(X)
    assert torch.rand(1) == expected_next
    second = SelMixClassifier(**FAST).fit(X, y).predict_proba(X)
    other = SelMixClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_pickle_joblib_and_clone(blobs, tmp_path):
    X, y = blobs
    clf = SelMixClassifier(**FAST).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)
    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == clf.get_params()


def test_pipeline_and_cross_validation(blobs):
    X, y = blobs
    # Enough pre-training for the start to stand on its own: the score is the min recall,
    # and with 1 or 2 held-out samples of class 2 fine-tuning is kept only on a clear lead.
    pipe = make_pipeline(StandardScaler(), SelMixClassifier(**{**FAST, "pretrain_epochs": 40}))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores.mean() > 0.7


def test_grid_search_over_mixup_and_net_parameters(blobs):
    X, y = blobs
    net = NeuralNetClassifier(MLP, max_epochs=5, lr=1e-3, optimizer=torch.optim.Adam)
    search = GridSearchCV(
        SelMixClassifier(net, **{**FAST, "pretrain_epochs": 1}),
        {"temperature": [0.05, 0.5], "mixup_lambda_min": [0.5, 0.8], "net__lr": [1e-3, 1e-2]},
        cv=2,
        n_jobs=2,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.net_.lr in (1e-3, 1e-2)
    # The user's net is a template: cloned, never trained.
    assert not getattr(net, "initialized_", False)


def test_fitted_net_is_only_finetuned_and_left_intact(blobs):
    X, y = blobs
    X = X.astype(np.float32)
    net = NeuralNetClassifier(
        MLP, module__n_features=5, module__n_classes=3, max_epochs=5, train_split=None,
        criterion=nn.CrossEntropyLoss, verbose=0,
    ).fit(X, y)
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    baseline = SelMixClassifier(net, **{**FAST, "finetune_steps": 0}).fit(X, y)
    np.testing.assert_allclose(baseline.predict_proba(X), net.predict_proba(X), rtol=1e-5)
    tuned = SelMixClassifier(net, **FAST).fit(X, y)
    assert not np.allclose(tuned.predict_proba(X), net.predict_proba(X))
    for key, value in net.module_.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_no_finetuning_gives_one_history_row(blobs):
    X, y = blobs
    clf = SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(X, y, X, y)
    assert list(clf.history_["step"]) == [0]


def test_a_tiny_internal_validation_share_is_named(blobs):
    X, y = blobs  # classes of 60, 25 and 8 samples: 12, 5 and 2 held out
    with pytest.warns(UserWarning, match=r"fewer than 3 samples of the classes \[2\]"):
        SelMixClassifier(**FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SelMixClassifier(**FAST).fit(X, y, X, y)
        SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(X, y)


def test_nothing_is_held_out_when_nothing_is_validated(blobs):
    X, y = blobs

    def log_prior(clf):  # the class shares that pre-training saw, smoothed by one
        return clf.net_.criterion_.log_prior.numpy()

    counts = np.bincount(y) + 1.0
    every_sample = np.log(counts / counts.sum())
    clf = SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(X, y)
    np.testing.assert_allclose(log_prior(clf), every_sample, rtol=1e-6)
    assert clf.history_.empty and list(clf.history_.columns)[:2] == ["step", "objective"]
    np.testing.assert_array_equal(clf.offsets_, 0.0)
    streamed = SelMixClassifier(**{**FAST, "finetune_steps": 0}).partial_fit(X, y, np.unique(y))
    np.testing.assert_allclose(log_prior(streamed), every_sample, rtol=1e-6)
    # Offsets need held-out data: tuned on a held-out part, they go with a network
    # trained on every sample, as TunedThresholdClassifierCV refits.
    tuned = SelMixClassifier(**{**FAST, "finetune_steps": 0, "tune_offsets": True}).fit(X, y)
    assert len(tuned.history_) == 1 and tuned.history_["selected"].iloc[0]
    np.testing.assert_allclose(log_prior(tuned), every_sample, rtol=1e-6)


@pytest.mark.parametrize("selection", ["uniform", "greedy"])
def test_ablation_policies_run(blobs, selection):
    X, y = blobs
    clf = SelMixClassifier(**FAST, selection=selection).fit(X, y)
    assert len(clf.history_) == 5


def test_explicit_validation_set(blobs):
    X, y = blobs
    X_val, y_val = X[1::2], y[1::2]
    clf = SelMixClassifier(**FAST, start_weight=0.0, tune_offsets=False).fit(
        X[::2], y[::2], X_val=X_val, y_val=y_val)
    # The selected refresh evaluated the kept network on the given validation set (neither
    # blended with its start nor offset, here).
    recalls = [np.mean(clf.predict(X_val)[y_val == k] == k) for k in range(3)]
    kept = clf.history_[clf.history_["selected"]]
    assert len(kept) == 1
    np.testing.assert_allclose(kept[["recall_0", "recall_1", "recall_2"]].iloc[0].astype(float),
                               recalls)
    with pytest.raises(ValueError, match="no sample of the classes"):
        SelMixClassifier(**FAST).fit(X, y, X_val=X[y < 2], y_val=y[y < 2])
    with pytest.raises(ValueError, match="not among the classes"):
        SelMixClassifier(**FAST).fit(X, y, X_val=X, y_val=y + 1)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        SelMixClassifier(**FAST).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="features"):
        SelMixClassifier(**FAST).fit(X, y, X_val=X[:, :3], y_val=y)


def test_minus_one_missing_from_y_val_points_at_unlabeled_label(blobs):
    X, y = blobs
    y = np.where(np.arange(len(y)) % 4 == 0, -1, y)
    with pytest.raises(ValueError, match=r"classes \[-1\].*pass unlabeled_label=-1"):
        SelMixClassifier(**FAST).fit(X, y, X_val=X[y >= 0], y_val=y[y >= 0])
    with pytest.raises(ValueError, match=r"classes \[2\]; SelMix needs every class of y") as error:
        SelMixClassifier(**FAST).fit(X, y, X_val=X[y != 2], y_val=y[y != 2])
    assert "unlabeled_label" not in str(error.value)


@pytest.mark.parametrize("confusion", ["soft", "hard"])
def test_the_multipliers_follow_the_chosen_confusion_matrix(blobs, confusion):
    X, y = blobs
    X, X_val, y_val = X.astype(np.float32), X[1::2].astype(np.float32), y[1::2]
    data = (X[::2], y[::2], X_val, y_val)
    clf = SelMixClassifier(**FAST, confusion=confusion).fit(*data)
    start = SelMixClassifier(**{**FAST, "finetune_steps": 0}).fit(*data).net_.module_
    # The first refresh updates the multipliers from the pre-trained network.
    steering, _ = evaluate_validation(start, FeatureMixer(start), torch.as_tensor(X_val),
                                      torch.as_tensor(y_val), 3, soft=confusion == "soft")
    expected = MinRecall()
    expected.reset()
    expected.update(steering.numpy())
    first = clf.history_.iloc[0]
    multipliers = first[["multiplier_0", "multiplier_1", "multiplier_2"]].astype(float)
    np.testing.assert_allclose(multipliers, expected.multipliers)
    # The record is the argmax one either way.
    recalls = [np.mean(start(torch.as_tensor(X_val)).argmax(1).numpy()[y_val == k] == k)
               for k in range(3)]
    np.testing.assert_allclose(first[["recall_0", "recall_1", "recall_2"]].astype(float), recalls)


def test_tiny_classes_fit(blobs):
    X, y = blobs
    keep = np.concatenate([np.flatnonzero(y < 2), np.flatnonzero(y == 2)[:1]])
    clf = SelMixClassifier(**FAST).fit(X[keep], y[keep])
    assert len(clf.classes_) == 3


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"objective": "worst"}, ValueError, "Valid names: .*min_recall"),
        ({"temperature": 0}, ValueError, "temperature"),
        ({"temperature": "hot"}, TypeError, "temperature"),
        ({"mixup_lambda_min": 1.0}, ValueError, "mixup_lambda_min"),
        ({"mixup_lambda_min": -0.1}, ValueError, "mixup_lambda_min"),
        ({"finetune_steps": -1}, ValueError, "finetune_steps"),
        ({"finetune_steps": 2.5}, TypeError, "finetune_steps"),
        ({"refresh_every": 0}, ValueError, "refresh_every"),
        ({"start_weight": 1.0}, ValueError, r"start_weight must be in \[0, 1\)"),
        ({"start_weight": None}, TypeError, "start_weight"),
        ({"finetune_refit": "yes"}, TypeError, "finetune_refit must be True or False"),
        ({"start_weight": "half"}, ValueError, 'start_weight must be "auto" or a number'),
        ({"cv": 1.0}, ValueError, "held-out share"),
        ({"cv": 1}, ValueError, "number of folds"),
        ({"cv": "kfold"}, TypeError, "cv must be"),
        ({"selection": "random"}, ValueError, "selection"),
        ({"indicator": "paper"}, ValueError, "indicator"),
        ({"confusion": "fuzzy"}, ValueError, "confusion"),
        ({"tune_offsets": "yes"}, ValueError, "tune_offsets"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"net": "resnet"}, TypeError, "skorch NeuralNet"),
        ({"n_threads": 0}, ValueError, "n_threads"),
        ({"n_threads": "all"}, TypeError, "n_threads"),
    ],
)
def test_bad_parameters_are_named(blobs, params, error, match):
    X, y = blobs
    with pytest.raises(error, match=match):
        SelMixClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_data_is_named(blobs):
    X, y = blobs
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SelMixClassifier(**FAST).fit(bad, y)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SelMixClassifier(**FAST).fit(bad, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SelMixClassifier(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="one class"):
        SelMixClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="continuous"):
        SelMixClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(NotFittedError):
        SelMixClassifier(**FAST).predict(X)
    clf = SelMixClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        clf.predict(X[:, :4])


class _ScaledOutput(nn.Module):
    """A network whose output is not its linear head's: SelMix cannot mix it."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.head = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return torch.tanh(self.head(X))


class _RecordThreads(Callback):
    """Records torch's threads at the end of every pre-training epoch, in a class attribute.

    The estimator clones its net, callbacks included: the record outlives the copies.
    """

    seen: ClassVar[list] = []

    def on_epoch_end(self, net, **kwargs):
        _RecordThreads.seen.append(torch.get_num_threads())


@pytest.mark.parametrize("n_threads, expected", [("auto", 1), (2, 2), (None, 3)])
def test_threads_follow_n_threads_and_the_callers_come_back(blobs, n_threads, expected):
    X, y = blobs
    callers = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        _RecordThreads.seen = []
        net = NeuralNetClassifier(MLP, max_epochs=2, callbacks=[("threads", _RecordThreads())])
        clf = SelMixClassifier(net, **FAST, n_threads=n_threads).fit(X, y)
        assert _RecordThreads.seen and set(_RecordThreads.seen) == {expected}
        assert torch.get_num_threads() == 3
        clf.predict(X)
        assert torch.get_num_threads() == 3
        # A fit that fails inside the limit gives the caller's threads back too.
        with pytest.raises(ValueError, match="final linear layer"):
            SelMixClassifier(NeuralNetClassifier(_ScaledOutput, max_epochs=1), **FAST,
                             n_threads=n_threads).fit(X, y)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(callers)


def test_module_must_end_in_its_linear_head(blobs):
    X, y = blobs
    net = NeuralNetClassifier(_ScaledOutput, max_epochs=1)
    with pytest.raises(ValueError, match="final linear layer 'head'"):
        SelMixClassifier(net, **FAST).fit(X, y)


class _BatchNormNet(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, 16), nn.BatchNorm1d(16), nn.ReLU())
        self.classifier = nn.Linear(16, n_classes)
        self.extra = nn.Linear(16, 16)  # registered last, never called: the head is named

    def forward(self, X):
        return self.classifier(self.body(X))


def test_named_head_and_frozen_batchnorm(blobs):
    X, y = blobs
    X = X.astype(np.float32)
    net = NeuralNetClassifier(
        _BatchNormNet, module__n_features=5, module__n_classes=3, max_epochs=3,
        train_split=None, criterion=nn.CrossEntropyLoss,
    ).fit(X, y)
    statistics = net.module_.body[1].running_mean.clone()
    clf = SelMixClassifier(net, **FAST, head="classifier", keep_best=False).fit(X, y)
    torch.testing.assert_close(clf.net_.module_.body[1].running_mean, statistics)
    with pytest.raises(ValueError, match="no submodule named 'fc'"):
        SelMixClassifier(net, **FAST, head="fc").fit(X, y)
    with pytest.raises(ValueError, match="never calls its layer 'extra'"):
        SelMixClassifier(net, **FAST, head="extra").fit(X, y)


def test_network_that_cannot_take_the_data_is_named_before_training(blobs):
    X, y = blobs
    net = NeuralNetClassifier(MLP, module__n_features=3, max_epochs=1000)
    with pytest.raises(ValueError, match=r"failed on two samples of X: .*must match"):
        SelMixClassifier(net, **FAST).fit(X, y)


def test_partial_fit_stream(blobs):
    X, y = blobs
    clf = SelMixClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    order = np.random.RandomState(0).permutation(len(X))
    chunks = np.array_split(order, 3)
    chunk_without_2 = chunks[0][y[chunks[0]] != 2]
    clf.partial_fit(X[chunk_without_2], y[chunk_without_2], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    for chunk in chunks[1:]:
        clf.partial_fit(X[chunk], y[chunk])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert np.mean(clf.predict(X) == y) > 0.8
    with pytest.raises(ValueError, match="X has 4 features"):
        clf.partial_fit(X[:, :4], y)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X, y + 5)


def test_verbose_shows_progress(blobs, capsys):
    X, y = blobs
    SelMixClassifier(**FAST, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "pre-training" in err
    assert "SelMix" in err


def test_tuned_offsets_shift_the_logits(blobs):
    X, y = blobs
    plain = SelMixClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(plain.offsets_, 0.0)
    tuned = SelMixClassifier(**FAST, tune_offsets=True).fit(X, y)
    logits = tuned.net_.forward(X.astype(np.float32)).double()
    expected = torch.softmax(logits + torch.from_numpy(tuned.offsets_), dim=1).numpy()
    np.testing.assert_allclose(tuned.predict_proba(X), expected, rtol=1e-6)


@pytest.mark.parametrize("objective", ["mean_recall_min_coverage", "constraints"])
def test_offsets_are_tuned_by_default_under_constraints(objective):
    # Overlapping classes of 60, 25 and 8 samples: the smallest is under-predicted.
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(rng.normal(scale=0.5, size=5), size=(n, 5)) for n in (60, 25, 8)])
    y = np.repeat([0, 1, 2], (60, 25, 8))
    params = {"objective": objective}
    if objective == "constraints":
        params = {"objective": "mean_recall", "constraints": {"min_coverage": 0.95}}
    auto = SelMixClassifier(**FAST, **params).fit(X, y)
    tuned = SelMixClassifier(**FAST, **params, tune_offsets=True).fit(X, y)
    plain = SelMixClassifier(**FAST, **params, tune_offsets=False).fit(X, y)
    assert np.any(tuned.offsets_ != 0.0)
    np.testing.assert_array_equal(auto.offsets_, tuned.offsets_)
    np.testing.assert_array_equal(plain.offsets_, 0.0)


def test_plain_cross_entropy_pretraining(blobs):
    X, y = blobs
    clf = SelMixClassifier(**FAST, logit_adjustment=0.0).fit(X, y)
    assert clf.net_.criterion_.tau == 0.0


def test_constraints_are_recorded_and_scored(blobs):
    X, y = blobs
    clf = SelMixClassifier(
        **FAST, objective="mean_recall", constraints={"min_recall": 0.9, "min_coverage": 0.8}
    ).fit(X, y)
    history = clf.history_
    assert {"slack_min_recall_0", "slack_min_coverage_2", "multiplier_5"} <= set(history.columns)
    last = history.iloc[-1]
    np.testing.assert_allclose(
        [last[f"slack_min_recall_{k}"] for k in range(3)],
        [last[f"recall_{k}"] - 0.9 for k in range(3)],
    )
    # score ranks models: the objective, lowered by any constraint that fails.
    predicted = clf.predict(X)
    recalls = np.array([np.mean(predicted[y == k] == k) for k in range(3)])
    assert clf.score(X, y) <= recalls.mean() + 1e-12
    with pytest.raises(ValueError, match="min_precision"):
        SelMixClassifier(**FAST, constraints={"min_precision": 0.5}).fit(X, y)


class _Payload:
    """Anything a weights-only loader must refuse to build."""


def test_save_and_load_params_without_pickle(blobs, tmp_path):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    clf = SelMixClassifier(**FAST).fit(X, labels)
    path = tmp_path / "weights.pt"
    clf.save_params(path)
    loaded = SelMixClassifier(**FAST).load_params(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    pd.testing.assert_frame_equal(loaded.history_, clf.history_)
    assert loaded.pretraining_ == clf.pretraining_ == ["supervised"] * len(clf.pretraining_)
    assert loaded.score(X, labels) == clf.score(X, labels)
    with pytest.raises(ValueError, match="do not fit"):
        SelMixClassifier(NeuralNetClassifier(MLP, module__hidden_units=(8,))).load_params(path)
    torch.save({"format": "selmix_sk.params/1", "payload": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="does not run code"):
        SelMixClassifier(**FAST).load_params(tmp_path / "evil.pt")


class _CtrlCAtUpdate(MinRecall):
    """Min recall, with Ctrl-C pressed once, at the n-th multiplier update of fine-tuning.

    Once pressed, it stays pressed in copies too: the decision layer, which updates
    copies of the objective, runs unhindered.
    """

    def __init__(self, n=4):
        super().__init__()
        self.n = n

    def reset(self, class_prior=None):
        self.updates_ = 0
        return super().reset(class_prior)

    def update(self, C):
        self.updates_ += 1
        if self.updates_ == self.n and not getattr(self, "pressed_", False):
            self.pressed_ = True
            raise KeyboardInterrupt
        return super().update(C)


def test_keyboard_interrupt_keeps_a_usable_estimator(blobs):
    X, y = blobs
    with pytest.warns(UserWarning, match="interrupted after 10 of 20 steps"):
        clf = SelMixClassifier(**{**FAST, "objective": _CtrlCAtUpdate(4)}).fit(X, y)
    assert list(clf.history_["step"]) == [0, 5, 10]
    assert clf.predict_proba(X).shape == (len(X), 3)

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    net = NeuralNetClassifier(MLP, max_epochs=10, callbacks=[Interrupt()])
    with pytest.warns(UserWarning, match="Pre-training was interrupted after 2 of 10 epochs"):
        clf = SelMixClassifier(net, **FAST).fit(X, y)
    assert list(clf.history_["step"]) == [0]
    assert clf.predict(X).shape == (len(X),)


def test_keyboard_interrupt_ends_a_cross_fitted_fit(blobs):
    # Ctrl-C in the first fold's fine-tuning: the folds to come and the network on all
    # of X do not train, and the fit keeps the interrupted fold.
    X, y = blobs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = SelMixClassifier(**{**FAST, "cv": 3, "objective": _CtrlCAtUpdate(4)}).fit(X, y)
    interrupted = [w for w in caught if "interrupted" in str(w.message)]
    assert len(interrupted) == 1
    assert len(clf.nets_) == 1
    assert list(clf.history_["step"]) == [0, 5, 10]
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_seeded_stream_is_reproducible(blobs):
    X, y = blobs
    chunks = np.array_split(np.random.RandomState(1).permutation(len(X)), 2)

    def stream():
        clf = SelMixClassifier(**FAST)
        for chunk in chunks:
            clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        return clf.predict_proba(X)

    np.testing.assert_array_equal(stream(), stream())


class _TinyCNN(nn.Module):
    """A convolutional network for 8 x 8 images, its head a linear layer."""

    def __init__(self, n_classes):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, n_classes)

    def forward(self, X):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(X))), 1))


def test_images_through_a_network_of_ones_own(digits):
    X, y = digits
    images = X.reshape(-1, 1, 8, 8) / 16.0
    net = NeuralNetClassifier(_TinyCNN, max_epochs=15, lr=1e-2, optimizer=torch.optim.Adam,
                              batch_size=128)
    clf = SelMixClassifier(net, **{**FAST, "finetune_steps": 40, "refresh_every": 20})
    clf.fit(images[::2], y[::2])
    assert clf.n_features_in_ == 1  # channels, as scikit-learn counts n-d input
    assert list(clf.history_["step"]) == [0, 20, 40]
    assert clf.predict_proba(images[1::2]).shape == (len(y[1::2]), 10)
    assert (clf.predict(images[1::2]) == y[1::2]).mean() > 0.8  # chance is 0.1
    # The default networks: an MLP for 2-D X, a SmallCNN for images; nothing for 3-D X.
    with pytest.raises(ValueError, match=r"images \(4-D X\); got samples of shape \(8, 8\)"):
        SelMixClassifier(**FAST).fit(images[::2, 0], y[::2])


class _AutocastMLP(MLP):
    """An MLP whose forward pass runs in bfloat16, as an accelerator's mixed precision does."""

    def forward(self, X):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return super().forward(X)


def test_a_network_in_mixed_precision_passes_the_head_check(blobs):
    X, y = blobs
    net = NeuralNetClassifier(_AutocastMLP, max_epochs=3, lr=1e-3, optimizer=torch.optim.Adam)
    clf = SelMixClassifier(net, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3)
