"""The file of :meth:`~selmix_sk.SelMixClassifier.save_params`: tensors, numbers and strings.

It is read with ``torch.load(..., weights_only=True)``, which never runs code
from the file. Formats 1 (version 0.1: one network) and 2 (several networks
alike, before the blend with the start) are still read.
"""

import pickle

import numpy as np
import pandas as pd
import torch

from ._members import build_net
from ._memory import ClassReservoir
from ._offsets import OffsetDecision

__all__ = ["FORMAT", "read_params", "saved_networks", "write_params"]

FORMAT = "selmix_sk.params/3"
_READABLE = ("selmix_sk.params/1", "selmix_sk.params/2", FORMAT)


def write_params(path, estimator):
    """Write what a fitted estimator predicts with, and its stream's memory, to ``path``."""
    labels = estimator.classes_.tolist()
    if not all(isinstance(label, (str, int, float, bool)) for label in labels):
        raise TypeError(
            "save_params stores class labels that are strings or numbers; use pickle or "
            "joblib for other labels."
        )
    names = getattr(estimator, "feature_names_in_", None)
    memory = getattr(estimator, "_memory", None)
    torch.save(
        {
            "format": FORMAT,
            "modules": [{k: v.cpu() for k, v in net.module_.state_dict().items()}
                        for net in estimator.nets_],
            "net_weights": torch.from_numpy(estimator.net_weights_),
            "classes": labels,
            "n_features_in": int(estimator.n_features_in_),
            "input_shape": list(getattr(estimator, "_input_shape", (estimator.n_features_in_,))),
            "feature_names_in": None if names is None else names.tolist(),
            "class_counts": torch.from_numpy(estimator._class_counts),
            "offsets": torch.from_numpy(estimator.offsets_),
            "held_out_counts": torch.from_numpy(estimator.held_out_counts_),
            "decision_layer": {key: value if isinstance(value, (bool, str)) else float(value)
                               for key, value in estimator.decision_layer_.items()},
            "history": estimator.history_.to_dict(orient="list"),
            "pretraining": list(estimator.pretraining_),
            "n_partial_fits": int(getattr(estimator, "_n_partial_fits", 0)),
            "memory": None if memory is None else {
                "size": int(memory.size),
                "n_seen": torch.from_numpy(memory.n_seen_),
                "X": None if memory.X_ is None else torch.from_numpy(memory.X_),
                "y": torch.from_numpy(memory.y_.astype(np.int64)),
            },
        },
        path,
    )


def read_params(path):
    """What :func:`write_params` wrote, as arrays: a dict, or a ValueError naming the file.

    Returns
    -------
    params : dict
        ``classes``, ``n_features_in``, ``input_shape``, ``feature_names_in``
        (or None), ``class_counts``, ``history`` (a DataFrame),
        ``pretraining`` (a list of str), ``n_partial_fits``, ``memory`` (a
        ClassReservoir or None), ``decision`` (an OffsetDecision, with the
        offsets), ``modules`` (a state dict per network), ``net_weights`` and
        ``held_out_counts``.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path!s} holds objects other than tensors, numbers and strings; "
            "load_params does not run code from files."
        ) from exc
    if not isinstance(state, dict) or state.get("format") not in _READABLE:
        raise ValueError(f"{path!s} was not written by SelMixClassifier.save_params.")
    memory = None
    if state.get("memory") is not None:
        saved = state["memory"]
        memory = ClassReservoir(len(state["classes"]), saved["size"])
        memory.n_seen_ = saved["n_seen"].numpy()
        memory.X_ = None if saved["X"] is None else saved["X"].numpy()
        memory.y_ = saved["y"].numpy().astype(np.intp)
    n_features_in = state["n_features_in"]
    # Format 1, of version 0.1, held the single network's weights.
    modules = state["modules"] if "modules" in state else [state["module"]]
    # Formats 1 and 2, written before the blend with the start, weighed networks alike.
    net_weights = (state["net_weights"].numpy() if "net_weights" in state
                   else np.full(len(modules), 1.0 / len(modules)))
    names = state["feature_names_in"]
    offsets = state["offsets"].numpy()
    # Files of version 0.2.0 did not record the decision: offsets applied, unscored.
    layer = state.get("decision_layer", {"applied": bool(offsets.any()), "score_with": np.nan,
                                         "score_without": np.nan,
                                         "reason": "Read from a file of selmix-sk 0.2."})
    return {
        "classes": np.asarray(state["classes"]),
        "n_features_in": n_features_in,
        "input_shape": tuple(state.get("input_shape", [n_features_in])),
        "feature_names_in": None if names is None else np.asarray(names, dtype=object),
        "class_counts": state["class_counts"].numpy(),
        "decision": OffsetDecision(offsets, **layer),
        # Files of version 0.2.0 did not say: zeros, as if nothing had been held out.
        "held_out_counts": (state["held_out_counts"].numpy() if "held_out_counts" in state
                            else np.zeros(len(state["classes"]), dtype=np.int64)),
        "history": pd.DataFrame(state["history"]),
        # Files written before the choice of pre-training did not say.
        "pretraining": list(state.get("pretraining", ["unknown"] * len(modules))),
        "n_partial_fits": state.get("n_partial_fits", 0),
        "memory": memory,
        "modules": modules,
        "net_weights": net_weights,
    }


def saved_networks(params, settings):
    """The estimator's networks, built by ``settings`` and given the weights of ``params``."""
    nets = []
    for weights in params["modules"]:
        net, _ = build_net(settings, np.zeros((2, *params["input_shape"]), dtype=np.float32))
        try:
            net.module_.load_state_dict(weights)
        except RuntimeError as exc:
            raise ValueError(
                f"The saved weights do not fit this estimator's network: {exc}"
            ) from exc
        net.module_.to(settings.device).eval()
        nets.append(net)
    return nets
