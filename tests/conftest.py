import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def blobs():
    """Three separable but imbalanced classes in 5 dimensions."""
    rng = np.random.RandomState(0)
    counts = [60, 25, 8]
    centres = rng.normal(scale=3.0, size=(3, 5))
    X = np.vstack([rng.normal(c, 1.0, size=(n, 5)) for c, n in zip(centres, counts, strict=True)])
    y = np.repeat([0, 1, 2], counts)
    return X, y


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y
