"""The example scripts run, and the documentation keeps up with the public API."""

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import selmix_sk

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"

# Script name -> name of the file it writes, given as its only argument.
SCRIPTS = {
    "plot_min_recall_digits.py": "recalls.png",
    "grid_search.py": "grid_search.csv",
    "custom_objective.py": "custom_objective.csv",
    "own_network.py": "own_network.csv",
    "partial_fit_stream.py": "stream.csv",
    "quickstart.py": "quickstart.csv",
    "column_transformer.py": "column_transformer.csv",
    "macro_f1.py": "macro_f1.csv",
    "coverage_constraint.py": "coverage_constraint.csv",
    "dask_search.py": "dask_search.csv",
    "frozen_embeddings.py": "frozen_embeddings.csv",
    "plot_gain_matrix.py": "gain_matrix.png",
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_and_writes_its_output(script, tmp_path):
    output = tmp_path / "out" / SCRIPTS[script]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # Small networks train fastest on one thread, and a busy machine hurts two threads most.
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), str(output)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.is_file() and output.stat().st_size > 0
    if output.suffix == ".png":
        assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert len(output.read_text().splitlines()) >= 2
    assert str(output) in result.stdout


def _public_modules():
    names = [m.name for m in pkgutil.iter_modules(selmix_sk.__path__) if not m.name.startswith("_")]
    return ["selmix_sk", *(f"selmix_sk.{name}" for name in sorted(names))]


_DIRECTIVE = re.compile(
    r"^\.\. (?:py:)?(?:currentmodule|module|automodule|autosummary|autoclass|autofunction|"
    r"autodata|class|function|data)::\s*(\S*)"
)


def _documented_names():
    """Fully qualified names that the .rst files document, by directive or autosummary entry."""
    documented = set()
    for path in sorted(DOCS.glob("*.rst")):
        module = None
        in_autosummary = False
        for line in path.read_text().splitlines():
            match = _DIRECTIVE.match(line.strip()) if not line.startswith("   ") else None
            if match:
                directive = line.strip().split("::")[0].removeprefix(".. ").removeprefix("py:")
                argument = match.group(1)
                in_autosummary = directive == "autosummary"
                if directive in ("currentmodule", "module", "automodule"):
                    module = argument
                elif directive != "autosummary" and argument:
                    documented.add(argument if "." in argument else f"{module}.{argument}")
                continue
            if in_autosummary and line.startswith("   "):
                entry = line.strip()
                if entry and not entry.startswith(":"):
                    documented.add(entry.lstrip("~") if "." in entry else f"{module}.{entry}")
            elif line.strip():
                in_autosummary = False
    return documented


@pytest.mark.parametrize("module_name", _public_modules())
def test_api_reference_lists_every_public_name(module_name):
    module = importlib.import_module(module_name)
    public = getattr(module, "__all__", None)
    assert public is not None, f"{module_name} has no __all__"
    documented = _documented_names()
    missing = sorted(name for name in public if f"{module_name}.{name}" not in documented)
    assert not missing, f"docs/*.rst do not document {module_name}: {missing}"
