"""Data files for the command line: reading them, their columns as features, the model file.

``selmix-sk fit`` reads a CSV or parquet file (:func:`read_table`), and
:func:`fit_pipeline` turns its columns into numbers with the steps of
:func:`make_columns`, whose :class:`skrub.TableVectorizer` types and encodes
every column, before it fits the classifier on them. :func:`save_model`
writes the fitted :class:`~sklearn.pipeline.Pipeline` to a joblib file with a
header that names every column and the kind skrub gave it
(:func:`column_kinds`). ``predict`` and ``evaluate`` read that file back with
:func:`load_model`, which refuses any other file, and take the feature
columns out of new data with :func:`model_inputs`. What the commands print
and draw is in :mod:`selmix_sk._report`.

skrub comes with the ``tabular`` extra, not with selmix-sk itself: making
the steps or reading a model file without it raises an ImportError that
names the extra.

Every problem with the user's files raises a ValueError whose message is one
line that names the file or the column, so that the command line can print
it as it is.
"""

from pathlib import Path

import joblib
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline

from . import __version__

__all__ = [
    "FORMAT",
    "check_values",
    "column_kinds",
    "feature_frame",
    "fit_pipeline",
    "load_model",
    "make_columns",
    "model_inputs",
    "read_table",
    "save_model",
    "split_target",
]

#: The ``format`` entry of a model file's header.
FORMAT = "selmix-sk model"
# Raised when the header or the pipeline changes in a way that older readers would misread.
# 2: skrub's TableVectorizer types the columns (1: a ColumnTransformer of pandas types).
_FORMAT_VERSION = 2
_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
_NEEDS_SKRUB = 'typing the columns of a table needs skrub: pip install "selmix-sk[tabular]"'
# What a column of each kind that skrub parses must hold, in words.
_PARSED = {"numeric": "numbers", "datetime": "dates"}


def _one_line(text):
    return " ".join(str(text).split())


