"""TunedOffsetsClassifierCV: the decision layer over any classifier with predict_proba."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from selmix_sk import SelMixClassifier, TunedOffsetsClassifierCV
from selmix_sk._offsets import decide_offsets


@pytest.fixture(scope="module")
def tail():
    """Three blobs of 150, 40 and 12 samples, the rare one close to the others."""
    rng = np.random.RandomState(0)
    counts = [150, 40, 12]
    centres = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.2]])
    X = np.vstack([rng.normal(c, 0.9, size=(n, 2)) for c, n in zip(centres, counts, strict=True)])
    return X, np.repeat(["head", "middle", "tail"], counts)


def test_offsets_are_tuned_out_of_fold_and_added_to_the_refitted_estimator(tail):
    X, y = tail
    clf = TunedOffsetsClassifierCV(LogisticRegression(), cv=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["head", "middle", "tail"])
    assert clf.decision_layer_["applied"]
    refitted = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(clf.estimator_.coef_, refitted.coef_)
    scores = np.log(refitted.predict_proba(X)) + clf.offsets_
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[scores.argmax(1)])
    np.testing.assert_allclose(clf.predict_proba(X).sum(1), 1.0)
    np.testing.assert_array_equal(clf.predict_proba(X).argmax(1), scores.argmax(1))
    plain_recall = np.mean(refitted.predict(X)[y == "tail"] == "tail")
    assert np.mean(clf.predict(X)[y == "tail"] == "tail") > plain_recall


def test_the_fold_estimators_predict_together_without_refit(tail):
    X, y = tail
    clf = TunedOffsetsClassifierCV(LogisticRegression(), cv=3, refit=False,
                                   random_state=0).fit(X, y)
    assert len(clf.estimators_) == 3 and not hasattr(clf, "estimator_")
    mean = np.mean([estimator.predict_proba(X) for estimator in clf.estimators_], axis=0)
    expected = mean * np.exp(clf.offsets_)
    np.testing.assert_allclose(clf.predict_proba(X), expected / expected.sum(1, keepdims=True))


def test_a_fitted_estimator_is_tuned_on_the_data_given(tail):
    X, y = tail
    fitted = LogisticRegression().fit(X[::2], y[::2])
    clf = TunedOffsetsClassifierCV(fitted, cv="prefit").fit(X[1::2], y[1::2])
    assert clf.estimator_ is fitted
    log_proba = np.log(fitted.predict_proba(X[1::2]))
    y_enc = np.unique(y, return_inverse=True)[1][1::2]
    # The objective without offsets does not depend on how the check deals its folds.
    expected = decide_offsets(log_proba, y_enc, "min_recall")
    assert clf.decision_layer_["score_without"] == expected.score_without


def test_a_class_missing_from_a_training_fold_is_never_predicted_there(tail):
    X, y = tail
    keep = np.r_[np.flatnonzero(y != "tail"), np.flatnonzero(y == "tail")[:2]]
    with pytest.warns(UserWarning):
        clf = TunedOffsetsClassifierCV(LogisticRegression(), cv=3, random_state=0).fit(
            X[keep], y[keep])
    assert np.isfinite(clf.offsets_).all()
    assert clf.predict(X).shape == (len(X),)


def test_pipelines_and_dataframes_pass_through(tail):
    X, y = tail
    frame = pd.DataFrame(X, columns=["a", "b"])
    inner = make_pipeline(make_column_transformer((StandardScaler(), ["a", "b"])),
                          LogisticRegression())
    clf = TunedOffsetsClassifierCV(inner, cv=3, random_state=0).fit(frame, y)
    assert clf.predict(frame.iloc[:5]).shape == (5,)
    assert clf.n_features_in_ == 2


def test_a_pre_trained_selmix_network_with_the_plug_in(tail):
    X, y = tail
    net = SelMixClassifier(finetune_steps=0, pretrain_epochs=5, device="cpu", random_state=0)
    clf = TunedOffsetsClassifierCV(net, cv=3, random_state=0).fit(X, y)
    assert set(clf.decision_layer_) == {"applied", "score_with", "score_without", "reason"}
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_bad_parameters_are_named(tail):
    X, y = tail
    with pytest.raises(ValueError, match="tune_offsets"):
        TunedOffsetsClassifierCV(LogisticRegression(), tune_offsets=False).fit(X, y)
    with pytest.raises(TypeError, match="predict_proba"):
        TunedOffsetsClassifierCV(LinearSVC()).fit(X, y)
    with pytest.raises(ValueError, match="Unknown objective"):
        TunedOffsetsClassifierCV(LogisticRegression(), objective="max_recall").fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        TunedOffsetsClassifierCV(LogisticRegression()).fit(X, np.zeros(len(X)))
