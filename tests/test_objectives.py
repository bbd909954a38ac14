"""Objectives: values, gradients, multipliers, scorers, constraints, degenerate matrices."""

import warnings
from functools import partial

import numpy as np
import pytest
import torch
from helpers import BUILTINS, CASES, confusion_matrices, load_reference_arrays
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    adjusted_rand_score,
    balanced_accuracy_score,
    f1_score,
    get_scorer,
    jaccard_score,
    log_loss,
    make_scorer,
    matthews_corrcoef,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
)

from selmix_sk.gain import compute_gain
from selmix_sk.objectives import (
    ConfusionObjective,
    ConstrainedObjective,
    GMeanRecall,
    HMeanRecall,
    MeanRecall,
    MeanRecallMinCoverage,
    MinHeadTailRecall,
    MinRecall,
    Objective,
    ScorerObjective,
    make_objective,
)


@pytest.fixture(scope="module")
def arrays():
    return load_reference_arrays()


def test_reference_cases_present():
    assert len(CASES) == 20
    assert {case["objective"] for case in CASES} == set(BUILTINS) - {"min_head_tail_recall"}


def _reference_objective(name):
    if name == "mean_recall_min_coverage":
        return MeanRecallMinCoverage(alpha=0.95, tau=0.1, mu_max=10.0).reset()
    return make_objective(name)


def _assert_equal_up_to_row_constants(D, expected, atol):
    difference = D - expected
    np.testing.assert_allclose(difference - difference.mean(axis=1, keepdims=True), 0.0, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=[case["key"] for case in CASES])
def test_gradient_and_multipliers_match_reference(arrays, case):
    key = case["key"]
    C = arrays[f"{key}_C"]
    objective = _reference_objective(case["objective"]).update(C)
    if objective.multipliers is not None:
        np.testing.assert_allclose(objective.multipliers, arrays[f"{key}_multipliers"], atol=1e-12)
    # The gain only sees D through E = D*C - rowsum(D*C)/pi * C, which ignores a
    # constant added to a row of D: the reference's D may differ from ours by one.
    expected = arrays[f"{key}_dpsi_dC"]
    _assert_equal_up_to_row_constants(
        objective.gradient(C), expected, atol=1e-10 * np.abs(expected).max()
    )
    G = compute_gain(
        C,
        arrays[f"{key}_Z"],
        arrays[f"{key}_W"],
        arrays[f"{key}_b"],
        objective.gradient(C),
        lambda_min=case["lambda_min"],
    )
    reference = arrays[f"{key}_G_exact"]
    np.testing.assert_allclose(G, reference, rtol=0, atol=1e-9 * np.abs(reference).max())


def _random_confusion(K, seed, zeros=0.0):
    rng = np.random.default_rng(seed)
    C = rng.random((K, K)) + np.eye(K) * rng.random(K) * 3
    C[rng.random((K, K)) < zeros] = 0.0
    return C / C.sum()


def _numeric_gradient(func, C, step=1e-6):
    D = np.empty_like(C)
    for cell in np.ndindex(C.shape):
        upper, lower = C.copy(), C.copy()
        upper[cell] += step
        lower[cell] -= step
        D[cell] = (func(upper) - func(lower)) / (2 * step)
    return D


def _recalls(C):
    return np.diag(C) / C.sum(axis=1)


def _lagrangian(objective):
    """psi(C) with the multipliers in force held fixed, written from the definitions."""
    if isinstance(objective, ConstrainedObjective):
        inner = _lagrangian(objective.objective_)
        mu = objective.multipliers

        def psi(C):
            slack = np.concatenate(list(objective.constraint_slack(C).values()))
            return (inner(C) + mu @ slack) / (mu.max() + 1)

        return psi
    if isinstance(objective, MinRecall):
        return lambda C: objective.multipliers @ _group_recalls(objective, C)
    return objective.value


def _group_recalls(objective, C):
    K = len(C)
    if isinstance(objective, MinHeadTailRecall):
        order = np.argsort(-objective.class_prior_, kind="stable")
        head = np.isin(np.arange(K), order[: round(objective.head_fraction * K)])
        groups = np.array([head, ~head], dtype=float)
    else:
        groups = np.eye(K)
    return groups @ _recalls(C) / groups.sum(axis=1)


