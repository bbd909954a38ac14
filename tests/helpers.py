"""What several test modules share: the reference cases and random confusion matrices."""

import json
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

# The authors' implementation on 20 cases, kept with the tests (see data/README.md).
REFERENCE = Path(__file__).resolve().parent / "data"
CASES = json.loads((REFERENCE / "gain_cases.json").read_text())
BUILTINS = [
    "mean_recall",
    "min_recall",
    "min_head_tail_recall",
    "hmean",
    "gmean",
    "mean_recall_min_coverage",
]


def load_reference_arrays():
    return np.load(REFERENCE / "gain_cases.npz")


@st.composite
def confusion_matrices(draw, max_classes=5):
    """Normalised confusion matrices with many zero cells, empty rows and columns."""
    K = draw(st.integers(2, max_classes))
    cells = draw(
        st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=K * K, max_size=K * K)
    )
    C = np.array(cells).reshape(K, K)
    return C / C.sum() if C.sum() > 0 else C
