import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from selmix_sk._checks import tunes_offsets
from selmix_sk._confusion import confusion_from_predictions
from selmix_sk._offsets import decide_offsets, tune_offsets
from selmix_sk.objectives import ConstrainedObjective, make_objective


def _score(objective, logits, y, offsets):
    C = confusion_from_predictions(y, (logits + offsets).argmax(axis=1), logits.shape[1])
    return make_objective(objective).score(C)


def _noisy_logits(n_per_class, n_classes, *, margin=2.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    return margin * np.eye(n_classes)[y] + rng.normal(size=(len(y), n_classes)), y


def test_confusion_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, size=(2, 500))
    weights = rng.random(500)
    expected = confusion_matrix(y_true, y_pred, labels=range(4), sample_weight=weights,
                                normalize="all")
    np.testing.assert_allclose(
        confusion_from_predictions(y_true, y_pred, 4, sample_weight=weights), expected
    )


def test_confusion_of_nothing_is_zero():
    np.testing.assert_array_equal(
        confusion_from_predictions(np.array([], int), np.array([], int), 3), np.zeros((3, 3))
    )


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, message",
    [
        ([0, 1], [0, 3], {}, r"0 \.\. 2"),
        ([0, 1], [0], {}, "shape"),
        ([0.0, 1.0], [0, 1], {}, "integer"),
        ([0, 1], [0, 1], dict(sample_weight=[1.0]), "sample_weight"),
    ],
)
def test_confusion_rejects_bad_input(y_true, y_pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        confusion_from_predictions(y_true, y_pred, 3, **kwargs)


def test_offsets_undo_a_constant_bias():
    logits, y = _noisy_logits(1500, 4)
    biased = logits.copy()
    biased[:, 1] -= 2.5
    offsets = tune_offsets(biased, y, make_objective("min_recall"))
    others = np.delete(offsets, 1)
    assert offsets[1] - others.mean() == pytest.approx(2.5, abs=0.5)
    assert _score("min_recall", biased, y, 0) < 0.3
    assert _score("min_recall", biased, y, offsets) >= _score("min_recall", logits, y, 0) - 0.02


def test_offsets_are_zero_when_nothing_beats_them():
    y = np.repeat(np.arange(4), 25)
    logits = 3.0 * np.eye(4)[y]
    np.testing.assert_array_equal(tune_offsets(logits, y, "min_recall"), np.zeros(4))


@pytest.mark.parametrize("objective", ["min_recall", "hmean", "gmean", "mean_recall",
                                       "mean_recall_min_coverage", "min_head_tail_recall"])
def test_offsets_never_lower_the_objective_they_are_tuned_on(objective):
    for seed in range(4):
        logits, y = _noisy_logits(60, 6, margin=1.0, seed=seed)
        logits += np.random.default_rng(seed).normal(scale=1.5, size=6)
        offsets = tune_offsets(logits, y, objective)
        assert _score(objective, logits, y, offsets) >= _score(objective, logits, y, 0)


def test_a_max_min_objective_lifts_every_tied_class_at_once():
    # Two classes share the worst recall: raising one of their offsets alone cannot lift
    # the minimum, which stalls coordinate ascent; the gradient raises both.
    logits, y = _noisy_logits(300, 4, margin=2.0, seed=4)
    logits[:, 2:] -= 2.0
    offsets = tune_offsets(logits, y, "min_recall")
    assert min(offsets[2:]) > max(offsets[:2]) + 1.0
    assert _score("min_recall", logits, y, offsets) > _score("min_recall", logits, y, 0) + 0.3


def test_a_coverage_constraint_is_met_by_offsets():
    logits, y = _noisy_logits(200, 3, margin=1.0, seed=5)
    logits[:, 0] -= 2.0
    objective = make_objective("mean_recall", {"min_coverage": 0.9})
    C = confusion_from_predictions(y, logits.argmax(1), 3)
    assert objective.constraint_slack(C)["min_coverage"].min() < 0
    offsets = tune_offsets(logits, y, objective)
    C = confusion_from_predictions(y, (logits + offsets).argmax(1), 3)
    assert objective.constraint_slack(C)["min_coverage"].min() >= -1e-12


def test_offsets_are_deterministic_and_leave_their_inputs_alone():
    logits, y = _noisy_logits(200, 5, margin=1.0, seed=3)
    logits[:, 4] -= 1.5
    original, objective = logits.copy(), make_objective("min_recall")
    first = tune_offsets(logits, y, objective)
    np.testing.assert_array_equal(first, tune_offsets(logits, y, "min_recall"))
    np.testing.assert_array_equal(logits, original)
    assert objective.multipliers is None or np.allclose(objective.multipliers, 1 / 5)
    assert np.median(first) == 0.0


def test_an_impossible_class_stays_impossible():
    logits, y = _noisy_logits(50, 3, seed=6)
    log_proba = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    log_proba[:25, 2] = -np.inf  # predicted probability 0
    offsets = tune_offsets(log_proba, y, "min_recall")
    assert np.isfinite(offsets).all()
    assert not ((log_proba + offsets)[:25].argmax(1) == 2).any()


def test_the_decision_applies_offsets_that_help_out_of_fold():
    logits, y = _noisy_logits(100, 3, margin=2.0, seed=0)
    logits[:, 2] -= 2.0
    decision = decide_offsets(logits, y, "min_recall")
    assert decision.applied
    assert decision.score_with > decision.score_without + 0.2
    np.testing.assert_array_equal(decision.offsets, tune_offsets(logits, y, "min_recall"))


def test_the_decision_refuses_offsets_that_fit_noise():
    # Scores unrelated to the labels: offsets raise the objective of the samples they are
    # tuned on, and nothing out of fold.
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(4), [40, 12, 6, 4])
    logits = rng.normal(size=(len(y), 4))
    assert _score("min_recall", logits, y, tune_offsets(logits, y, "min_recall")) > _score(
        "min_recall", logits, y, 0)
    decision = decide_offsets(logits, y, "min_recall", random_state=1)
    assert not decision.applied
    assert decision.score_with <= decision.score_without
    np.testing.assert_array_equal(decision.offsets, np.zeros(4))
    assert "do not raise" in decision.reason


