"""Tables: how skrub types each kind of column for the command line, and skrub's
tabular_pipeline in front of SelMixClassifier."""

import numpy as np
import pandas as pd
import pytest
import skrub

from selmix_sk import SelMixClassifier
from selmix_sk._tabular import check_values, column_kinds, make_columns, read_table
from selmix_sk.benchmark import limit_threads

N = 400
WORDS = np.array("the patient reports mild pain after surgery and fever at night".split())


def _table():
    rng = np.random.RandomState(0)
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 366, N), unit="D")
    seen_at = day + pd.to_timedelta(rng.randint(0, 86400, N), unit="s")
    amount = rng.uniform(0, 100, N).round(2).astype(str).astype(object)
    amount[::25] = " "  # a blank that pandas keeps, so that the column stays text
    return pd.DataFrame({
        "day": day.strftime("%Y-%m-%d"),
        "seen_at": seen_at.strftime("%Y-%m-%d %H:%M:%S"),
        "customer": [f"C{i:04d}" for i in rng.permutation(np.arange(N) % 200)],
        "amount": amount,
        "notes": [" ".join(rng.choice(WORDS, 6)) for _ in range(N)],
        "member": rng.rand(N) < 0.5,
        "country": "NO",
    })


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """The table as a user's CSV file reads back, and the columns step fitted on it."""
    path = tmp_path_factory.mktemp("kinds") / "kinds.csv"
    _table().to_csv(path, index=False)
    X = read_table(path)
    return X, make_columns().fit(X)


@pytest.mark.parametrize(("column", "kind", "outputs"), [
    ("day", "datetime", ["day_year", "day_month", "day_day", "day_total_seconds",
                         "day_weekday"]),
    ("seen_at", "datetime", ["seen_at_year", "seen_at_month", "seen_at_day", "seen_at_hour",
                             "seen_at_total_seconds", "seen_at_weekday"]),
    ("customer", "high_cardinality", [f"customer_{i:02d}" for i in range(30)]),
    ("amount", "numeric", ["amount"]),
    ("notes", "high_cardinality", [f"notes_{i:02d}" for i in range(30)]),
    ("member", "numeric", ["member"]),
    ("country", "dropped", []),
])
def test_each_kind_of_column_is_typed_as_a_user_expects(typed, column, kind, outputs):
    _, columns = typed
    assert column_kinds(columns)[column] == kind
    produced = columns.named_steps["tablevectorizer"].get_feature_names_out().tolist()
    assert [name for name in produced if name.startswith(f"{column}_") or name == column] \
        == outputs


def test_the_table_was_text_where_it_matters(typed):
    # Otherwise the kinds above would test pandas, not skrub.
    X, _ = typed
    for column in ("day", "seen_at", "amount"):
        assert not pd.api.types.is_numeric_dtype(X[column])
        assert not pd.api.types.is_datetime64_any_dtype(X[column])
    assert X["customer"].nunique() == 200


def test_dates_and_numbers_in_text_are_read_as_such(typed):
    X, columns = typed
    vectorized = columns.named_steps["tablevectorizer"].transform(X)
    seen_at = pd.to_datetime(X["seen_at"])
    np.testing.assert_array_equal(vectorized["seen_at_hour"], seen_at.dt.hour)
    np.testing.assert_array_equal(vectorized["seen_at_weekday"], seen_at.dt.day_of_week + 1)
    np.testing.assert_array_equal(vectorized["day_month"], pd.to_datetime(X["day"]).dt.month)
    blank = np.arange(N) % 25 == 0
    assert vectorized["amount"].isna().to_numpy().tolist() == blank.tolist()
    np.testing.assert_allclose(vectorized["amount"][~blank],
                               X["amount"][~blank].astype(float), rtol=1e-6)
    np.testing.assert_array_equal(vectorized["member"], X["member"].astype(float))


def test_the_features_are_dense_finite_and_squashed(typed):
    X, columns = typed
    features = columns.transform(X)
    # 5 + 6 date features, 30 + 30 from the strings, amount, member, amount's indicator.
    assert isinstance(features, np.ndarray) and features.shape == (N, 74)
    assert np.isfinite(features).all() and np.abs(features).max() <= 5


def test_check_values_names_a_column_of_dates_with_other_values(typed):
    X, columns = typed
    check_values(columns, X.assign(amount="", day=None))  # missing values are fine
    with pytest.raises(ValueError, match=r"column 'day' of new.csv has values that are not "
                                         r"dates \('soon'\), but dates in the training data"):
        check_values(columns, X.assign(day=X["day"].where(X.index != 3, "soon")), "new.csv")


def test_tabular_pipeline_puts_selmix_after_skrubs_steps():
    X = _table().drop(columns=["customer", "notes", "country"])
    # A label that only the parsed date and number give away.
    y = np.where(pd.to_datetime(X["day"]).dt.month <= 3, "winter",
                 np.where(pd.to_numeric(X["amount"], errors="coerce") > 80, "big", "other"))
    model = skrub.tabular_pipeline(
        SelMixClassifier(pretrain_epochs=30, finetune_steps=20, cv=0.25, random_state=0))
    assert [name for name, _ in model.steps] == [
        "tablevectorizer", "simpleimputer", "squashingscaler", "selmixclassifier"]
    with limit_threads(1):
        model.fit(X, y)
    assert model.classes_.tolist() == ["big", "other", "winter"]
    assert model.named_steps["tablevectorizer"].column_to_kind_ == {
        "amount": "numeric", "member": "numeric", "day": "datetime", "seen_at": "datetime"}
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert model.score(X, y) >= 0.9