def read_table(path):
    """Read a CSV or parquet file into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        A file ending in ``.csv``, ``.parquet`` or ``.pq``. Parquet needs
        pyarrow (``pip install "selmix-sk[parquet]"``).

    Returns
    -------
    frame : pandas.DataFrame

    Raises
    ------
    ValueError
        For another suffix, or a file that is missing, unreadable, malformed
        or without rows.
    ImportError
        For a parquet file when pyarrow is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from selmix_sk._tabular import read_table
    >>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}).to_csv(path, index=False)
    >>> read_table(path).shape
    (2, 2)
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        got = f"the suffix {path.suffix}" if path.suffix else "no suffix"
        raise ValueError(f"{path}: expected a .csv or .parquet file, got {got}.")
    if reader is pd.read_parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError('reading parquet files needs pyarrow: pip install '
                              '"selmix-sk[parquet]"') from None
    try:
        frame = reader(path)
    except (OSError, ValueError) as exc:  # pandas and pyarrow parse errors are ValueErrors
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ValueError(f"cannot read {path}: {_one_line(reason)}") from None
    if frame.empty:
        raise ValueError(f"{path} has no rows.")
    frame.columns = frame.columns.map(str)
    return frame


def split_target(frame, target, path="the data"):
    """The columns other than ``target``, and ``target`` as a label array.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        Name of the label column.
    path : str or path-like, default="the data"
        The file's name, for error messages.

    Returns
    -------
    X : pandas.DataFrame
    y : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        When ``target`` is not a column or has missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import split_target
    >>> X, y = split_target(pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}), "label")
    >>> list(X.columns), y.tolist()
    (['x'], ['a', 'b'])
    """
    if target not in frame.columns:
        raise ValueError(f"{path} has no column {target!r}; its columns: "
                         f"{', '.join(frame.columns)}.")
    labels = frame[target]
    missing = int(labels.isna().sum())
    if missing:
        raise ValueError(f"the target column {target!r} of {path} has {missing} missing "
                         "value(s); drop those rows first.")
    return frame.drop(columns=target), labels.to_numpy()


def make_columns():
    """The unfitted steps that turn the columns of a table into a dense, scaled float matrix.

    skrub's :class:`~skrub.TableVectorizer` types every column and encodes it:

    - numbers, booleans (as 0 and 1), and strings that all read as numbers
      once blanks and ``"N/A"``-like strings are taken as missing stay
      numbers (kind ``"numeric"``);
    - dates and times, stored as such or as strings in one format, become
      their year, month, day, hour (when there are times), weekday and
      seconds since 1970 (``"datetime"``);
    - strings and categories with fewer than 40 distinct values are one-hot
      encoded, a missing value being a category of its own and a value
      unseen in training all zeros (``"low_cardinality"``);
    - strings with more (identifiers, free text) become 30 numbers each:
      skrub's :class:`~skrub.StringEncoder`, TF-IDF weights of character
      n-grams reduced by a truncated SVD (``"high_cardinality"``);
    - empty and constant columns are dropped (``"dropped"``).

    A missing value then becomes its column's median in training, beside a
    column per such column that says which values were missing, and every
    column is centred on its median, divided by its interquartile range and
    softly clipped to [-5, 5] (skrub's :class:`~skrub.SquashingScaler`).

    Returns
    -------
    columns : sklearn.pipeline.Pipeline
        Unfitted: a TableVectorizer, a SimpleImputer and a SquashingScaler.

    Raises
    ------
    ImportError
        When skrub is not installed.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import column_kinds, make_columns
    >>> frame = pd.DataFrame({
    ...     "visit": ["2024-01-05", "2024-02-11", "2024-03-17", None] * 5,
    ...     "smoker": [True, False, False, True] * 5,
    ...     "city": ["Oslo", "Lima", "Oslo", "Pune"] * 5,
    ...     "dose": ["1.5", "2", "", "3.25"] * 5,
    ... })
    >>> columns = make_columns().fit(frame)
    >>> column_kinds(columns)
    {'visit': 'datetime', 'smoker': 'numeric', 'city': 'low_cardinality', 'dose': 'numeric'}
    >>> columns.get_feature_names_out().tolist()
    ['visit_year', 'visit_month', 'visit_day', 'visit_total_seconds', 'visit_weekday',
     'smoker', 'city_Lima', 'city_Oslo', 'city_Pune', 'dose',
     'missingindicator_visit_year', 'missingindicator_visit_month',
     'missingindicator_visit_day', 'missingindicator_visit_total_seconds',
     'missingindicator_visit_weekday', 'missingindicator_dose']
    >>> bool(abs(columns.transform(frame)).max() <= 5)
    True
    """
    try:
        import skrub
    except ImportError:
        raise ImportError(_NEEDS_SKRUB) from None
    vectorizer = skrub.TableVectorizer(
        # A weekly rhythm (trade, traffic, admissions) is one the network cannot easily
        # find in the year, month and day. skrub.tabular_pipeline adds 16 spline features
        # per date for linear models; a network learns such curves from the month and day.
        datetime=skrub.DatetimeEncoder(add_weekday=True),
        drop_if_constant=True,
    )
    return make_pipeline(
        vectorizer,
        # The median lands on 0, the centre of the scaler; the indicator lets the network
        # learn whether a value's absence says something.
        SimpleImputer(strategy="median", add_indicator=True),
        # The default network standardises its inputs, but one outlier inflates a standard
        # deviation and squeezes every other value together; a robust scale with soft
        # clipping keeps them apart (skrub.tabular_pipeline uses it for all but tree ensembles).
        skrub.SquashingScaler(max_absolute_value=5),
    )


def column_kinds(columns):
    """Every column of the table and the kind that skrub's TableVectorizer gave it.

    Parameters
    ----------
    columns : sklearn.pipeline.Pipeline
        Fitted, as :func:`make_columns` returns it.

    Returns
    -------
    kinds : dict
        Column name to ``"numeric"``, ``"datetime"``, ``"low_cardinality"``,
        ``"high_cardinality"`` or ``"dropped"`` (see :func:`make_columns`),
        in the order of the table.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import column_kinds, make_columns
    >>> frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "country": ["NO", "NO", "NO"]})
    >>> column_kinds(make_columns().fit(frame))
    {'x': 'numeric', 'country': 'dropped'}
    """
    vectorizer = columns[0]
    # A column that the vectorizer dropped has no kind there.
    return {name: vectorizer.column_to_kind_.get(name, "dropped")
            for name in vectorizer.feature_names_in_}


def feature_frame(frame, features, path="the data"):
    """The feature columns of ``frame``, in the order of training.

    Other columns, the target among them, are left out.

    Parameters
    ----------
    frame : pandas.DataFrame
    features : iterable of str
        The names of the training data's feature columns, such as the keys of
        a model file's ``features``.
    path : str or path-like, default="the data"
        The file's name, for error messages.

    Returns
    -------
    X : pandas.DataFrame

    Raises
    ------
    ValueError
        When a feature column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import feature_frame
    >>> frame = pd.DataFrame({"id": [7], "city": ["Oslo"], "x": [1.5]})
    >>> list(feature_frame(frame, ["x", "city"]).columns)
    ['x', 'city']
    >>> feature_frame(frame.drop(columns="x"), ["x", "city"])
    Traceback (most recent call last):
    ...
    ValueError: the data lacks the feature column(s) 'x' of the training data.
    """
    features = list(features)
    missing = [name for name in features if name not in frame.columns]
    if missing:
        named = ", ".join(map(repr, missing[:5]))
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(f"{path} lacks the feature column(s) {named}{more} of the training "
                         "data.")
    return frame[features]


def check_values(columns, X, path="the data"):
    """Refuse a value that the fitted steps would read as missing in a column of numbers or dates.

    Once fitted, skrub's TableVectorizer reads a value that is not a number
    in a numeric column, or not a date in the format of a datetime column,
    as missing, and the imputer fills it in: a typo, or a column that has
    changed its meaning, would go unnoticed.

    Parameters
    ----------
    columns : sklearn.pipeline.Pipeline
        Fitted, as :func:`make_columns` returns it.
    X : pandas.DataFrame
        The feature columns, as :func:`feature_frame` returns them.
    path : str or path-like, default="the data"
        The file's name, for error messages.

    Raises
    ------
    ValueError
        Naming the first such column and up to three of its values.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import check_values, make_columns
    >>> columns = make_columns().fit(pd.DataFrame({"dose": ["1.5", "2", "", "4"]}))
    >>> check_values(columns, pd.DataFrame({"dose": [" ", "3", None, "N/A"]}))
    >>> check_values(columns, pd.DataFrame({"dose": ["3", "high", "low", "high"]}))
    Traceback (most recent call last):
    ...
    ValueError: column 'dose' of the data has values that are not numbers ('high', 'low'), ...
    """
    vectorizer = columns[0]
    for name, kind in column_kinds(columns).items():
        if kind not in _PARSED:
            continue
        # The steps before the encoder clean the column, then parse it: what was there
        # before the parsing and is missing after it, the parsing could not read.
        steps = vectorizer.all_processing_steps_[name]
        values = X[name]
        for step in steps[:steps.index(vectorizer.transformers_[name])]:
            given, values = values, step.transform(values)
        lost = given[values.isna().to_numpy() & given.notna().to_numpy()]
        if len(lost):
            examples = ", ".join(map(repr, lost.astype(str).unique()[:3]))
            raise ValueError(f"column {name!r} of {path} has values that are not "
                             f"{_PARSED[kind]} ({examples}), but {_PARSED[kind]} in the "
                             "training data.")


def fit_pipeline(classifier, columns, X, y, X_val=None, y_val=None, val_path="the validation data"):
    """Fit the steps that turn the columns of ``X`` into features, then the classifier.

    The validation set, when given, goes through the steps fitted on ``X``
    and on to ``classifier.fit`` as ``X_val, y_val``, which a
    :class:`~sklearn.pipeline.Pipeline` cannot route in a single ``fit``.

    Parameters
    ----------
    classifier : SelMixClassifier
        Unfitted; fitted in place.
    columns : sklearn.pipeline.Pipeline
        Unfitted, as :func:`make_columns` returns it; fitted in place.
    X : pandas.DataFrame
        The feature columns.
    y : array-like of shape (n_samples,)
    X_val : pandas.DataFrame, default=None
        The same columns as ``X``.
    y_val : array-like, default=None
    val_path : str or path-like, default="the validation data"
        The validation file's name, for error messages.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"columns"`` and ``"classifier"``.

    Raises
    ------
    ValueError
        When ``X_val`` has a value that is not a number or a date where
        ``X`` had them (:func:`check_values`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from selmix_sk import SelMixClassifier
    >>> from selmix_sk._tabular import fit_pipeline, make_columns
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> X["colour"] = ["red", "blue"] * 75
    >>> clf = SelMixClassifier(finetune_steps=20, pretrain_epochs=10, random_state=0)
    >>> pipeline = fit_pipeline(clf, make_columns(), X, y)
    >>> pipeline.predict(X.head(2)).shape
    (2,)
    """
    features = columns.fit_transform(X)
    validation = {}
    if X_val is not None:
        check_values(columns, X_val, val_path)
        validation = {"X_val": columns.transform(X_val), "y_val": y_val}
    classifier.fit(features, y, **validation)
    return Pipeline([("columns", columns), ("classifier", classifier)])


def save_model(path, pipeline, *, target, objective, constraints):
    """Write a fitted pipeline and its header to a joblib file.

    The file holds one dict: ``format`` (:data:`FORMAT`), ``format_version``,
    ``selmix_sk_version``, ``target``, ``features`` (every column of the
    table and its kind, as :func:`column_kinds` gives them), ``classes``,
    ``objective``, ``constraints`` and ``pipeline``.

    Parameters
    ----------
    path : str or path-like
    pipeline : sklearn.pipeline.Pipeline
        Fitted: steps ``"columns"`` (as :func:`make_columns` returns it) and
        ``"classifier"``.
    target : str
        Name of the label column.
    objective : str
        The objective's name.
    constraints : dict or None

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import Pipeline
    >>> from selmix_sk._tabular import load_model, make_columns, save_model
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0], "day": ["2024-05-01", "2024-05-02", None]})
    >>> pipeline = Pipeline([("columns", make_columns()), ("classifier", DummyClassifier())])
    >>> pipeline.fit(X, ["a", "b", "b"])
    Pipeline(...)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> save_model(path, pipeline, target="label", objective="min_recall", constraints=None)
    >>> model = load_model(path)
    >>> model["features"], model["classes"]
    ({'x': 'numeric', 'day': 'datetime'}, ['a', 'b'])
    """
    header = {
        "format": FORMAT,
        "format_version": _FORMAT_VERSION,
        "selmix_sk_version": __version__,
        "target": target,
        "features": column_kinds(pipeline.named_steps["columns"]),
        "classes": pipeline.classes_.tolist(),
        "objective": objective,
        "constraints": constraints,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({**header, "pipeline": pipeline}, path)


def load_model(path):
    """Read a file that :func:`save_model` wrote; refuse anything else.

    Loading unpickles the file, which can run code: load only model files
    from a source you trust, as with any pickle.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : dict
        The header entries and ``pipeline``.

    Raises
    ------
    ValueError
        When the file is missing, is not a joblib file, or holds something
        other than a model of this format.
    ImportError
        When skrub, which the model's first steps need, is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> import joblib
    >>> from selmix_sk._tabular import load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "other.joblib")
    >>> _ = joblib.dump({"weights": [1, 2]}, path)
    >>> load_model(path)
    Traceback (most recent call last):
    ...
    ValueError: ...other.joblib is not a model file written by `selmix-sk fit`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    not_a_model = ValueError(f"{path} is not a model file written by `selmix-sk fit`.")
    try:
        model = joblib.load(path)
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] == "skrub":
            raise ImportError(_NEEDS_SKRUB) from None
        raise not_a_model from None
    except Exception:  # unpickling arbitrary bytes fails in many ways, all meaning the same
        raise not_a_model from None
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        raise not_a_model
    if model.get("format_version", 0) > _FORMAT_VERSION:
        raise ValueError(f"{path} was written by selmix-sk {model.get('selmix_sk_version')}, "
                         f"newer than this {__version__}; upgrade selmix-sk to read it.")
    if not isinstance(model.get("pipeline"), Pipeline):
        raise not_a_model
    return model


