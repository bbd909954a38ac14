"""TunedOffsetsClassifierCV: the decision layer over any probabilistic classifier."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing, check_random_state, indexable
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._confusion import normalised_confusion
from ._offsets import decide_offsets, softmax_rows
from .objectives import make_objective

__all__ = ["TunedOffsetsClassifierCV"]


def _log_proba(estimator, X, classes):
    """``log(predict_proba)`` of a fitted classifier, its columns put in the order of ``classes``.

    A class the estimator never saw (a fold without it) gets probability 0.
    """
    proba = estimator.predict_proba(X)
    log_proba = np.full((len(proba), len(classes)), -np.inf)
    with np.errstate(divide="ignore"):
        log_proba[:, np.searchsorted(classes, estimator.classes_)] = np.log(proba)
    return log_proba


def _fit_and_predict_fold(estimator, X, y, train, test, classes, fit_params):
    """Fit ``estimator`` on the rows ``train``; its log-probabilities on the rows ``test``."""
    estimator.fit(_safe_indexing(X, train), y[train], **fit_params)
    return estimator, _log_proba(estimator, _safe_indexing(X, test), classes)


class TunedOffsetsClassifierCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier whose decisions are tuned for a confusion-matrix objective, out of fold.

    What :class:`~sklearn.model_selection.TunedThresholdClassifierCV` does
    for the threshold of a binary classifier, for multiclass objectives such
    as the worst recall, with constraints: the classifier predicts
    ``argmax(log predict_proba + offsets_)``, with per-class offsets tuned on
    out-of-fold predictions (the plug-in rule; see :func:`decide_offsets
    <selmix_sk._offsets.decide_offsets>`). With ``tune_offsets="auto"`` the
    offsets are applied only where, tuned on some of the out-of-fold
    predictions, they raise the objective on the others, so that a class of
    a few samples cannot make them overfit. :class:`SelMixClassifier`
    applies the same layer to its own held-out predictions.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier with ``predict_proba``.
    objective : str, callable or Objective, default="min_recall"
        As in :class:`~selmix_sk.SelMixClassifier`; see
        :func:`~selmix_sk.objectives.make_objective`.
    constraints : dict, default=None
        ``{"min_recall": t, "min_coverage": a}``, either or both.
    cv : int, cross-validation generator, iterable or "prefit", default=5
        An int: that many shuffled stratified folds. "prefit": ``estimator``
        is fitted already and ``fit`` gets held-out data to tune on.
    refit : bool, default=True
        True: the estimator refitted on all the data predicts (its
        probabilities differ a little from the fold estimators' on which the
        offsets were tuned). False: the fold estimators' mean probabilities,
        as :class:`~sklearn.calibration.CalibratedClassifierCV` with
        ``ensemble=True``.
    tune_offsets : {"auto", True}, default="auto"
        True applies the offsets without the out-of-fold check.
    n_jobs : int, default=None
        Folds fitted in parallel through joblib.
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds of an int ``cv`` and deals the folds of the check.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    estimator_ : classifier
        The estimator that predicts, when ``refit`` or "prefit".
    estimators_ : list of classifiers
        The fold estimators, whose probabilities are averaged, when not ``refit``.
    offsets_ : ndarray of shape (n_classes,)
        Added to the log-probabilities; zeros when not applied.
    decision_layer_ : dict
        ``applied``, the out-of-fold objective ``score_with`` the offsets
        (tuned on other folds) and ``score_without``, and the ``reason``.
    objective_ : Objective

    See Also
    --------
    selmix_sk.SelMixClassifier : SelMix fine-tuning, with this layer after it.

    Examples
    --------
    A logistic regression on long-tailed digits (the rarest digit has 4
    training images) misses over half of its worst digit's test images; the
    decision layer finds the worst digit under-predicted out of fold, and
    corrects it:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from selmix_sk import TunedOffsetsClassifierCV
    >>> from selmix_sk.datasets import load_long_tailed_digits
    >>> from selmix_sk.metrics import min_recall_score
    >>> data = load_long_tailed_digits(imbalance=30, random_state=0)
    >>> X, X_test = data.X_train / 16, data.X_test / 16
    >>> plain = LogisticRegression(max_iter=2000).fit(X, data.y_train)
    >>> round(min_recall_score(data.y_test, plain.predict(X_test)), 3)
    0.457
    >>> clf = TunedOffsetsClassifierCV(LogisticRegression(max_iter=2000), random_state=0)
    >>> clf.fit(X, data.y_train).decision_layer_["applied"]
    True
    >>> round(min_recall_score(data.y_test, clf.predict(X_test)), 3)
    0.8
    """

    def __init__(self, estimator, *, objective="min_recall", constraints=None, cv=5, refit=True,
                 tune_offsets="auto", n_jobs=None, random_state=None):
        self.estimator = estimator
        self.objective = objective
        self.constraints = constraints
        self.cv = cv
        self.refit = refit
        self.tune_offsets = tune_offsets
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y, **fit_params):
        """Fit the estimator out of fold (or take it fitted), then tune the decision layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Whatever ``estimator`` takes: arrays, DataFrames, images.
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : TunedOffsetsClassifierCV
        """
        if not ((isinstance(self.tune_offsets, str) and self.tune_offsets == "auto")
                or self.tune_offsets is True):
            raise ValueError(f'tune_offsets must be "auto" or True, got {self.tune_offsets!r}.')
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(f"{type(self.estimator).__name__} has no predict_proba: the "
                            "decision layer tunes offsets on predicted probabilities.")
        objective = make_objective(self.objective, self.constraints)
        X, y = indexable(X, y)
        y = column_or_1d(y, warn=True)
        if not len(y):
            raise ValueError("X and y have 0 samples; the decision layer needs labelled data.")
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y has one class, {classes[0]!r}; at least two are needed.")
        rng = check_random_state(self.random_state)
        if isinstance(self.cv, str) and self.cv == "prefit":
            check_is_fitted(self.estimator, "classes_")
            self.estimator_ = self.estimator
            log_proba = _log_proba(self.estimator, X, classes)
        else:
            cv = self.cv
            if isinstance(cv, int):
                cv = StratifiedKFold(cv, shuffle=True, random_state=rng.randint(2**31))
            cv = check_cv(cv, y, classifier=True)
            folds = list(cv.split(np.zeros((len(y), 1)), y))
            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_and_predict_fold)(clone(self.estimator), X, y, train, test,
                                               classes, fit_params)
                for train, test in folds
            )
            log_proba = np.empty((len(y), len(classes)))
            for (_, test), (_, fold_log_proba) in zip(folds, fitted, strict=True):
                log_proba[test] = fold_log_proba
            if self.refit:
                self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
            else:
                self.estimators_ = [estimator for estimator, _ in fitted]
        objective.reset(np.bincount(y_enc, minlength=len(classes)) / len(y_enc))
        decision = decide_offsets(log_proba, y_enc, objective, apply=self.tune_offsets,
                                  random_state=rng.randint(2**31), class_labels=classes)
        self.classes_, self.objective_, self.offsets_ = classes, objective, decision.offsets
        self.decision_layer_ = decision.evidence()
        return self

    def _base_log_proba(self, X):
        check_is_fitted(self, "offsets_")
        if hasattr(self, "estimator_"):
            return _log_proba(self.estimator_, X, self.classes_)
        with np.errstate(divide="ignore"):
            return np.log(np.mean([np.exp(_log_proba(estimator, X, self.classes_))
                                   for estimator in self.estimators_], axis=0))

    def _scores(self, X):
        """The log-probabilities plus ``offsets_``: the scores whose argmax is predicted."""
        return self._base_log_proba(X) + self.offsets_

    def predict_proba(self, X):
        """The probabilities reweighted by ``exp(offsets_)``, so that their argmax is predicted.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax_rows(self._scores(X))

    def predict(self, X):
        """The class of largest log-probability plus offset.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        best = np.argmax(self._scores(X), axis=1)
        return self.classes_[best]

    def score(self, X, y, sample_weight=None):
        """The objective on ``(X, y)``, from the normalised confusion matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        C = normalised_confusion(y, self.predict(X), labels=self.classes_,
                                 sample_weight=sample_weight)
        return self.objective_.score(C)

    @property
    def n_features_in_(self):
        """The number of features of the estimator that predicts."""
        fitted = self.estimator_ if hasattr(self, "estimator_") else self.estimators_[0]
        return fitted.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = clone(self.estimator).__sklearn_tags__().input_tags
        return tags
