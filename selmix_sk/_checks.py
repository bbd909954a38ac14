"""Checks of the estimator's parameters and of the data it is given.

Every problem found here raises a ValueError or TypeError that names the
parameter or the input at fault, before any training starts.
"""

import inspect
import numbers
import warnings

import numpy as np
import torch
from sklearn.utils.validation import validate_data
from skorch import NeuralNet
from torch.utils.data import Dataset

from ._batching import dataset_labels, input_batches
from .callbacks import CONFUSIONS
from .gain import INDICATORS, SELECTIONS
from .objectives import ConstrainedObjective, ScorerObjective, make_objective

__all__ = [
    "accepts",
    "check_inputs",
    "check_number",
    "check_params",
    "check_validation_labels",
    "class_prior",
    "encode_labels",
    "fit_classes",
    "labelled_counts",
    "resolve_device",
    "scores_with_a_scorer",
    "tunes_offsets",
    "unlabelled_mask",
    "warn_if_few_held_out",
]

# Below this many held-out samples, a class's validation recall moves in steps
# of a third or more: too coarse to steer the gains.
FEW_VALIDATION_SAMPLES = 3


def check_number(name, value, low=None, high=None, *, integer=False, low_open=False,
                 high_open=False):
    """Raise unless ``value`` is a number (an integer if ``integer``) within the bounds.

    Examples
    --------
    >>> from selmix_sk._checks import check_number
    >>> check_number("temperature", 0.1, 0, low_open=True)
    >>> check_number("temperature", 0, 0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: temperature must be in (0, inf], got 0.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"{'-inf' if low is None else low}, {'inf' if high is None else high}"
        raise ValueError(f"{name} must be in {left}{bounds}{right}, got {value!r}.")


def resolve_device(device):
    """The device that ``device`` names: ``"auto"`` is CUDA where there is one.

    Examples
    --------
    >>> from selmix_sk._checks import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'auto' or 'cpu'.")
    return str(resolved)