@pytest.mark.parametrize(
    "objective",
    [
        MeanRecall(),
        MinRecall(),
        MinRecall(eta=5.0, beta=0.5),
        MinHeadTailRecall(head_fraction=0.6),
        HMeanRecall(),
        GMeanRecall(),
        MeanRecallMinCoverage(alpha=0.95, tau=0.05, mu_max=10.0),
        ConstrainedObjective("hmean", min_recall=0.6, min_coverage=0.9, tau=0.1),
        ConstrainedObjective(MinRecall(), min_recall=0.5, tau=0.2, mu_max=5.0),
    ],
    ids=repr,
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_differences(objective, seed):
    C = _random_confusion(5, seed)
    objective = make_objective(objective).reset([0.3, 0.1, 0.25, 0.2, 0.15])
    objective.update(C).update(_random_confusion(5, seed + 10))
    psi = _lagrangian(objective)
    np.testing.assert_allclose(objective.gradient(C), _numeric_gradient(psi, C), atol=1e-6)


def test_min_recall_multipliers_are_softmax_of_recalls():
    C = _random_confusion(4, 3)
    objective = MinRecall().reset().update(C)
    weights = np.exp(-50 * _recalls(C))
    np.testing.assert_allclose(objective.multipliers, weights / weights.sum())
    assert objective.value(C) == pytest.approx(_recalls(C).min())


def test_min_head_tail_groups_follow_class_prior():
    C = np.diag([0.1, 0.2, 0.3, 0.1]) + 0.075
    objective = MinHeadTailRecall(head_fraction=0.75).reset([0.1, 0.4, 0.3, 0.2])
    recalls = _recalls(C)
    tail = recalls[0]
    head = recalls[1:].mean()
    assert objective.value(C) == pytest.approx(min(head, tail))


def test_make_objective_copies_instances():
    original = MinRecall(eta=3.0)
    objective = make_objective(original)
    objective.update(_random_confusion(3, 0))
    assert objective is not original
    assert original.multipliers is None
    assert repr(objective) == "MinRecall(eta=3.0, beta=0.0)"


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_names_give_builtin_objectives(name):
    objective = make_objective(name)
    assert objective.name == name


@pytest.mark.parametrize(
    "spec",
    [
        "balanced_accuracy",
        "recall_macro",
        get_scorer("balanced_accuracy"),
        make_scorer(recall_score, average="macro"),
        balanced_accuracy_score,
    ],
    ids=repr,
)
def test_mean_recall_scorers_become_mean_recall(spec):
    assert type(make_objective(spec)) is MeanRecall


@pytest.mark.parametrize(
    "spec",
    [
        make_scorer(balanced_accuracy_score, adjusted=True),
        make_scorer(recall_score, average="macro", zero_division=1),
        make_scorer(balanced_accuracy_score, greater_is_better=False),
    ],
    ids=repr,
)
def test_variants_of_mean_recall_stay_scorers(spec):
    assert type(make_objective(spec)) is ScorerObjective


def _pseudo_data(counts):
    """Integer samples whose confusion matrix is ``counts``."""
    K = len(counts)
    y_true, y_pred = np.divmod(np.arange(K * K), K)
    return np.repeat(y_true, counts.ravel()), np.repeat(y_pred, counts.ravel())


SCORERS = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "f1_macro": partial(f1_score, average="macro", zero_division=0),
    "f1_micro": partial(f1_score, average="micro"),
    "f1_weighted": partial(f1_score, average="weighted", zero_division=0),
    "precision_macro": partial(precision_score, average="macro", zero_division=0),
    "recall_weighted": partial(recall_score, average="weighted"),
    "jaccard_macro": partial(jaccard_score, average="macro", zero_division=0),
    "matthews_corrcoef": matthews_corrcoef,
    "neg_mean_absolute_error": lambda y_true, y_pred: -mean_absolute_error(y_true, y_pred),
}


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize("seed", [0, 1])
def test_scorer_value_matches_metric_on_integer_data(name, seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 8, size=(4, 4)) + np.diag(rng.integers(1, 9, size=4))
    counts[:, 3] = 0  # class 3 is never predicted
    y_true, y_pred = _pseudo_data(counts)
    C = counts / counts.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = make_objective(name).value(C)
        scaled = make_objective(name).value(C * 7)
    assert value == pytest.approx(SCORERS[name](y_true, y_pred), abs=1e-12)
    assert scaled == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("f1", f1_score),
        ("precision", precision_score),
        ("recall", recall_score),
        ("jaccard", jaccard_score),
    ],
)
def test_binary_scorers_use_class_index_one_as_positive(name, metric):
    counts = np.array([[7, 3], [2, 5]])
    y_true, y_pred = _pseudo_data(counts)
    value = make_objective(name).value(counts / counts.sum())
    assert value == pytest.approx(metric(y_true, y_pred), abs=1e-12)


