import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.dummy import DummyClassifier
from sklearn.metrics import precision_score, recall_score
from sklearn.pipeline import Pipeline

from selmix_sk import SelMixClassifier
from selmix_sk._cli import main
from selmix_sk.benchmark import limit_threads
from selmix_sk.metrics import coverage_score, min_recall_score

TINY = ["--steps", "6", "--pretrain-epochs", "2"]


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny networks: threads contending for two cores make them many times slower.
    with limit_threads(1):
        yield


def test_demo_writes_table_csv_and_plot(tmp_path, capsys):
    assert main(["demo", "--output", str(tmp_path), "--seed", "1", "--quiet", *TINY]) == 0
    out = capsys.readouterr().out
    for method in ("pre-trained, fit(X, y)", "SelMix, fit(X, y)", "uniform mixup", "SelMix"):
        assert method in out
    assert "min_recall" in out and "hmean_recall" in out
    table = pd.read_csv(tmp_path / "demo.csv")
    assert table.columns.tolist() == ["method", "mean_recall", "min_recall", "hmean_recall",
                                      "fit_seconds"]
    assert table[["mean_recall", "min_recall", "hmean_recall"]].stack().between(0, 1).all()
    assert (tmp_path / "demo.png").read_bytes().startswith(b"\x89PNG")


def test_demo_writes_to_the_default_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--quiet", "--steps", "0", "--pretrain-epochs", "1"]) == 0
    assert (tmp_path / "selmix_sk_output" / "demo.png").exists()
    assert "selmix_sk_output" in capsys.readouterr().out


def test_benchmark_quality_suite_from_the_command_line(tmp_path, capsys):
    # Two processes (the default), as a user runs it: the workers must get their tasks.
    args = ["benchmark", "--suite", "quality", "--datasets", "wine", "--seeds", "2",
            "--objectives", "min_recall", "--output", str(tmp_path), *TINY]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"Report: {tmp_path / 'report.md'}" in captured.out
    assert "quality: wine seed 1 done" in captured.err
    report = (tmp_path / "report.md").read_text()
    assert "- command: `selmix-sk benchmark --suite quality --datasets wine" in report
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs["dataset"].unique().tolist() == ["wine"]
    assert runs["seed"].unique().tolist() == [0, 1]


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["benchmark", "--help"],
                                  ["fit", "--help"], ["predict", "--help"],
                                  ["evaluate", "--help"], ["--version"]])
def test_help_and_version_exit_0(args, capsys):
    assert main(args) == 0
    assert "selmix-sk" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["train"],
        ["demo", "--steps", "-1"],
        ["demo", "--steps", "many"],
        ["demo", "--imbalance", "0.5"],
        ["demo", "--pretrain-epochs", "0"],
        ["benchmark", "--suite", "fast"],
        ["benchmark", "--seeds", "0"],
        ["benchmark", "--n-jobs", "0"],
        ["benchmark", "--datasets", "mnist"],
        ["benchmark", "--objectives", "accuracy"],
        ["fit", "train.csv", "--output", "model.joblib"],
        ["fit", "train.csv", "--target", "label"],
        ["fit", "train.csv", "--target", "label", "--output", "m.joblib", "--param", "steps"],
        ["fit", "train.csv", "--target", "label", "--output", "m.joblib", "--constraint",
         "min_recall=high"],
        ["predict", "model.joblib", "data.csv"],
        ["evaluate", "model.joblib"],
    ],
)
def test_bad_arguments_exit_2(args, capsys):
    assert main(args) == 2
    assert "usage: selmix-sk" in capsys.readouterr().err



# Data files: wine with a categorical, a free-text and a date column, labels as strings.
TARGET = "cultivar"
# 13 numbers and whether alcohol is missing, 3 regions and a missing one, 30 numbers of
# skrub's StringEncoder for the notes, and the year, month, day, weekday and seconds since
# 1970 of the bottling date.
N_FEATURES = 13 + 1 + 4 + 30 + 5
FIT_TINY = ["--param", "pretrain_epochs=5", "--param", "finetune_steps=20", "--quiet"]


