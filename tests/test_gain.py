"""The closed-form gain and the sampling distribution.

Reference numbers: tests/data (see its README.md).
"""


import numpy as np
import pytest
import torch
from helpers import BUILTINS, CASES, confusion_matrices, load_reference_arrays
from hypothesis import given, settings
from hypothesis import strategies as st

from selmix_sk.gain import compute_gain, sampling_distribution
from selmix_sk.objectives import HMeanRecall, make_objective


@pytest.fixture(scope="module")
def arrays():
    return load_reference_arrays()


def _case_arrays(arrays, key):
    return {name: arrays[f"{key}_{name}"] for name in ("C", "Z", "W", "b", "dpsi_dC")}


@pytest.mark.parametrize("case", CASES, ids=[case["key"] for case in CASES])
@pytest.mark.parametrize(
    ("indicator", "expected"), [("published", "G_published"), ("exact", "G_exact")]
)
def test_gain_matches_reference(arrays, case, indicator, expected):
    a = _case_arrays(arrays, case["key"])
    G = compute_gain(
        a["C"],
        a["Z"],
        a["W"],
        a["b"],
        a["dpsi_dC"],
        lambda_min=case["lambda_min"],
        indicator=indicator,
    )
    reference = arrays[f"{case['key']}_{expected}"]
    # The published code computes partly in float32: 1e-5 of the largest entry.
    np.testing.assert_allclose(G, reference, rtol=0, atol=1e-5 * np.abs(reference).max())


@pytest.mark.parametrize("case", CASES, ids=[case["key"] for case in CASES])
def test_sampling_distribution_matches_reference(arrays, case):
    key = case["key"]
    P = sampling_distribution(arrays[f"{key}_G_published"], case["temperature"])
    np.testing.assert_allclose(P, arrays[f"{key}_P_published"], rtol=1e-5, atol=1e-7)
    assert P.sum() == pytest.approx(1.0)


def _random_case(K=5, d=6, seed=0):
    rng = np.random.default_rng(seed)
    C = rng.random((K, K)) + 2 * np.eye(K)
    C /= C.sum()
    return C, rng.normal(size=(K, d)), rng.normal(size=(K, d)), rng.normal(size=K)


def test_numpy_in_numpy_out():
    C, Z, W, b = _random_case()
    G = compute_gain(C, Z, W, b, np.eye(5))
    assert isinstance(G, np.ndarray)
    assert G.dtype == np.float64
    assert isinstance(sampling_distribution(G, 0.1), np.ndarray)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
        ),
    ],
)
def test_torch_in_torch_out(dtype, device):
    C, Z, W, b = _random_case()
    tensors = [torch.as_tensor(x, dtype=dtype, device=device) for x in (C, Z, W, b)]
    G = compute_gain(*tensors, torch.eye(5, dtype=dtype, device=device))
    assert isinstance(G, torch.Tensor)
    assert G.dtype == dtype
    assert G.device.type == device
    expected = compute_gain(C, Z, W, b, np.eye(5))
    tolerance = 1e-4 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(G.cpu().numpy(), expected, rtol=0, atol=tolerance)
    P = sampling_distribution(G, 0.1)
    assert isinstance(P, torch.Tensor)
    assert P.dtype == dtype
    assert P.device.type == device


def test_integer_tensor_gives_default_float_dtype():
    C, Z, W, b = _random_case()
    G = compute_gain(torch.as_tensor(C), Z, W, b, torch.eye(5, dtype=torch.int64))
    assert G.dtype == torch.float64
    P = sampling_distribution(torch.tensor([[1, -1], [0, 2]]), 1.0)
    assert P.dtype == torch.get_default_dtype()


def _literal_gain(Z, W, b, pi, objective, lambda_min, eta=1e-5):
    """psi's change per unit learning rate under one SGD step on each (i, j)-mixup.

    The confusion matrix is the model's, ``C[k] = pi[k] softmax(Z[k] W^T + b)``; the
    step is the cross-entropy gradient on the mixed prototype, with label i.
    """

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def psi(weight):
        return objective.value(pi[:, None] * softmax(Z @ weight.T + b))

    K = len(Z)
    lam = (1 + lambda_min) / 2
    G = np.empty((K, K))
    for i in range(K):
        for j in range(K):
            z = lam * Z[i] + (1 - lam) * Z[j]
            p = softmax(W @ z + b)
            step = np.outer(np.eye(K)[i] - p, z)
            G[i, j] = (psi(W + eta * step) - psi(W - eta * step)) / (2 * eta)
    return G