def test_metric_sees_every_class_of_an_empty_row():
    counts = np.array([[5, 1, 0], [0, 0, 0], [2, 1, 4]])
    y_true, y_pred = _pseudo_data(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = make_objective("f1_macro").value(counts / counts.sum())
        expected = f1_score(y_true, y_pred, labels=[0, 1, 2], average="macro")
    assert value == pytest.approx(expected, abs=1e-12)


def test_metric_functions_and_scorer_objects():
    C = _random_confusion(3, 4)
    expected = make_objective("f1_macro").value(C)

    def macro_f1(y_true, y_pred, sample_weight=None):
        return f1_score(y_true, y_pred, average="macro", sample_weight=sample_weight)

    for spec in (
        macro_f1,
        partial(f1_score, average="macro"),
        make_scorer(f1_score, average="macro"),
        get_scorer("f1_macro"),
    ):
        objective = make_objective(spec)
        assert type(objective) is ScorerObjective
        assert objective.value(C) == pytest.approx(expected, abs=1e-12)


def test_plain_scorer_callable():
    def my_scorer(estimator, X, y_true, sample_weight=None):
        return accuracy_score(y_true, estimator.predict(X), sample_weight=sample_weight)

    C = _random_confusion(3, 5)
    assert make_objective(my_scorer).value(C) == pytest.approx(np.trace(C))


def test_neg_scorer_keeps_sign():
    C = np.array([[0.5, 0.0, 0.0], [0.1, 0.2, 0.0], [0.0, 0.0, 0.2]])
    assert make_objective("neg_mean_absolute_error").value(C) == pytest.approx(-0.1)
    loss = make_scorer(mean_absolute_error, greater_is_better=False)
    assert make_objective(loss).value(C) == pytest.approx(-0.1)


def test_scorer_gradient_matches_analytic_accuracy():
    C = _random_confusion(4, 6, zeros=0.3)
    accuracy = np.trace(C)
    expected = np.eye(4) - accuracy
    np.testing.assert_allclose(make_objective("accuracy").gradient(C), expected, atol=1e-8)


def test_scorer_gradient_of_f1_macro_matches_torch():
    def f1_macro(C):
        precision = torch.diagonal(C) / C.sum(dim=0)
        recall = torch.diagonal(C) / C.sum(dim=1)
        return (2 * precision * recall / (precision + recall)).mean()

    C = _random_confusion(4, 7)
    expected = ConfusionObjective(f1_macro, backend="torch").gradient(C)
    np.testing.assert_allclose(make_objective("f1_macro").gradient(C), expected, atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        "roc_auc",
        "roc_auc_ovr",
        "neg_log_loss",
        "average_precision",
        "top_k_accuracy",
        "neg_brier_score",
        get_scorer("roc_auc"),
        make_scorer(log_loss, response_method="predict_proba"),
        roc_auc_score,
    ],
    ids=repr,
)
def test_scorers_of_scores_are_refused(spec):
    with pytest.raises(ValueError, match="hard predictions"):
        make_objective(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "adjusted_rand_score",
        "neg_max_error",
        adjusted_rand_score,
        lambda y_true, y_pred: float(np.mean(y_true == y_pred)),
    ],
    ids=repr,
)
def test_metrics_without_sample_weight_are_refused(spec):
    with pytest.raises(ValueError, match="sample_weight"):
        make_objective(spec)


def test_unknown_name_and_bad_type():
    with pytest.raises(ValueError, match=r"Valid names: gmean, hmean, .*get_scorer_names"):
        make_objective("worst_recall")
    with pytest.raises(TypeError, match="objective must be"):
        make_objective(3)


def _torch_gmean(C):
    recall = torch.diagonal(C) / C.sum(dim=1)
    return torch.exp(torch.log(recall).mean())


def _numpy_gmean(C):
    return float(np.exp(np.log(np.diag(C) / C.sum(axis=1)).mean()))