def _wine_table():
    X, y = load_wine(return_X_y=True, as_frame=True)
    rng = np.random.RandomState(0)
    table = X.copy()
    table["region"] = rng.choice(["north", "south", "east"], len(table))
    table.loc[::7, "region"] = None
    # Tasting notes: four words, half of them drawn from a cultivar's own three, and a lot
    # number that makes every note distinct.
    words = np.array(["dry", "fruity", "oak", "tannic", "smooth", "berry", "spicy", "crisp",
                      "bright"])
    table["notes"] = [
        " ".join(np.concatenate([rng.choice(words[3 * c:3 * c + 3], 2), rng.choice(words, 2)]))
        + f" lot {i}" for i, c in enumerate(y)
    ]
    table.loc[::5, "alcohol"] = np.nan
    table["bottled"] = (pd.Timestamp("2015-01-01")
                        + pd.to_timedelta(rng.randint(0, 2000, len(table)), unit="D")
                        ).strftime("%Y-%m-%d")
    table[TARGET] = np.array(["barolo", "grignolino", "barbera"])[y]
    return table


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    table = _wine_table()
    order = np.random.RandomState(1).permutation(len(table))
    train, valid, test = np.array_split(order, [100, 140])
    paths = {"folder": folder, "train": folder / "train.csv",
             "train_parquet": folder / "train.parquet", "valid": folder / "valid.csv",
             "test": folder / "test.parquet", "test_csv": folder / "test.csv"}
    table.iloc[train].to_csv(paths["train"], index=False)
    table.iloc[train].to_parquet(paths["train_parquet"])
    table.iloc[valid].to_csv(paths["valid"], index=False)
    table.iloc[test].to_parquet(paths["test"])
    table.iloc[test].to_csv(paths["test_csv"], index=False)
    return paths


@pytest.fixture(scope="module")
def model(files):
    path = files["folder"] / "model.joblib"
    with limit_threads(1):
        status = main(["fit", str(files["train"]), "--target", TARGET, "--output", str(path),
                       *FIT_TINY])
    assert status == 0
    return path


def test_fit_saves_the_pipeline_with_its_header(model):
    saved = joblib.load(model)
    assert saved["format"] == "selmix-sk model"
    assert saved["target"] == TARGET
    assert saved["classes"] == ["barbera", "barolo", "grignolino"]
    assert saved["objective"] == "min_recall" and saved["constraints"] is None
    features = saved["features"]
    assert list(features)[:2] == ["alcohol", "malic_acid"] and TARGET not in features
    assert features["alcohol"] == "numeric"
    assert features["region"] == "low_cardinality"
    assert features["notes"] == "high_cardinality"
    assert features["bottled"] == "datetime"
    columns, classifier = saved["pipeline"].named_steps.values()
    assert type(columns[0]).__name__ == "TableVectorizer"
    assert isinstance(classifier, SelMixClassifier)
    assert classifier.pretrain_epochs == 5 and classifier.finetune_steps == 20
    assert classifier.random_state == 0 and classifier.verbose == 0
    assert classifier.n_features_in_ == N_FEATURES


def test_fit_reads_dates_in_strings_as_a_handful_of_features(tmp_path, capsys):
    # The table of issue 25: pandas typing one-hot encoded its 204 dates into 30 columns.
    rng = np.random.RandomState(0)
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.randint(0, 365, 300), unit="D")
    table = pd.DataFrame({"date": day.strftime("%Y-%m-%d"),
                          "colour": rng.choice(["red", "green", "blue"], 300),
                          "size": rng.normal(10, 3, 300).round(2)})
    table["label"] = np.where(table["size"] > 12, "big",
                              np.where(day.month < 4, "early", "other"))
    data, path = tmp_path / "dates.csv", tmp_path / "dates.joblib"
    table.to_csv(data, index=False)
    assert main(["fit", str(data), "--target", "label", "--output", str(path), *FIT_TINY]) == 0
    assert (f"Read 300 rows of {data}: 3 classes, 3 columns (1 numeric, 1 datetime, "
            "1 low_cardinality) -> 9 features.") in capsys.readouterr().out
    saved = joblib.load(path)
    assert saved["features"] == {"date": "datetime", "colour": "low_cardinality",
                                 "size": "numeric"}
    assert saved["pipeline"].named_steps["columns"].get_feature_names_out().tolist() == [
        "date_year", "date_month", "date_day", "date_total_seconds", "date_weekday",
        "colour_blue", "colour_green", "colour_red", "size"]


