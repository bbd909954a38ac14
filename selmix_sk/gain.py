"""The SelMix gain of every class pair, and the pair-sampling distribution.

The functions are pure: arrays in, arrays out. NumPy input gives NumPy output;
torch input gives torch output on the input's device. The arithmetic runs in
torch, in float64, so that one implementation serves both and uses every core.
"""

import numpy as np
import torch

__all__ = ["compute_gain", "pair_probabilities", "sampling_distribution"]

INDICATORS = ("exact", "published")
SELECTIONS = ("selmix", "uniform", "greedy")
_EPSILON = 1e-8


def _to_tensor(name, value, device=None):
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to(device=device, dtype=torch.float64)
        finite = bool(torch.isfinite(tensor).all())
    else:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of numbers, got {type(value)!r}.") from exc
        # Checked in NumPy: at K = 100 a torch check per input costs as much as the gain.
        finite = bool(np.isfinite(array).all())
        tensor = torch.from_numpy(array).to(device=device)
    if not finite:
        raise ValueError(f"{name} contains NaN or infinity.")
    return tensor


def _to_output(tensor, like):
    if isinstance(like, torch.Tensor):
        dtype = like.dtype if like.dtype.is_floating_point else torch.get_default_dtype()
        return tensor.to(dtype)
    return tensor.cpu().numpy()


def compute_gain(
    confusion,
    prototypes,
    weight,
    bias,
    dpsi_dC,
    *,
    lambda_min=0.6,
    indicator="exact",
    class_prior=None,
):
    """Closed-form gain of one SGD step on the (i, j)-mixup, for every pair.

    ``G[i, j]`` is the first-order change of the objective psi, per unit
    learning rate, when the linear head takes one step on the feature mixup
    ``lam z_i + (1 - lam) z_j`` labelled ``i``, with ``lam`` the mean of
    ``Uniform(lambda_min, 1)``. The validation confusion matrix is modelled as
    ``C[k, l] = pi[k] softmax(A[k])[l]`` with ``A = Z W^T + b``. The cost is
    three K x K matrix products after the K x d ones: O(K^2 d + K^3) time and
    O(K^2) memory, against O(K^4) for the literal formulation.

    Parameters
    ----------
    confusion : array-like or torch.Tensor of shape (K, K)
        Validation confusion matrix normalised to sum to 1; rows are true
        classes, columns predictions.
    prototypes : array-like or torch.Tensor of shape (K, d)
        Mean feature (input of the linear head) of each class.
    weight : array-like or torch.Tensor of shape (K, d)
        Weight of the linear head.
    bias : array-like or torch.Tensor of shape (K,)
        Bias of the linear head.
    dpsi_dC : array-like or torch.Tensor of shape (K, K)
        Gradient of the objective with respect to ``confusion``.
    lambda_min : float, default=0.6
        Lower end of the mixing coefficient's range, in [0, 1).
    indicator : {"exact", "published"}, default="exact"
        ``"exact"`` differentiates through the mixed prototype everywhere;
        ``"published"`` uses ``z_i`` in the indicator term, as the authors'
        code does, to compare with the paper's numbers.
    class_prior : array-like of shape (K,), default=None
        Share of each class in the validation set. None means ``1 / K``, the
        balanced validation set that the published code assumes; the
        estimator passes the row sums of ``confusion``.

    Returns
    -------
    gain : ndarray or torch.Tensor of shape (K, K)
        ``gain[i, j]`` for mixing a sample of class ``i`` with one of class
        ``j`` under label ``i``. Same kind as ``confusion`` (NumPy or torch,
        on its device).

    See Also
    --------
    sampling_distribution : Turns the gains into pair probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.gain import compute_gain
    >>> C = np.array([[0.45, 0.05], [0.20, 0.30]])
    >>> Z = np.eye(2)
    >>> W, b = np.eye(2), np.zeros(2)
    >>> D = np.diag([0.0, 2.0])  # d recall_1 / d C with pi fixed
    >>> G = compute_gain(C, Z, W, b, D)
    >>> G.shape
    (2, 2)
    >>> int(np.argmax(G)) // 2  # mixups labelled as the weak class 1 help most
    1
    """
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}, got {indicator!r}.")
    if not 0.0 <= lambda_min < 1.0:
        raise ValueError(f"lambda_min must be in [0, 1), got {lambda_min!r}.")
    device = confusion.device if isinstance(confusion, torch.Tensor) else None
    C = _to_tensor("confusion", confusion, device)
    Z = _to_tensor("prototypes", prototypes, device)
    W = _to_tensor("weight", weight, device)
    b = _to_tensor("bias", bias, device)
    D = _to_tensor("dpsi_dC", dpsi_dC, device)
    K = C.shape[0]
    if C.shape != (K, K) or D.shape != (K, K):
        raise ValueError(
            f"confusion and dpsi_dC must be square and of one shape, got {tuple(C.shape)} "
            f"and {tuple(D.shape)}."
        )
    if Z.ndim != 2 or Z.shape[0] != K or W.shape != (K, Z.shape[1]) or b.shape != (K,):
        raise ValueError(
            f"expected prototypes and weight of shape ({K}, d) and bias of shape ({K},), got "
            f"{tuple(Z.shape)}, {tuple(W.shape)} and {tuple(b.shape)}."
        )
    if class_prior is None:
        pi = torch.full((K,), 1.0 / K, dtype=torch.float64, device=C.device)
    else:
        pi = _to_tensor("class_prior", class_prior, device)
        if pi.shape != (K,) or (pi <= 0).any():
            raise ValueError(f"class_prior must hold {K} positive numbers.")

    lam = (1.0 + lambda_min) / 2.0
    DC = D * C
    E = DC - (DC.sum(dim=1) / pi)[:, None] * C  # d psi / d A
    H = (Z @ Z.T) @ E
    A = Z @ W.T + b
    # softmax(lam A[i] + (1 - lam) A[j]) factorises into exp(lam A[i]) * exp((1 - lam) A[j]),
    # so every sum over the K^3 (i, j, l) triples is a matrix product.
    shifted = A - A.max(dim=1, keepdim=True).values
    U = torch.exp(lam * shifted)
    V = torch.exp((1.0 - lam) * shifted)
    normaliser = (U @ V.T).clamp_min(torch.finfo(torch.float64).tiny)
    expected = (lam * ((U * H) @ V.T) + (1.0 - lam) * (U @ (V * H).T)) / normaliser
    if indicator == "exact":
        own = lam * torch.diagonal(H)[:, None] + (1.0 - lam) * H.T
    else:
        own = torch.diagonal(H)[:, None].expand(K, K)
    return _to_output(own - expected, confusion)


