"""Sphinx configuration of the selmix-sk documentation.

Build with ``python -m sphinx -b html docs docs/_build/html`` from the
repository root (after ``pip install -e ".[docs]"``). The build needs no
network: links to other projects' documentation (intersphinx) are only
fetched when the environment variable ``SELMIX_SK_INTERSPHINX`` is set to 1.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import selmix_sk  # noqa: E402

project = "selmix-sk"
author = "the selmix-sk developers"
copyright = "2024, the selmix-sk developers"
release = selmix_sk.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# numpydoc renders the Parameters / Attributes sections; the class template
# (_templates/autosummary/class.rst) lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "skrub": ("https://skrub-data.org/stable", None),
}
if os.environ.get("SELMIX_SK_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")

html_theme = "pydata_sphinx_theme"
html_title = f"selmix-sk {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

# docs/benchmarks.md is the report of ``selmix-sk benchmark``, committed as it
# is; benchmarks.rst shows it verbatim when it exists and says how to make it
# otherwise, so that a checkout without it still builds without warnings.
_BENCHMARKS_PLACEHOLDER = ".. benchmarks-report-goes-here"


def _include_benchmark_report(app, docname, source):
    if docname != "benchmarks" or _BENCHMARKS_PLACEHOLDER not in source[0]:
        return
    if (Path(app.srcdir) / "benchmarks.md").is_file():
        body = ".. literalinclude:: benchmarks.md\n   :language: markdown\n"
    else:
        body = (
            ".. note::\n\n   No report is committed in this checkout yet. Run "
            "``selmix-sk benchmark --output DIR`` and read ``DIR/report.md``.\n"
        )
    source[0] = source[0].replace(_BENCHMARKS_PLACEHOLDER, body)


# A fitted attribute in a shape, "(n_features_in_,)", reads as a hyperlink
# reference in reStructuredText; show it as code instead.
_SHAPE_ATTRIBUTE = re.compile(r"\((\w+_),\)")


def _quote_shape_attributes(app, what, name, obj, options, lines):
    lines[:] = [_SHAPE_ATTRIBUTE.sub(r"(``\1``,)", line) for line in lines]


def setup(app):
    app.connect("source-read", _include_benchmark_report)
    app.connect("autodoc-process-docstring", _quote_shape_attributes)