def test_fit_parquet_with_validation_file_constraint_and_params(files, capsys):
    path = files["folder"] / "constrained.joblib"
    status = main(["fit", str(files["train_parquet"]), "--target", TARGET,
                   "--validation", str(files["valid"]), "--objective", "hmean",
                   "--constraint", "min_coverage=0.5", "--param", "selection=uniform",
                   "--param", "refresh_every=5", "--param", "tune_offsets=False",
                   "--param", "pretrain_epochs=5",
                   "--param", "finetune_steps=20", "--output", str(path)])
    assert status == 0
    captured = capsys.readouterr()
    assert (f"Read 100 rows of {files['train_parquet']}: 3 classes, 16 columns (13 numeric, "
            f"1 datetime, 1 low_cardinality, 1 high_cardinality) -> {N_FEATURES} features."
            ) in captured.out
    assert "SelMix" in captured.err  # the progress bar, without --quiet
    saved = joblib.load(path)
    assert saved["objective"] == "hmean" and saved["constraints"] == {"min_coverage": 0.5}
    classifier = saved["pipeline"].named_steps["classifier"]
    assert classifier.selection == "uniform" and classifier.refresh_every == 5
    assert classifier.tune_offsets is False
    assert classifier.constraints == {"min_coverage": 0.5}
    # A refresh every 5 steps, each scored on the validation file: every recall is a whole
    # number of that file's samples of the class.
    history = classifier.history_
    assert history["step"].tolist() == [0, 5, 10, 15, 20]
    counts = pd.read_csv(files["valid"])[TARGET].value_counts()
    for label in saved["classes"]:
        hits = history[f"recall_{label}"] * counts[label]
        np.testing.assert_allclose(hits, hits.round(), atol=1e-9)
    # The summary: the kept refresh, and its objective on the 40 rows of the validation
    # file, 11 of them of its smallest class.
    kept = int(np.flatnonzero(history["selected"])[0])
    assert counts.sum() == 40 and counts.min() == 11
    assert counts.idxmin() == "barbera"
    assert (f"Held-out hmean {history['objective'].iloc[kept]:.3f} on the 40 samples of "
            f"{files['valid']}, 11 in the smallest class (barbera).") in captured.out
    kept_line = ("Kept: the pre-trained network; fine-tuning (4 refreshes) did not beat it"
                 if kept == 0 else f"Kept: fine-tuned weights (refresh {kept} of 4, step "
                                   f"{history['step'].iloc[kept]}, blended with the pre-trained "
                                   "network).")
    assert kept_line in " ".join(captured.out.split())


def test_predict_writes_one_class_per_row(model, files, capsys):
    out = files["folder"] / "predictions" / "classes.csv"
    assert main(["predict", str(model), str(files["test"]), "--output", str(out)]) == 0
    assert f"Wrote 38 rows to {out}" in capsys.readouterr().out
    predictions = pd.read_csv(out)
    assert predictions.columns.tolist() == [TARGET]
    test = pd.read_parquet(files["test"])
    expected = joblib.load(model)["pipeline"].predict(test.drop(columns=TARGET))
    assert predictions[TARGET].tolist() == expected.tolist()


def test_predict_proba_has_a_column_per_class(model, files):
    out = files["folder"] / "proba.csv"
    assert main(["predict", str(model), str(files["test_csv"]), "--output", str(out),
                 "--proba"]) == 0
    proba = pd.read_csv(out)
    assert proba.columns.tolist() == ["barbera", "barolo", "grignolino"]
    assert len(proba) == 38
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    classes_out = files["folder"] / "classes_for_proba.csv"
    assert main(["predict", str(model), str(files["test_csv"]), "--output",
                 str(classes_out)]) == 0
    argmax = proba.columns[proba.to_numpy().argmax(axis=1)]
    assert argmax.tolist() == pd.read_csv(classes_out)[TARGET].tolist()