def model_inputs(model, frame, path="the data"):
    """The feature columns of ``frame`` for a model that :func:`load_model` read.

    Parameters
    ----------
    model : dict
        As :func:`load_model` returns it.
    frame : pandas.DataFrame
    path : str or path-like, default="the data"
        The file's name, for error messages.

    Returns
    -------
    X : pandas.DataFrame
        The feature columns, in the order of training.

    Raises
    ------
    ValueError
        When a feature column is missing (:func:`feature_frame`) or holds a
        value that is not a number or a date where the training data had
        them (:func:`check_values`).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import Pipeline
    >>> from selmix_sk._tabular import load_model, make_columns, model_inputs, save_model
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> pipeline = Pipeline([("columns", make_columns()), ("classifier", DummyClassifier())])
    >>> pipeline.fit(X, ["a", "b", "b"])
    Pipeline(...)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> save_model(path, pipeline, target="label", objective="min_recall", constraints=None)
    >>> model_inputs(load_model(path), pd.DataFrame({"label": ["a"], "x": ["7"]})).shape
    (1, 1)
    """
    X = feature_frame(frame, model["features"], path)
    # Version 1 typed the columns with pandas; its transformer refuses strings in numbers.
    if model.get("format_version", 1) >= 2:
        check_values(model["pipeline"].named_steps["columns"], X, path)
    return X