def accepts(cls, name):
    """Whether calling ``cls`` takes a parameter ``name``."""
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def check_params(estimator):
    """Check a :class:`~selmix_sk.SelMixClassifier`'s parameters; return its device.

    Examples
    --------
    >>> from selmix_sk import SelMixClassifier
    >>> from selmix_sk._checks import check_params
    >>> check_params(SelMixClassifier(device="cpu"))
    'cpu'
    >>> check_params(SelMixClassifier(selection="best"))
    Traceback (most recent call last):
    ...
    ValueError: selection must be one of ('selmix', 'uniform', 'greedy'), got 'best'.
    """
    e = estimator
    if e.net is not None and not isinstance(e.net, NeuralNet):
        raise TypeError(f"net must be a skorch NeuralNet or None, got {type(e.net).__name__}.")
    make_objective(e.objective, e.constraints)
    check_number("finetune_steps", e.finetune_steps, 0, integer=True)
    if e.selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {e.selection!r}.")
    check_number("temperature", e.temperature, 0, low_open=True)
    check_number("mixup_lambda_min", e.mixup_lambda_min, 0, 1, high_open=True)
    check_number("refresh_every", e.refresh_every, 1, integer=True)
    check_number("batch_size", e.batch_size, 1, integer=True)
    check_number("finetune_lr", e.finetune_lr, 0, low_open=True)
    check_number("backbone_lr_factor", e.backbone_lr_factor, 0)
    check_number("weight_decay", e.weight_decay, 0)
    check_number("pretrain_epochs", e.pretrain_epochs, 1, integer=True)
    check_number("logit_adjustment", e.logit_adjustment, 0)
    if not isinstance(e.finetune_refit, (bool, np.bool_)):
        raise TypeError(f"finetune_refit must be True or False, got {e.finetune_refit!r}.")
    if not isinstance(e.freeze_backbone, (bool, np.bool_)):
        raise TypeError(f"freeze_backbone must be True or False, got {e.freeze_backbone!r}.")
    if e.augment is not None and not callable(e.augment):
        raise TypeError(f"augment must be callable or None, got {e.augment!r}.")
    check_number("fixmatch_threshold", e.fixmatch_threshold, 0, 1)
    for name in ("fixmatch_class_thresholds", "fixmatch_alignment"):
        if not isinstance(getattr(e, name), (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {getattr(e, name)!r}.")
    check_number("fixmatch_mu", e.fixmatch_mu, 1, integer=True)
    check_number("fixmatch_weight", e.fixmatch_weight, 0)
    if not isinstance(e.fixmatch, (bool, np.bool_)) and not (
        isinstance(e.fixmatch, str) and e.fixmatch == "auto"
    ):
        raise ValueError(f'fixmatch must be "auto", True or False, got {e.fixmatch!r}.')
    if not isinstance(e.tune_offsets, (bool, np.bool_)) and not (
        isinstance(e.tune_offsets, str) and e.tune_offsets == "auto"
    ):
        raise ValueError(f'tune_offsets must be "auto", True or False, got {e.tune_offsets!r}.')
    if e.indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}, got {e.indicator!r}.")
    if e.confusion not in CONFUSIONS:
        raise ValueError(f"confusion must be one of {CONFUSIONS}, got {e.confusion!r}.")
    if isinstance(e.start_weight, str):
        if e.start_weight != "auto":
            raise ValueError('start_weight must be "auto" or a number in [0, 1), got '
                             f"{e.start_weight!r}.")
    else:
        check_number("start_weight", e.start_weight, 0, 1, high_open=True)
    check_number("memory_size", e.memory_size, 0, integer=True)
    check_number("verbose", e.verbose, 0, integer=True)
    if not (e.n_threads is None or (isinstance(e.n_threads, str) and e.n_threads == "auto")):
        check_number("n_threads", e.n_threads, 1, integer=True)
    return resolve_device(e.device)


def tunes_offsets(tune_offsets, objective, constraints):
    """Whether the decision layer needs held-out data of its own, without fine-tuning.

    With ``tune_offsets=True``; with "auto", under constraints: a coverage
    constraint asks for a share of predictions per class, which offsets set
    directly while mixups move it slowly. Not for a scorer's objective, which
    "auto" skips (see :func:`scores_with_a_scorer`).
    """
    if isinstance(tune_offsets, str):  # "auto"
        objective = make_objective(objective, constraints)
        return (isinstance(objective, ConstrainedObjective)
                and not scores_with_a_scorer(objective))
    return bool(tune_offsets)


def scores_with_a_scorer(objective):
    """Whether the gradient of ``objective`` calls a scorer, itself or under constraints.

    Such a gradient costs ``2 K^2`` scorer calls, which the decision layer
    cannot afford under ``tune_offsets="auto"``.

    Examples
    --------
    >>> from selmix_sk._checks import scores_with_a_scorer
    >>> from selmix_sk.objectives import ConstrainedObjective, make_objective
    >>> scores_with_a_scorer(ConstrainedObjective("f1_macro", min_coverage=0.9))
    True
    >>> scores_with_a_scorer(make_objective("min_recall"))
    False
    """
    if isinstance(objective, ConstrainedObjective):
        objective = make_objective(objective.objective)
    return isinstance(objective, ScorerObjective)


def unlabelled_mask(y, unlabeled_label):
    """Which samples of ``y`` carry ``unlabeled_label`` (none when it is None).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._checks import unlabelled_mask
    >>> unlabelled_mask(np.array([1, -1, 0]), -1)
    array([False,  True, False])
    """
    if unlabeled_label is None:
        return np.zeros(len(y), dtype=bool)
    return np.asarray(y == unlabeled_label, dtype=bool).reshape(len(y))


def encode_labels(y, classes, unlabeled_label, name):
    """Labels as indices into ``classes``, -1 for an unlabelled sample.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._checks import encode_labels
    >>> encode_labels(np.array(["b", "?", "a"]), np.array(["a", "b"]), "?", "y")
    array([ 1, -1,  0])
    """
    unlabelled = unlabelled_mask(y, unlabeled_label)
    labelled = y[~unlabelled]
    unknown = np.setdiff1d(np.unique(labelled), classes)
    if unknown.size:
        raise ValueError(
            f"{name} has labels that are not among the classes {classes!r}: {unknown!r}."
        )
    encoded = np.full(len(y), -1, dtype=np.intp)
    encoded[~unlabelled] = np.searchsorted(classes, labelled)
    return encoded


def fit_classes(y, unlabeled_label):
    """The classes of the labelled samples of ``y``; at least two, or a ValueError."""
    unlabelled = unlabelled_mask(y, unlabeled_label)
    if unlabelled.all():
        raise ValueError(
            f"Every sample of y is unlabelled (unlabeled_label={unlabeled_label!r}); "
            "SelMixClassifier needs labelled samples of at least two classes."
        )
    classes = np.unique(y[~unlabelled])
    if len(classes) < 2:
        raise ValueError(
            f"SelMixClassifier needs labelled samples of at least two classes; y has one "
            f"class: {classes[0]!r}."
        )
    return classes


def check_validation_labels(y_val, classes, unlabeled_label):
    """``y_val`` encoded; it must be labelled and hold every class."""
    if unlabelled_mask(y_val, unlabeled_label).any():
        raise ValueError("y_val has unlabelled samples; the validation set must be labelled.")
    y_val_enc = encode_labels(y_val, classes, unlabeled_label, "y_val")
    missing = classes[np.setdiff1d(np.arange(len(classes)), y_val_enc)]
    if missing.size:
        hint = ""
        if unlabeled_label is None and np.isin(-1, missing.astype(object)):
            hint = (" Here -1 is a class of y like any other; if it marks unlabelled "
                    "samples, pass unlabeled_label=-1.")
        raise ValueError(
            f"y_val has no sample of the classes {missing.tolist()!r}; SelMix needs every "
            f"class of y in the validation set.{hint}"
        )
    return y_val_enc


def class_prior(counts):
    """Training share of every class, smoothed by one sample each, from its counts.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._checks import class_prior
    >>> class_prior(np.array([3, 0]))
    array([0.8, 0.2])
    """
    return (counts + 1.0) / (counts + 1.0).sum()


def labelled_counts(y, n_classes):
    """Samples of every class among encoded labels (-1 counts nowhere)."""
    return np.bincount(y[y >= 0], minlength=n_classes)


def warn_if_few_held_out(y_held_out, classes):
    """Warn, naming them, of the classes with too few held-out samples to steer SelMix."""
    counts = np.bincount(y_held_out, minlength=len(classes))
    few = classes[counts < FEW_VALIDATION_SAMPLES]
    if few.size:
        warnings.warn(
            f"The held-out parts of y have fewer than {FEW_VALIDATION_SAMPLES} samples of "
            f"the classes {few.tolist()!r}: their recalls are too coarse to steer SelMix. "
            "Pass X_val and y_val, or finetune_steps=0 (see 'The validation set' in the "
            "user guide).",
            UserWarning,
            stacklevel=3,
        )


def check_inputs(estimator, X, y=None, *, reset):
    """``X`` and ``y`` validated for ``estimator``: arrays as scikit-learn does, a Dataset as it is.

    A tensor becomes an array. A Dataset is read for the shape of its first
    input only; ``y=None`` with a Dataset, when fitting, reads its labels.
    As :func:`sklearn.utils.validation.validate_data` does, ``reset`` sets
    ``n_features_in_`` (and ``feature_names_in_``) on the estimator, and here
    also the shape of a sample, ``_input_shape``, which later inputs must
    have.

    Returns
    -------
    X, y
    """
    if torch.is_tensor(X):
        X = X.detach().cpu().numpy()
    if torch.is_tensor(y):
        y = y.detach().cpu().numpy()
    if isinstance(X, Dataset):
        if not len(X):
            raise ValueError("X is an empty Dataset.")
        _check_shape(estimator, tuple(next(input_batches(X, 1)).shape[1:]), reset)
        if reset:
            if y is None:
                y = dataset_labels(X)
            y = validate_data(estimator, X="no_validation", y=y, reset=True)
            shape = estimator._input_shape
            estimator.n_features_in_ = shape[0] if shape else 1
        elif y is not None:
            y = validate_data(estimator, X="no_validation", y=y, reset=False)
        if y is not None and len(y) != len(X):
            raise ValueError(f"X has {len(X)} items and y {len(y)} labels.")
        return X, y
    if not reset and hasattr(X, "shape"):
        _check_shape(estimator, tuple(X.shape[1:]), reset)
    if y is None:
        X = validate_data(estimator, X, dtype=np.float32, reset=reset, allow_nd=True)
    else:
        X, y = validate_data(estimator, X, y, dtype=np.float32, reset=reset, allow_nd=True)
    _check_shape(estimator, X.shape[1:], reset)
    return X, y


def _check_shape(estimator, shape, reset):
    """Remember the shape of a sample, or check it against the one remembered."""
    if reset:
        estimator._input_shape = tuple(shape)
        return
    fitted = getattr(estimator, "_input_shape", None)
    # Two 2-D shapes that differ get scikit-learn's own message, on the feature count.
    if fitted is not None and tuple(shape) != fitted and len(shape) + len(fitted) > 2:
        raise ValueError(
            f"X has samples of shape {tuple(shape)}, but this {type(estimator).__name__} was "
            f"fitted on samples of shape {fitted}."
        )