def test_predict_ignores_the_target_and_extra_columns(model, files):
    test = pd.read_csv(files["test_csv"])
    bare = files["folder"] / "bare.csv"
    # Columns shuffled, the target dropped, an identifier added.
    test.drop(columns=TARGET).iloc[:, ::-1].assign(row_id=range(len(test))).to_csv(
        bare, index=False)
    with_target, without = files["folder"] / "a.csv", files["folder"] / "b.csv"
    assert main(["predict", str(model), str(files["test_csv"]), "--output",
                 str(with_target)]) == 0
    assert main(["predict", str(model), str(bare), "--output", str(without)]) == 0
    assert pd.read_csv(with_target).equals(pd.read_csv(without))


def test_evaluate_prints_per_class_metrics_writes_them_and_plots(model, files, capsys):
    png = files["folder"] / "plots" / "confusion.png"
    table = files["folder"] / "tables" / "per_class.csv"
    assert main(["evaluate", str(model), str(files["test"]), "--target", TARGET,
                 "--plot", str(png), "--output", str(table)]) == 0
    lines = capsys.readouterr().out.splitlines()
    test = pd.read_parquet(files["test"])
    y_pred = joblib.load(model)["pipeline"].predict(test.drop(columns=TARGET))
    y_true = test[TARGET].to_numpy()
    classes = ["barbera", "barolo", "grignolino"]
    header = lines.index(next(line for line in lines if line.split()[:1] == ["class"]))
    assert lines[header].split() == ["class", "support", "precision", "recall", "coverage"]
    rows = [line.split() for line in lines[header + 1:header + 4]]
    assert [row[0] for row in rows] == classes
    assert [int(row[1]) for row in rows] == [int((y_true == c).sum()) for c in classes]
    for column, expected in (
        (2, precision_score(y_true, y_pred, labels=classes, average=None, zero_division=0)),
        (3, recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0)),
        (4, coverage_score(y_true, y_pred, labels=classes, average=None)),
    ):
        np.testing.assert_allclose([float(row[column]) for row in rows], expected, atol=5e-4)
    objective = next(line for line in lines if line.startswith("objective min_recall:"))
    assert float(objective.split()[-1]) == pytest.approx(min_recall_score(y_true, y_pred),
                                                         abs=5e-5)
    assert png.read_bytes().startswith(b"\x89PNG")
    # The CSV file holds the printed table, unrounded.
    written = pd.read_csv(table)
    assert written.columns.tolist() == ["class", "support", "precision", "recall", "coverage"]
    assert written["class"].tolist() == classes
    assert written["support"].tolist() == [int(row[1]) for row in rows]
    np.testing.assert_allclose(
        written["recall"],
        recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0))
    assert f"Wrote {table}" in lines


def test_evaluate_reports_constraints_and_another_objective(files, capsys):
    path = files["folder"] / "coverage.joblib"
    assert main(["fit", str(files["train"]), "--target", TARGET, "--constraint",
                 "min_recall=0.99", "--output", str(path), *FIT_TINY]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), str(files["test_csv"]), "--objective",
                 "mean_recall"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[2:5]]
    recalls = [float(row[3]) for row in rows]
    mean = next(line for line in lines if line.startswith("objective mean_recall:"))
    assert float(mean.split()[-1]) == pytest.approx(np.mean(recalls), abs=1e-3)
    constraint = next(line for line in lines if line.startswith("constraint min_recall"))
    # The table rounds the recalls to 3 decimals, the verdict line to 4.
    worst, verdict = constraint.split("worst class ")[1].split(", ")
    assert float(worst) == pytest.approx(min(recalls), abs=1e-3)
    assert verdict == ("met" if float(worst) >= 0.99 else "NOT met")


