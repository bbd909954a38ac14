import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from selmix_sk._confusion import confusion_from_predictions
from selmix_sk._offsets import tune_logit_offsets
from selmix_sk.objectives import Objective, make_objective


class Accuracy(Objective):
    name = "accuracy"

    def value(self, C):
        return float(np.trace(C))


def _min_recall(logits, y, offsets):
    C = confusion_from_predictions(y, (logits + offsets).argmax(axis=1), logits.shape[1])
    return make_objective("min_recall").value(C)


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
    offsets = tune_logit_offsets(biased, y, make_objective("min_recall"))
    others = np.delete(offsets, 1)
    assert offsets[1] - others.mean() == pytest.approx(2.5, abs=0.4)
    assert _min_recall(biased, y, 0) < 0.3
    assert _min_recall(biased, y, offsets) >= _min_recall(logits, y, 0) - 0.02


def test_offsets_on_separable_logits_take_the_plateau_edge_nearest_zero():
    y = np.repeat(np.arange(3), 10)
    logits = 5.0 * np.eye(3)[y]
    logits[:, 0] -= 7.0
    # Class 0 is recalled once its offset reaches 2 (a tie goes to the lower
    # index, as in argmax) and the others stay recalled up to 12: the whole
    # plateau scores 1, and the tie-break picks its edge nearest 0.
    offsets = tune_logit_offsets(logits, y, "min_recall")
    np.testing.assert_array_equal(offsets, [2.0, 0.0, 0.0])
    assert _min_recall(logits, y, offsets) == 1.0


def test_offsets_are_zero_when_already_optimal():
    y = np.repeat(np.arange(4), 25)
    logits = 3.0 * np.eye(4)[y]
    np.testing.assert_array_equal(tune_logit_offsets(logits, y, "min_recall"), np.zeros(4))


def test_offsets_are_deterministic_and_leave_the_input_alone():
    logits, y = _noisy_logits(200, 5, margin=1.0, seed=3)
    logits[:, 4] -= 1.5
    original = logits.copy()
    first = tune_logit_offsets(logits, y, make_objective("min_recall"))
    np.testing.assert_array_equal(first, tune_logit_offsets(logits, y, "min_recall"))
    np.testing.assert_array_equal(logits, original)
    assert np.median(first) == 0.0


def test_offsets_never_lower_the_objective():
    objective = make_objective("hmean")
    for seed in range(5):
        logits, y = _noisy_logits(80, 6, margin=1.0, seed=seed)
        logits += np.random.default_rng(seed).normal(size=6)
        K = logits.shape[1]
        before = objective.value(confusion_from_predictions(y, logits.argmax(1), K))
        offsets = tune_logit_offsets(logits, y, objective)
        after = objective.value(confusion_from_predictions(y, (logits + offsets).argmax(1), K))
        assert after >= before


def test_recall_objectives_ignore_class_weight():
    logits, y = _noisy_logits(100, 3, seed=1)
    keep = np.flatnonzero((y != 2) | (np.arange(len(y)) % 100 < 20))
    logits, y = logits[keep], y[keep]
    logits[:, 2] -= 1.0
    np.testing.assert_array_equal(
        tune_logit_offsets(logits, y, "min_recall", class_weight="balanced"),
        tune_logit_offsets(logits, y, "min_recall"),
    )


def test_class_weight_shifts_accuracy_toward_the_heavy_class():
    logits, y = _noisy_logits(300, 2, margin=1.0, seed=2)
    plain = tune_logit_offsets(logits, y, Accuracy())
    heavy = tune_logit_offsets(logits, y, Accuracy(), class_weight=[1.0, 10.0])
    assert heavy[1] - heavy[0] > plain[1] - plain[0] + 1.0


def test_custom_grid_is_used():
    logits, y = _noisy_logits(100, 3)
    logits[:, 0] -= 3.0
    grid = [-1.0, 0.5, 4.0]
    offsets = tune_logit_offsets(logits, y, "min_recall", grid=grid)
    # Before the median is taken off, every offset is 0 or a grid value.
    values = [0.0, *grid]
    allowed = {round(a - b, 10) for a in values for b in values}
    assert {round(a - b, 10) for a in offsets for b in offsets} <= allowed
    assert _min_recall(logits, y, offsets) > _min_recall(logits, y, 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_rounds=0), "n_rounds"),
        (dict(grid=[]), "grid"),
        (dict(grid=[[0.0]]), "grid"),
        (dict(grid=[np.nan]), "grid"),
        (dict(class_weight="uniform"), "class_weight"),
        (dict(class_weight=[1.0, 2.0]), "class_weight"),
        (dict(class_weight=[1.0, -1.0, 1.0]), "non-negative"),
        (dict(class_weight=[0.0, 0.0, 0.0]), "total weight"),
    ],
)
def test_tune_rejects_bad_parameters(kwargs, message):
    logits, y = _noisy_logits(10, 3)
    with pytest.raises(ValueError, match=message):
        tune_logit_offsets(logits, y, "min_recall", **kwargs)


def test_tune_rejects_bad_inputs():
    logits, y = _noisy_logits(10, 3)
    with pytest.raises(ValueError, match=r"0 \.\. 2"):
        tune_logit_offsets(logits, y + 1, "min_recall")
    with pytest.raises(ValueError, match="shape"):
        tune_logit_offsets(logits, y[:-1], "min_recall")
    with pytest.raises(ValueError):
        tune_logit_offsets(logits[:, :1], y * 0, "min_recall")
    with pytest.raises(ValueError, match="Unknown objective"):
        tune_logit_offsets(logits, y, "max_recall")