def test_torch_objective_gradient_matches_analytic():
    C = _random_confusion(5, 8)
    objective = make_objective(_torch_gmean)
    assert type(objective) is ConfusionObjective
    np.testing.assert_allclose(objective.gradient(C), GMeanRecall().gradient(C), atol=1e-12)
    assert objective.value(C) == pytest.approx(GMeanRecall().value(C))
    assert objective.backend_ == "torch"


def test_numpy_objective_gradient_by_central_differences():
    C = _random_confusion(5, 9)
    objective = make_objective(_numpy_gmean)
    np.testing.assert_allclose(objective.gradient(C), GMeanRecall().gradient(C), rtol=1e-5)
    assert objective.backend_ == "numpy"


def test_explicit_backends_and_invalid_backend():
    C = _random_confusion(3, 10)
    accuracy = ConfusionObjective(lambda C: C.trace() / C.sum(), backend="numpy")
    np.testing.assert_allclose(accuracy.gradient(C), np.eye(3) - np.trace(C), atol=1e-8)
    assert accuracy.backend_ == "numpy"
    with pytest.raises(ValueError, match="backend"):
        ConfusionObjective(_numpy_gmean, backend="jax").value(C)


def test_torch_objective_without_dependence_on_C_has_zero_gradient():
    objective = ConfusionObjective(lambda C: torch.tensor(0.5), backend="torch")
    np.testing.assert_array_equal(objective.gradient(np.eye(2) / 2), np.zeros((2, 2)))


def test_non_finite_user_objective_raises():
    C = np.array([[0.5, 0.0], [0.5, 0.0]])
    with pytest.raises(ValueError, match="not finite"):
        make_objective(_torch_gmean).gradient(C)
    worst_precision = ConfusionObjective(lambda C: np.min(np.diag(C) / C.sum(axis=0)))
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="not finite"):
        worst_precision.value(C)


def test_constraints_wrap_the_objective():
    objective = make_objective("hmean", constraints={"min_recall": 0.5, "min_coverage": 0.8})
    assert isinstance(objective, ConstrainedObjective)
    assert type(objective.objective_) is HMeanRecall
    assert make_objective("hmean", constraints={}).name == "hmean"


def test_constraint_slack_and_multipliers():
    C = np.array([[0.3, 0.0, 0.0], [0.2, 0.1, 0.0], [0.0, 0.1, 0.3]])
    objective = make_objective("mean_recall", constraints={"min_recall": 0.5, "min_coverage": 0.9})
    slack = objective.constraint_slack(C)
    assert list(slack) == ["min_recall", "min_coverage"]
    np.testing.assert_allclose(slack["min_recall"], [0.5, -1 / 6, 0.25])
    np.testing.assert_allclose(slack["min_coverage"], [0.5 - 0.27, 0.2 - 0.27, 0.3 - 0.36])
    objective.update(C)
    assert objective.multipliers.shape == (6,)
    expected = np.maximum(100 * (1 - np.exp(np.concatenate(list(slack.values())) / 0.01)), 0)
    np.testing.assert_allclose(objective.multipliers, expected)
    assert objective.value(C) == pytest.approx(MeanRecall().value(C))
    assert objective.reset().multipliers is None


def test_inner_multipliers_advance_with_the_constraints():
    C = _random_confusion(3, 11)
    objective = make_objective("min_recall", constraints={"min_recall": 0.2}).update(C)
    np.testing.assert_allclose(
        objective.objective_.multipliers, MinRecall().reset().update(C).multipliers
    )


def test_mean_recall_min_coverage_is_the_general_mechanism():
    C = _random_confusion(4, 12, zeros=0.4)
    special = MeanRecallMinCoverage(alpha=0.9, tau=0.05, mu_max=20.0).reset().update(C)
    general = (
        ConstrainedObjective("mean_recall", min_coverage=0.9, tau=0.05, mu_max=20.0)
        .reset()
        .update(C)
    )
    np.testing.assert_allclose(special.multipliers, general.multipliers)
    np.testing.assert_allclose(special.gradient(C), general.gradient(C))
    np.testing.assert_allclose(special.coverage_slack(C), C.sum(axis=0) - 0.9 * C.sum(axis=1))
    assert repr(special) == "MeanRecallMinCoverage(alpha=0.9, tau=0.05, mu_max=20.0)"


def test_empty_row_satisfies_constraints():
    C = np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.1, 0.0, 0.4]])
    objective = make_objective("gmean", constraints={"min_recall": 0.9, "min_coverage": 1.0})
    slack = objective.constraint_slack(C)
    assert slack["min_recall"][1] == 0.0
    assert slack["min_coverage"][1] == 0.0
    assert objective.update(C).multipliers[[1, 4]].tolist() == [0.0, 0.0]