def _write(folder, name, content):
    path = folder / name
    if isinstance(content, pd.DataFrame):
        if name.endswith(".parquet"):
            content.to_parquet(path)
        else:
            content.to_csv(path, index=False)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        joblib.dump(content, path)
    return str(path)


BAD_INPUT = {
    "missing target column": (
        lambda f, m: ["fit", str(f["train"]), "--target", "grape", "--output", "x.joblib"],
        "has no column 'grape'"),
    "unknown objective": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--objective", "best",
                      "--output", "x.joblib"],
        "Unknown objective 'best'"),
    "unknown constraint": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--constraint",
                      "max_recall=0.5", "--output", "x.joblib"],
        "max_recall"),
    "unknown parameter": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--param", "epochs=3",
                      "--output", "x.joblib"],
        ("unknown parameter 'epochs' in --param; valid: ", " finetune_steps, ",
         " pretrain_epochs, ")),
    "parameter with an option of its own": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--param", "objective=hmean",
                      "--output", "x.joblib"],
        "use --objective instead"),
    "invalid parameter value": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--param",
                      "pretrain_epochs=0", "--output", "x.joblib", "--quiet"],
        "pretrain_epochs must be in [1, inf]"),
    "missing file": (
        lambda f, m: ["fit", str(f["folder"] / "nowhere.csv"), "--target", TARGET, "--output",
                      "x.joblib"],
        "cannot read"),
    "other suffix": (
        lambda f, m: ["fit", str(f["folder"] / "train.xlsx"), "--target", TARGET, "--output",
                      "x.joblib"],
        "expected a .csv or .parquet file, got the suffix .xlsx"),
    "ragged CSV": (
        lambda f, m: ["fit", _write(f["folder"], "ragged.csv", b"a,cultivar\n1,x\n2,y,3,4\n"),
                      "--target", TARGET, "--output", "x.joblib"],
        "cannot read"),
    "empty CSV": (
        lambda f, m: ["fit", _write(f["folder"], "empty.csv", b""), "--target", TARGET,
                      "--output", "x.joblib"],
        "cannot read"),
    "malformed parquet": (
        lambda f, m: ["fit", _write(f["folder"], "bad.parquet", b"not parquet at all"),
                      "--target", TARGET, "--output", "x.joblib"],
        "cannot read"),
    "missing labels": (
        lambda f, m: ["fit", _write(f["folder"], "unlabelled.csv", pd.DataFrame(
                          {"x": [1.0, 2.0, 3.0], TARGET: ["a", None, "b"]})),
                      "--target", TARGET, "--output", "x.joblib"],
        "has 1 missing value(s)"),
    "validation file lacks a feature": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--validation",
                      _write(f["folder"], "narrow.csv",
                             pd.read_csv(f["valid"]).drop(columns="hue")),
                      "--output", "x.joblib"],
        "lacks the feature column(s) 'hue'"),
    "validation file without a class": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--validation",
                      _write(f["folder"], "two_classes.csv", pd.read_csv(f["valid"]).query(
                          f"{TARGET} != 'barolo'")),
                      "--output", "x.joblib", "--quiet"],
        "y_val has no sample of the classes"),
    "strings in a numeric column of the validation file": (
        lambda f, m: ["fit", str(f["train"]), "--target", TARGET, "--validation",
                      _write(f["folder"], "pale.csv", pd.read_csv(f["valid"]).assign(hue="pale")),
                      "--output", "x.joblib"],
        ("column 'hue' of", "has values that are not numbers ('pale'), but numbers in the "
                            "training data")),
    "model file of another program": (
        lambda f, m: ["predict", _write(f["folder"], "other.joblib", {"weights": [1, 2]}),
                      str(f["test"]), "--output", "x.csv"],
        "is not a model file written by `selmix-sk fit`"),
    "data file as a model": (
        lambda f, m: ["evaluate", str(f["train"]), str(f["test"])],
        "is not a model file written by `selmix-sk fit`"),
    "missing model": (
        lambda f, m: ["predict", str(f["folder"] / "none.joblib"), str(f["test"]), "--output",
                      "x.csv"],
        "no such file"),
    "missing feature columns": (
        lambda f, m: ["predict", str(m), _write(f["folder"], "few.csv", pd.read_csv(
                          f["test_csv"]).drop(columns=["notes", "proline"])),
                      "--output", "x.csv"],
        "lacks the feature column(s) 'proline', 'notes'"),
    "strings in a numeric column": (
        lambda f, m: ["predict", str(m), _write(f["folder"], "strings.csv", pd.read_csv(
                          f["test_csv"]).assign(hue="pale")), "--output", "x.csv"],
        "column 'hue' of"),
    "a value that is not a date in a date column": (
        lambda f, m: ["evaluate", str(m), _write(f["folder"], "when.csv", pd.read_csv(
                          f["test_csv"]).assign(bottled="last spring"))],
        "column 'bottled' of"),
    "evaluate without the target": (
        lambda f, m: ["evaluate", str(m), _write(f["folder"], "nolabel.csv", pd.read_csv(
                          f["test_csv"]).drop(columns=TARGET))],
        f"has no column '{TARGET}'"),
    "labels the model never saw": (
        lambda f, m: ["evaluate", str(m), _write(f["folder"], "nebbiolo.parquet", pd.read_csv(
                          f["test_csv"]).assign(**{TARGET: "nebbiolo"}))],
        "labels the model never saw: nebbiolo"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_one_line_and_exit_2(case, model, files, capsys, tmp_path,
                                            monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing is written, and if it were, not beside the data
    make_args, messages = BAD_INPUT[case]
    assert main(make_args(files, model)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("selmix-sk ")
    for message in [messages] if isinstance(messages, str) else messages:
        assert message in captured.err
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_exits_2_with_one_line(files, tmp_path):
    # What main() returns must become the exit status of the installed command.
    command = shutil.which("selmix-sk", path=str(Path(sys.executable).parent))
    assert command is not None, "selmix-sk is not installed beside this Python"
    done = subprocess.run([command, "predict", str(files["train"]), str(files["test"]),
                           "--output", str(tmp_path / "pred.csv")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"selmix-sk predict: {files['train']} is not a model file written by `selmix-sk fit`."
    ]
    assert not (tmp_path / "pred.csv").exists()


def test_parquet_without_pyarrow_exits_1_naming_the_extra(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    assert main(["fit", str(files["train_parquet"]), "--target", TARGET, "--output",
                 "x.joblib"]) == 1
    assert capsys.readouterr().err == (
        'selmix-sk: reading parquet files needs pyarrow: pip install "selmix-sk[parquet]"\n')


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_without_skrub_exits_1_naming_the_extra(command, model, files, monkeypatch, capsys,
                                                tmp_path):
    for name in [name for name in sys.modules if name.partition(".")[0] == "skrub"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing skrub now fails
    args = {"fit": ["fit", str(files["train"]), "--target", TARGET],
            "predict": ["predict", str(model), str(files["test_csv"])]}[command]
    assert main([*args, "--output", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == ('selmix-sk: typing the columns of a table needs skrub: '
                                       'pip install "selmix-sk[tabular]"\n')
    assert list(tmp_path.iterdir()) == []


def test_a_model_file_of_format_1_still_predicts(files, tmp_path):
    # Format 1 typed the columns with pandas, in a ColumnTransformer of its own.
    columns = ColumnTransformer([("numeric", "passthrough", ["hue"])])
    pipeline = Pipeline([("columns", columns), ("classifier", DummyClassifier())])
    pipeline.fit(pd.read_csv(files["train"]), pd.read_csv(files["train"])[TARGET])
    path = _write(tmp_path, "old.joblib", {
        "format": "selmix-sk model", "format_version": 1, "selmix_sk_version": "0.2.0",
        "target": TARGET, "features": {"hue": "numeric"},
        "classes": pipeline.classes_.tolist(), "objective": "min_recall",
        "constraints": None, "pipeline": pipeline})
    out = tmp_path / "old.csv"
    assert main(["predict", path, str(files["test_csv"]), "--output", str(out)]) == 0
    assert pd.read_csv(out)[TARGET].unique().tolist() == ["grignolino"]  # the most frequent
