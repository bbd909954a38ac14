"""Data files for the command line: reading them, typing their columns, the model file.

``selmix-sk fit`` reads a CSV or parquet file, types each column with pandas
(:func:`column_kinds`), turns the columns into numbers with a
:class:`~sklearn.compose.ColumnTransformer` (:func:`make_column_transformer`)
and saves the transformer and the fitted :class:`~selmix_sk.SelMixClassifier`
as one :class:`~sklearn.pipeline.Pipeline` in a joblib file with a header
(:func:`save_model`). ``predict`` and ``evaluate`` read that file back with
:func:`load_model`, which refuses any other file, and take the feature
columns out of new data with :func:`feature_frame`. What the commands print
and draw is in :mod:`selmix_sk._report`.

Every problem with the user's files raises a ValueError whose message is one
line that names the file or the column, so that the command line can print
it as it is.
"""

import re
from pathlib import Path

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from . import __version__

__all__ = [
    "FORMAT",
    "column_kinds",
    "feature_frame",
    "fit_pipeline",
    "load_model",
    "make_column_transformer",
    "read_table",
    "save_model",
    "split_target",
]

#: The ``format`` entry of a model file's header.
FORMAT = "selmix-sk model"
# Raised when the header or the pipeline changes in a way that older readers would misread.
_FORMAT_VERSION = 1
_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
# A string column with at most this many distinct values is categorical. Above it, a
# column of sentences is text; one of short codes (identifiers, postcodes) stays
# categorical, its rarer values pooled by the one-hot encoder.
MAX_CATEGORIES = 30
# Median words per value from which a many-valued string column is free text.
_TEXT_MIN_WORDS = 3
# TF-IDF terms kept per text column: enough for the frequent words, few enough that
# the network's input stays small.
TEXT_FEATURES = 100
_MISSING = "<missing>"


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


def column_kinds(frame):
    """How each column becomes numbers: ``"numeric"``, ``"categorical"`` or ``"text"``.

    - numbers (not booleans) are numeric;
    - booleans, pandas categoricals, and string columns with at most
      ``MAX_CATEGORIES`` distinct values are categorical;
    - string columns with more distinct values are text when the median
      value has at least 3 words, categorical otherwise (codes, identifiers).

    Parameters
    ----------
    frame : pandas.DataFrame
        The feature columns.

    Returns
    -------
    kinds : dict
        Column name to kind, in the order of the columns.

    Raises
    ------
    ValueError
        For a column of another type (dates, durations, complex numbers) or
        with no values at all.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import column_kinds
    >>> frame = pd.DataFrame({
    ...     "age": [31, 45, 27, 60] * 10,
    ...     "smoker": [True, False, False, True] * 10,
    ...     "city": ["Oslo", "Lima", "Oslo", "Pune"] * 10,
    ...     "notes": [f"patient {i} reports mild pain" for i in range(40)],
    ... })
    >>> column_kinds(frame)
    {'age': 'numeric', 'smoker': 'categorical', 'city': 'categorical', 'notes': 'text'}
    """
    kinds = {}
    for name, column in frame.items():
        values = column.dropna()
        if values.empty:
            raise ValueError(f"column {name!r} has no values; drop it.")
        if pd.api.types.is_bool_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
            kinds[name] = "categorical"
        elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
            kinds[name] = "numeric"
        elif pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column):
            strings = values.astype(str)
            many = strings.nunique() > MAX_CATEGORIES
            words = strings.str.split().str.len().median()
            kinds[name] = "text" if many and words >= _TEXT_MIN_WORDS else "categorical"
        else:
            raise ValueError(f"column {name!r} has type {column.dtype}, which selmix-sk cannot "
                             "use; convert it to numbers or strings, or drop it.")
    return kinds


def _as_categories(frame):
    """Every value as a string, missing ones as a category of their own."""
    return frame.astype(object).where(frame.notna(), _MISSING).astype(str)


def _as_text(column):
    return column.fillna("").astype(str)


def make_column_transformer(kinds):
    """The transformer that turns typed columns into a dense float matrix.

    Numeric columns pass through, missing values replaced by the column's
    median; categorical columns are one-hot encoded (missing values are a
    category; at most ``MAX_CATEGORIES`` per column, rarer ones pooled;
    categories unseen in training encode as zeros); each text column becomes
    the TF-IDF weights of its ``TEXT_FEATURES`` most frequent words. The output
    is dense, as the default network takes it.

    Parameters
    ----------
    kinds : dict
        Column name to ``"numeric"``, ``"categorical"`` or ``"text"``, as
        :func:`column_kinds` returns.

    Returns
    -------
    transformer : sklearn.compose.ColumnTransformer
        Unfitted.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import column_kinds, make_column_transformer
    >>> frame = pd.DataFrame({"age": [31.0, None, 27.0], "city": ["Oslo", "Lima", None]})
    >>> transformer = make_column_transformer(column_kinds(frame))
    >>> transformer.fit_transform(frame)
    array([[31., 0., 0., 1.],
           [29., 0., 1., 0.],
           [27., 1., 0., 0.]])
    >>> transformer.get_feature_names_out().tolist()
    ['numeric__age', 'categorical__city_<missing>', 'categorical__city_Lima',
     'categorical__city_Oslo']
    """
    by_kind = {kind: [name for name, k in kinds.items() if k == kind]
               for kind in ("numeric", "categorical", "text")}
    transformers = []
    if by_kind["numeric"]:
        transformers.append((
            "numeric", SimpleImputer(strategy="median", keep_empty_features=True),
            by_kind["numeric"],
        ))
    if by_kind["categorical"]:
        transformers.append((
            "categorical",
            make_pipeline(
                FunctionTransformer(_as_categories, feature_names_out="one-to-one"),
                OneHotEncoder(handle_unknown="ignore", max_categories=MAX_CATEGORIES),
            ),
            by_kind["categorical"],
        ))
    for name in by_kind["text"]:
        # A column name, not a list: the vectoriser takes one string per row.
        transformers.append((
            "text_" + re.sub(r"\W+", "_", name),
            make_pipeline(
                FunctionTransformer(_as_text, feature_names_out="one-to-one"),
                TfidfVectorizer(max_features=TEXT_FEATURES),
            ),
            name,
        ))
    return ColumnTransformer(transformers, sparse_threshold=0)


