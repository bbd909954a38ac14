import pandas as pd
import pytest

from selmix_sk._cli import main
from selmix_sk.benchmark import limit_threads

TINY = ["--steps", "6", "--pretrain-epochs", "2"]


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny networks: threads contending for two cores make them many times slower.
    with limit_threads(1):
        yield


def test_demo_writes_table_csv_and_plot(tmp_path, capsys):
    assert main(["demo", "--output", str(tmp_path), "--seed", "1", "--quiet", *TINY]) == 0
    out = capsys.readouterr().out
    for method in ("pre-trained", "uniform mixup", "SelMix"):
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
                                  ["--version"]])
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
    ],
)
def test_bad_arguments_exit_2(args, capsys):
    assert main(args) == 2
    assert "usage: selmix-sk" in capsys.readouterr().err