def sampling_distribution(gain, temperature):
    """Probability of drawing each (i, j) mixup pair, from the gains.

    ``softmax(gain / temperature)`` over all K^2 pairs, set to 0 where the gain
    is not positive, plus 1e-8 everywhere so that it never vanishes, and
    renormalised. When no gain is positive the result is uniform: the
    objective is then at a first-order optimum for every pair.

    Parameters
    ----------
    gain : array-like or torch.Tensor of shape (K, K)
        Gains from :func:`compute_gain`, rescaled beforehand if wanted.
    temperature : float
        Positive; smaller values concentrate on the best pairs.

    Returns
    -------
    probabilities : ndarray or torch.Tensor of shape (K, K)
        Non-negative, summing to 1. Same kind as ``gain``.

    See Also
    --------
    compute_gain : The gains themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.gain import sampling_distribution
    >>> P = sampling_distribution(np.array([[0.2, -0.1], [0.1, 0.0]]), 0.1)
    >>> P.round(3)
    array([[0.731, 0.   ],
           [0.269, 0.   ]])
    >>> float(P.sum())
    1.0
    """
    if not isinstance(temperature, (int, float, np.number)) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}.")
    device = gain.device if isinstance(gain, torch.Tensor) else None
    G = _to_tensor("gain", gain, device)
    P = torch.softmax(G.flatten() / float(temperature), dim=0).reshape(G.shape)
    P = torch.where(G > 0, P, torch.zeros_like(P)) + _EPSILON
    return _to_output(P / P.sum(), gain)


def pair_probabilities(gain, selection, temperature):
    """Pair-sampling probabilities of a selection policy.

    ``"selmix"`` rescales the gains by their largest magnitude, so that the
    temperature means the same whatever the scale of the features, and
    applies :func:`sampling_distribution`; ``"uniform"`` draws every pair
    alike; ``"greedy"`` always the pair of largest gain. The last two are the
    paper's ablations.

    Parameters
    ----------
    gain : torch.Tensor of shape (K, K)
    selection : {"selmix", "uniform", "greedy"}
    temperature : float

    Returns
    -------
    probabilities : torch.Tensor of shape (K, K)

    Examples
    --------
    >>> import torch
    >>> from selmix_sk.gain import pair_probabilities
    >>> gain = torch.tensor([[0.2, -0.1], [0.1, 0.0]], dtype=torch.float64)
    >>> pair_probabilities(gain, "greedy", 0.1)
    tensor([[1., 0.],
            [0., 0.]], dtype=torch.float64)
    """
    if selection == "uniform":
        return torch.ones_like(gain)
    if selection == "greedy":
        best = torch.zeros_like(gain).flatten()
        best[gain.argmax()] = 1.0
        return best.reshape(gain.shape)
    scale = gain.abs().max()
    return sampling_distribution(gain / scale if scale > 0 else gain, temperature)