def save_model(path, pipeline, *, target, kinds, objective, constraints):
    """Write a fitted pipeline and its header to a joblib file.

    The file holds one dict: ``format`` (:data:`FORMAT`), ``format_version``,
    ``selmix_sk_version``, ``target``, ``features`` (column name to kind),
    ``classes``, ``objective``, ``constraints`` and ``pipeline``.

    Parameters
    ----------
    path : str or path-like
    pipeline : sklearn.pipeline.Pipeline
        Fitted: the column transformer, then the classifier.
    target : str
        Name of the label column.
    kinds : dict
        Column name to kind, as :func:`column_kinds` returns.
    objective : str
        The objective's name.
    constraints : dict or None

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from selmix_sk._tabular import (column_kinds, load_model, make_column_transformer,
    ...                                 save_model)
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> kinds = column_kinds(X)
    >>> pipeline = make_pipeline(make_column_transformer(kinds), DummyClassifier())
    >>> pipeline.fit(X, ["a", "b", "b"])
    Pipeline(...)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> save_model(path, pipeline, target="label", kinds=kinds, objective="min_recall",
    ...            constraints=None)
    >>> load_model(path)["classes"]
    ['a', 'b']
    """
    header = {
        "format": FORMAT,
        "format_version": _FORMAT_VERSION,
        "selmix_sk_version": __version__,
        "target": target,
        "features": dict(kinds),
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


def feature_frame(frame, features, path="the data"):
    """The feature columns of ``frame``, in the order of training.

    Other columns, the target among them, are left out. A column typed
    numeric in training must still hold numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
    features : dict
        Column name to kind, as :func:`column_kinds` returns and a model
        file's header keeps.
    path : str or path-like, default="the data"
        The file's name, for error messages.

    Returns
    -------
    X : pandas.DataFrame

    Raises
    ------
    ValueError
        When a feature column is missing, or a numeric one holds strings.

    Examples
    --------
    >>> import pandas as pd
    >>> from selmix_sk._tabular import feature_frame
    >>> features = {"x": "numeric", "city": "categorical"}
    >>> frame = pd.DataFrame({"id": [7], "city": ["Oslo"], "x": [1.5]})
    >>> list(feature_frame(frame, features).columns)
    ['x', 'city']
    >>> feature_frame(frame.drop(columns="x"), features)
    Traceback (most recent call last):
    ...
    ValueError: the data lacks the feature column(s) 'x' of the training data.
    """
    missing = [name for name in features if name not in frame.columns]
    if missing:
        named = ", ".join(map(repr, missing[:5]))
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(f"{path} lacks the feature column(s) {named}{more} of the training "
                         "data.")
    X = frame[list(features)]
    for name, kind in features.items():
        if kind == "numeric" and not (pd.api.types.is_numeric_dtype(X[name])
                                      and not pd.api.types.is_bool_dtype(X[name])):
            raise ValueError(f"column {name!r} of {path} has type {X[name].dtype}, but numbers "
                             "in the training data.")
    return X



def fit_pipeline(classifier, X, y, kinds, X_val=None, y_val=None):
    """Fit the transformer of the columns of ``X``, then the classifier.

    The validation set, when given, goes through the transformer fitted on
    ``X`` and on to ``classifier.fit`` as ``X_val, y_val``, which a
    :class:`~sklearn.pipeline.Pipeline` cannot route in a single ``fit``.

    Parameters
    ----------
    classifier : SelMixClassifier
        Unfitted; fitted in place.
    X : pandas.DataFrame
        The feature columns.
    y : array-like of shape (n_samples,)
    kinds : dict
        Column name to kind, as :func:`column_kinds` returns.
    X_val : pandas.DataFrame, default=None
        The same columns as ``X``.
    y_val : array-like, default=None

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"columns"`` (the fitted ColumnTransformer) and
        ``"classifier"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_iris
    >>> from selmix_sk import SelMixClassifier
    >>> from selmix_sk._tabular import column_kinds, fit_pipeline
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> X["colour"] = ["red", "blue"] * 75
    >>> clf = SelMixClassifier(finetune_steps=20, pretrain_epochs=10, random_state=0)
    >>> pipeline = fit_pipeline(clf, X, y, column_kinds(X))
    >>> pipeline.predict(X.head(2)).shape
    (2,)
    """
    columns = make_column_transformer(kinds)
    features = columns.fit_transform(X)
    validation = {} if X_val is None else {"X_val": columns.transform(X_val), "y_val": y_val}
    classifier.fit(features, y, **validation)
    return Pipeline([("columns", columns), ("classifier", classifier)])
