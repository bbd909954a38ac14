"""Metrics of hard predictions and the objective scorer."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from selmix_sk.metrics import (
    coverage_score,
    gmean_recall_score,
    hmean_recall_score,
    make_objective_scorer,
    mean_recall_score,
    min_head_tail_recall_score,
    min_recall_score,
)

# Recalls 3/4, 1/2 and 1; class 2 is predicted 3 times for 2 occurrences.
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2])
Y_PRED = np.array([0, 0, 0, 2, 1, 0, 2, 2])


def test_values_by_hand():
    recalls = np.array([0.75, 0.5, 1.0])
    assert mean_recall_score(Y_TRUE, Y_PRED) == pytest.approx(recalls.mean())
    assert min_recall_score(Y_TRUE, Y_PRED) == pytest.approx(0.5)
    assert hmean_recall_score(Y_TRUE, Y_PRED) == pytest.approx(3 / (1 / 0.75 + 2 + 1))
    assert gmean_recall_score(Y_TRUE, Y_PRED) == pytest.approx(0.375 ** (1 / 3))
    assert coverage_score(Y_TRUE, Y_PRED) == pytest.approx(0.5)
    np.testing.assert_allclose(coverage_score(Y_TRUE, Y_PRED, average=None), [1.0, 0.5, 1.5])


def test_min_head_tail_recall_by_hand():
    # Frequencies 4, 2, 2: head_fraction 0.5 of 3 classes rounds to 2 head classes,
    # class 0 and, on the tie, class 1.
    assert min_head_tail_recall_score(Y_TRUE, Y_PRED, head_fraction=0.5) == pytest.approx(
        min((0.75 + 0.5) / 2, 1.0)
    )
    # With the default 0.9 the head is classes 0 and 1 too (round(2.7) = 3, capped at 2).
    assert min_head_tail_recall_score(Y_TRUE, Y_PRED) == pytest.approx(0.625)
    # Weights make class 2 the most frequent: head {2, 0}, tail {1}.
    weights = np.where(Y_TRUE == 2, 5.0, 1.0)
    assert min_head_tail_recall_score(
        Y_TRUE, Y_PRED, sample_weight=weights, head_fraction=0.5
    ) == pytest.approx(0.5)


def test_min_head_tail_recall_needs_two_classes():
    with pytest.raises(ValueError, match="two classes"), pytest.warns(UserWarning, match="label"):
        min_head_tail_recall_score([1, 1], [1, 1])


@pytest.mark.parametrize("seed", range(5))
def test_agree_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, size=60)
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.integers(0, 4, size=60))
    weights = rng.random(60)
    for sample_weight in (None, weights):
        assert mean_recall_score(y_true, y_pred, sample_weight=sample_weight) == pytest.approx(
            balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight)
        )
        per_class = recall_score(y_true, y_pred, average=None, sample_weight=sample_weight)
        assert min_recall_score(y_true, y_pred, sample_weight=sample_weight) == pytest.approx(
            per_class.min()
        )
        assert hmean_recall_score(y_true, y_pred, sample_weight=sample_weight) == (
            pytest.approx(len(per_class) / np.sum(1 / per_class))
        )


def test_string_labels_and_labels_argument():
    y_true = np.array(["cat", "cat", "dog", "dog", "emu"])
    y_pred = np.array(["cat", "dog", "dog", "dog", "cat"])
    assert min_recall_score(y_true, y_pred) == 0.0
    assert min_recall_score(y_true, y_pred, labels=["cat", "dog"]) == pytest.approx(0.5)
    assert mean_recall_score(y_true, y_pred, labels=["dog", "cat"]) == pytest.approx(0.75)
    np.testing.assert_allclose(
        coverage_score(y_true, y_pred, labels=["cat", "dog", "emu"], average=None),
        [1.0, 1.5, 0.0],
    )


def test_label_absent_from_y_true():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]
    # Like recall_score(average="macro"), unlike balanced_accuracy_score.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = recall_score(y_true, y_pred, average="macro")
    assert mean_recall_score(y_true, y_pred) == pytest.approx(expected)
    assert min_recall_score(y_true, y_pred) == 0.0
    ratios = coverage_score(y_true, y_pred, average=None)
    assert np.isnan(ratios[2])
    assert coverage_score(y_true, y_pred) == pytest.approx(0.5)


def test_zero_recall_gives_tiny_means():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 0, 0, 0]
    assert min_recall_score(y_true, y_pred) == 0.0
    assert 0 < hmean_recall_score(y_true, y_pred) < 1e-5
    assert 0 < gmean_recall_score(y_true, y_pred) < 1e-2


def test_coverage_rejects_unknown_average():
    with pytest.raises(ValueError, match="average"):
        coverage_score(Y_TRUE, Y_PRED, average="macro")


def test_objective_scorer_equals_metric():
    X, y = make_classification(
        n_samples=200, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1], random_state=0
    )
    model = LogisticRegression(max_iter=1000).fit(X, y)
    y_pred = model.predict(X)
    assert make_objective_scorer("min_recall")(model, X, y) == pytest.approx(
        min_recall_score(y, y_pred)
    )
    assert make_objective_scorer("min_head_tail_recall")(model, X, y) == pytest.approx(
        min_head_tail_recall_score(y, y_pred)
    )
    assert make_objective_scorer("f1_macro")(model, X, y) == pytest.approx(
        make_objective_scorer("f1_macro")(model, X, y, sample_weight=np.full(200, 3.0))
    )


def test_objective_scorer_with_constraints_penalises_violations():
    X, y = make_classification(
        n_samples=200, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1], random_state=0
    )
    model = LogisticRegression(max_iter=1000).fit(X, y)
    unconstrained = make_objective_scorer("mean_recall")(model, X, y)
    loose = make_objective_scorer("mean_recall", constraints={"min_recall": 0.1})
    strict = make_objective_scorer("mean_recall", constraints={"min_recall": 0.99})
    assert loose(model, X, y) == pytest.approx(unconstrained)
    assert strict(model, X, y) < unconstrained - 1


def test_objective_scorer_in_grid_search():
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, weights=[0.7, 0.2, 0.1], random_state=1
    )
    search = GridSearchCV(
        LogisticRegression(max_iter=1000),
        {"class_weight": [None, "balanced"]},
        scoring=make_objective_scorer("min_recall"),
        cv=StratifiedKFold(3),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    # Reweighting the classes is what raises the worst recall on imbalanced data.
    assert search.best_params_ == {"class_weight": "balanced"}
    assert scores[1] > scores[0]


def test_objective_scorer_in_cross_val_score_matches_metric():
    X, y = make_classification(n_samples=150, n_classes=3, n_informative=4, random_state=2)
    cv = StratifiedKFold(3)
    model = LogisticRegression(max_iter=1000)
    scores = cross_val_score(model, X, y, cv=cv, scoring=make_objective_scorer("gmean"))
    expected = [
        gmean_recall_score(y[test], model.fit(X[train], y[train]).predict(X[test]))
        for train, test in cv.split(X, y)
    ]
    np.testing.assert_allclose(scores, expected)
