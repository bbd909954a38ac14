"""The Sphinx site builds with warnings as errors, as its readers get it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_sphinx_builds_without_warnings(tmp_path):
    # -E reads every page afresh, so a warning cannot hide in a cached environment.
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    html = tmp_path / "html"
    for page in ("index", "user_guide", "api", "scale_out", "gpu", "gain_figure"):
        assert (html / f"{page}.html").is_file(), page
    # The figure of a real fit is committed and copied with the site.
    assert (html / "_images" / "gain_figure.png").is_file()