def test_penalized_value():
    objective = make_objective("mean_recall", constraints={"min_recall": 0.5})
    feasible = np.array([[0.4, 0.1], [0.2, 0.3]])
    infeasible = np.array([[0.5, 0.0], [0.3, 0.2]])
    assert objective.penalized_value(feasible) == pytest.approx(objective.value(feasible))
    assert objective.penalized_value(infeasible) < objective.value(infeasible) - 5


@pytest.mark.parametrize(
    ("constraints", "error", "match"),
    [
        ({"max_recall": 0.5}, ValueError, "Valid constraints: min_recall, min_coverage"),
        ({"min_recall": 1.5}, ValueError, r"in \[0, 1\]"),
        ({"min_coverage": -0.1}, ValueError, r"in \[0, 1\]"),
        ({"min_recall": True}, ValueError, r"in \[0, 1\]"),
        ({"min_recall": "0.5"}, ValueError, r"in \[0, 1\]"),
        ([("min_recall", 0.5)], TypeError, "dict"),
    ],
)
def test_invalid_constraints(constraints, error, match):
    with pytest.raises(error, match=match):
        make_objective("mean_recall", constraints=constraints)


def test_invalid_threshold_given_to_the_class():
    with pytest.raises(ValueError, match="min_coverage"):
        ConstrainedObjective("mean_recall", min_coverage=2.0).reset()


DEGENERATE = {
    "never_predicted": np.array([[0.3, 0.0, 0.1], [0.2, 0.0, 0.1], [0.0, 0.0, 0.3]]),
    "zero_recall": np.array([[0.0, 0.3, 0.0], [0.0, 0.3, 0.1], [0.0, 0.0, 0.3]]),
    "empty_row": np.array([[0.4, 0.1, 0.0], [0.0, 0.0, 0.0], [0.1, 0.0, 0.4]]),
    "all_zero": np.zeros((3, 3)),
    "one_cell": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
}
DEGENERATE_SPECS = [
    *BUILTINS,
    "f1_macro",
    "matthews_corrcoef",
    "accuracy",
    "precision_macro",
    ConstrainedObjective("gmean", min_recall=0.5, min_coverage=0.9),
]


@pytest.mark.parametrize("matrix", sorted(DEGENERATE))
@pytest.mark.parametrize("spec", DEGENERATE_SPECS, ids=str)
def test_degenerate_matrices_give_finite_numbers(spec, matrix):
    C = DEGENERATE[matrix]
    objective = make_objective(spec).reset([0.5, 0.3, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        objective.update(C)
        value = objective.value(C)
        D = objective.gradient(C)
    assert np.isfinite(value)
    assert D.shape == (3, 3)
    assert np.isfinite(D).all()
    if objective.multipliers is not None:
        assert np.isfinite(objective.multipliers).all()


def test_all_zero_matrix_conventions():
    zero = np.zeros((3, 3))
    assert make_objective("mean_recall").value(zero) == 0.0
    assert make_objective("f1_macro").value(zero) == pytest.approx(1 / 3)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    C=confusion_matrices(),
    name=st.sampled_from(BUILTINS),
    constraints=st.sampled_from(
        [None, {"min_recall": 0.6}, {"min_recall": 0.3, "min_coverage": 0.95}]
    ),
)
def test_builtin_objectives_finite_on_random_degenerate_matrices(C, name, constraints):
    objective = make_objective(name, constraints).reset(np.arange(1.0, len(C) + 1))
    objective.update(C)
    assert np.isfinite(objective.value(C))
    assert np.isfinite(objective.gradient(C)).all()
    if objective.multipliers is not None:
        assert np.isfinite(objective.multipliers).all()
        assert (objective.multipliers >= 0).all()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    C=confusion_matrices(max_classes=3),
    name=st.sampled_from(["f1_macro", "matthews_corrcoef", "jaccard_weighted"]),
)
def test_scorer_objectives_finite_on_random_degenerate_matrices(C, name):
    objective = make_objective(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = objective.value(C)
        D = objective.gradient(C)
    assert np.isfinite(value)
    assert np.isfinite(D).all()


def test_objective_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        Objective().value(np.eye(2))
    with pytest.raises(NotImplementedError):
        Objective().gradient(np.eye(2))