def test_closed_form_matches_literal_sgd_step():
    _, Z, W, b = _random_case(K=4, d=3, seed=1)
    Z, W = Z / 2, W / 2
    pi = np.array([0.4, 0.3, 0.2, 0.1])
    logits = Z @ W.T + b
    S = np.exp(logits - logits.max(axis=1, keepdims=True))
    C = pi[:, None] * S / S.sum(axis=1, keepdims=True)
    objective = HMeanRecall()
    G = compute_gain(C, Z, W, b, objective.gradient(C), lambda_min=0.3, class_prior=pi)
    literal = _literal_gain(Z, W, b, pi, objective, lambda_min=0.3)
    np.testing.assert_allclose(G, literal, rtol=0, atol=1e-7 * np.abs(literal).max())
    assert np.abs(literal).max() > 1e-3


def test_gain_invariant_to_row_constants_of_the_gradient():
    C, Z, W, b = _random_case()
    D = np.random.default_rng(3).normal(size=(5, 5))
    shifted = D + np.arange(5.0)[:, None]
    np.testing.assert_allclose(
        compute_gain(C, Z, W, b, D, class_prior=C.sum(axis=1)),
        compute_gain(C, Z, W, b, shifted, class_prior=C.sum(axis=1)),
        atol=1e-12,
    )


def test_sampling_distribution_by_hand():
    G = np.array([[0.2, -0.1], [0.1, 0.0]])
    P = sampling_distribution(G, 0.1)
    softmax = np.exp(G / 0.1) / np.exp(G / 0.1).sum()
    kept = np.where(G > 0, softmax, 0.0) + 1e-8
    np.testing.assert_allclose(P, kept / kept.sum(), rtol=1e-12)
    np.testing.assert_allclose(P, [[0.7310586, 1.1e-8], [0.2689414, 1.1e-8]], atol=1e-7)


def test_sampling_distribution_uniform_without_positive_gain():
    P = sampling_distribution(-np.ones((3, 3)), 0.5)
    np.testing.assert_allclose(P, np.full((3, 3), 1 / 9))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"confusion": np.ones((2, 3))}, ValueError),
        ({"dpsi_dC": np.ones((2, 2))}, ValueError),
        ({"prototypes": np.ones((2, 6))}, ValueError),
        ({"weight": np.ones((5, 2))}, ValueError),
        ({"bias": np.ones(4)}, ValueError),
        ({"confusion": np.full((5, 5), np.nan)}, ValueError),
        ({"weight": np.full((5, 6), np.inf)}, ValueError),
        ({"bias": np.array(["a", "b", "c", "d", "e"])}, TypeError),
        ({"lambda_min": -0.1}, ValueError),
        ({"lambda_min": 1.0}, ValueError),
        ({"indicator": "paper"}, ValueError),
        ({"class_prior": np.ones(4) / 4}, ValueError),
        ({"class_prior": np.array([0.5, 0.5, 0.0, 0.0, 0.0])}, ValueError),
    ],
)
def test_compute_gain_rejects_invalid_input(change, error):
    C, Z, W, b = _random_case()
    arguments = {"confusion": C, "prototypes": Z, "weight": W, "bias": b, "dpsi_dC": np.eye(5)}
    arguments.update(change)
    with pytest.raises(error):
        compute_gain(**arguments)


@pytest.mark.parametrize("temperature", [0, -1.0, "0.1", None, float("nan")])
def test_sampling_distribution_rejects_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        sampling_distribution(np.eye(2), temperature)


def test_sampling_distribution_rejects_nan_gain():
    with pytest.raises(ValueError, match="NaN"):
        sampling_distribution(np.array([[np.nan, 0.0], [0.0, 1.0]]), 0.1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    C=confusion_matrices(),
    name=st.sampled_from(BUILTINS),
    seed=st.integers(0, 2**16),
    indicator=st.sampled_from(["exact", "published"]),
)
def test_gain_and_distribution_finite_on_degenerate_matrices(C, name, seed, indicator):
    K = len(C)
    rng = np.random.default_rng(seed)
    objective = make_objective(name).update(C)
    pi = C.sum(axis=1)
    G = compute_gain(
        C,
        rng.normal(size=(K, 3)),
        rng.normal(size=(K, 3)),
        rng.normal(size=K),
        objective.gradient(C),
        indicator=indicator,
        class_prior=pi if (pi > 0).all() else None,
    )
    assert np.isfinite(G).all()
    P = sampling_distribution(G, 0.1)
    assert np.isfinite(P).all()
    assert (P > 0).all()
    assert P.sum() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    gain=st.integers(1, 6).flatmap(
        lambda K: st.lists(
            st.one_of(st.just(0.0), st.floats(-1e3, 1e3)), min_size=K * K, max_size=K * K
        )
    ),
    temperature=st.floats(1e-3, 1e2),
)
def test_sampling_distribution_is_a_distribution(gain, temperature):
    K = round(len(gain) ** 0.5)
    G = np.array(gain).reshape(K, K)
    P = sampling_distribution(G, temperature)
    assert np.isfinite(P).all()
    assert (P > 0).all()
    assert P.sum() == pytest.approx(1.0)
    if (G > 0).any():
        assert P.flat[np.argmax(G)] == P.max()
        assert (P[G <= 0] < 1e-7).all()