def _weak_tail(seed):
    """Classes of 30, 10 and 5 samples, the smallest scored down by a random amount."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), [30, 10, 5])
    logits = 1.2 * np.eye(3)[y] + rng.normal(size=(len(y), 3))
    logits[:, 2] -= rng.uniform(0, 2)
    return logits, y


def test_the_decision_asks_for_a_lead_of_one_sample_of_the_smallest_class():
    seen = set()
    for seed in range(12):
        logits, y = _weak_tail(seed)
        decision = decide_offsets(logits, y, "min_recall", random_state=seed)
        gain = decision.score_with - decision.score_without
        assert decision.applied == (gain >= 1 / 5 - 1e-12)
        seen.add((decision.applied, gain > 0))
    # Applied, refused though the offsets helped a little, and refused outright all occur.
    assert seen == {(True, True), (False, True), (False, False)}


def test_the_decision_at_half_strength_judges_and_returns_halved_offsets():
    logits, y = _noisy_logits(100, 3, margin=2.0, seed=0)
    logits[:, 2] -= 2.0
    whole = decide_offsets(logits, y, "min_recall")
    half = decide_offsets(logits, y, "min_recall", strength=0.5, lead="none")
    assert half.applied and half.reason.startswith("Applied")
    np.testing.assert_array_equal(half.offsets, 0.5 * whole.offsets)
    # Judged with the halved offsets: a weaker correction, judged on the same folds.
    assert half.score_without == whole.score_without
    assert half.score_without < half.score_with != whole.score_with


def test_the_decision_without_a_lead_applies_whatever_does_not_lose():
    seen = set()
    for seed in range(12):
        logits, y = _weak_tail(seed)
        decision = decide_offsets(logits, y, "min_recall", random_state=seed, lead="none")
        gain = decision.score_with - decision.score_without
        assert decision.applied == (gain >= -1e-12 and decision.offsets.any())
        if not decision.applied:
            assert not decision.offsets.any() and "lower" in decision.reason
        seen.add((decision.applied, gain >= 1 / 5 - 1e-12))
    # Applied with and without the lead of one sample that lead="sample" asks for.
    assert {(True, True), (True, False)} <= seen
    with pytest.raises(ValueError, match="lead must be 'sample' or 'none'; got 'one'"):
        decide_offsets(logits, y, "min_recall", lead="one")


def test_the_decision_names_classes_of_a_single_held_out_sample():
    logits, y = _noisy_logits(20, 3, seed=8)
    keep = np.r_[np.flatnonzero(y != 1), np.flatnonzero(y == 1)[0]]
    with pytest.warns(UserWarning, match=r"single sample of the classes \['b'\]"):
        decide_offsets(logits[keep], y[keep], "min_recall", class_labels=["a", "b", "c"])


def test_tune_offsets_true_and_false_skip_the_estimate():
    logits, y = _noisy_logits(30, 3, seed=9)
    applied = decide_offsets(logits, y, "min_recall", apply=True)
    assert applied.applied and np.isnan(applied.score_with)
    skipped = decide_offsets(logits, y, "min_recall", apply=False)
    assert not skipped.applied and not skipped.offsets.any()
    assert skipped.score_without == _score("min_recall", logits, y, 0)


def test_a_scorers_objective_is_tuned_only_when_asked():
    logits, y = _noisy_logits(40, 3, margin=1.0, seed=10)
    logits[:, 0] -= 1.5
    auto = decide_offsets(logits, y, "f1_macro")
    assert not auto.applied and "tune_offsets=True" in auto.reason
    asked = decide_offsets(logits, y, "f1_macro", apply=True)
    assert asked.applied
    assert _score("f1_macro", logits, y, asked.offsets) > _score("f1_macro", logits, y, 0)


def test_a_scorer_under_constraints_is_tuned_only_when_asked():
    # Constraints ask for the decision layer under "auto", but not at the price of 2 K^2
    # scorer calls a gradient: the example of a constrained macro F1 took minutes.
    logits, y = _noisy_logits(40, 3, margin=1.0, seed=10)
    logits[:, 0] -= 1.5
    constrained = ConstrainedObjective("f1_macro", min_coverage=0.9)
    auto = decide_offsets(logits, y, constrained)
    assert not auto.applied and "tune_offsets=True" in auto.reason
    assert decide_offsets(logits, y, constrained, apply=True).applied
    # Nor is data held out for a layer that "auto" then skips.
    assert tunes_offsets("auto", "mean_recall", {"min_coverage": 0.9})
    assert not tunes_offsets("auto", "f1_macro", {"min_coverage": 0.9})
    assert tunes_offsets(True, "f1_macro", {"min_coverage": 0.9})


def test_tune_rejects_bad_inputs():
    logits, y = _noisy_logits(10, 3)
    with pytest.raises(ValueError, match=r"0 \.\. 2"):
        tune_offsets(logits, y + 1, "min_recall")
    with pytest.raises(ValueError, match="shape"):
        tune_offsets(logits, y[:-1], "min_recall")
    with pytest.raises(ValueError):
        tune_offsets(logits[:, :1], y * 0, "min_recall")
    with pytest.raises(ValueError, match="log-probabilities"):
        tune_offsets(np.where(y[:, None] == 0, np.nan, logits), y, "min_recall")
    with pytest.raises(ValueError, match="Unknown objective"):
        tune_offsets(logits, y, "max_recall")
