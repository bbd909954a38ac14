"""The gain matrix and the pair distribution of a real fit, before and after SelMix.

A network is pre-trained on long-tailed digits (``finetune_steps=0``), then
fine-tuned with SelMix for the worst per-class recall. For both networks the
script recomputes, on the validation set, what a refresh of the gains computes:
the soft confusion matrix and class prototypes
(:func:`~selmix_sk.callbacks.evaluate_validation`), the objective's weights on
the recalls, the gain of every (i, j) mixup (:func:`~selmix_sk.gain.compute_gain`)
and the probability of drawing each pair
(:func:`~selmix_sk.callbacks.pair_probabilities`). It draws them as heat maps,
one row per network, and saves the figure: the documentation's page on the gain
shows this file, made by this script.

Usage::

    python examples/plot_gain_matrix.py [OUTPUT.png]

About 15 seconds on two CPU cores.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from selmix_sk import SelMixClassifier
from selmix_sk.callbacks import evaluate_validation, pair_probabilities
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.gain import compute_gain
from selmix_sk.metrics import min_recall_score
from selmix_sk.mixup import FeatureMixer

TEMPERATURE = 0.1


def gain_and_pairs(model, X_val, y_val, class_prior):
    """The gain matrix and the pair probabilities of a fitted model on the validation set."""
    module = model.net_.module_.eval()
    mixer = FeatureMixer(module)
    n_classes = len(model.classes_)
    X, y = torch.as_tensor(X_val, dtype=torch.float32), torch.as_tensor(y_val)
    confusion, prototypes = evaluate_validation(module, mixer, X, y, n_classes, soft=True)
    objective = model.objective_.reset(class_prior)
    objective.update(confusion.numpy())
    gain = compute_gain(
        confusion,
        prototypes,
        mixer.head.weight.detach(),
        mixer.head.bias.detach(),
        torch.as_tensor(objective.gradient(confusion.numpy())),
        class_prior=confusion.sum(1),
    )
    return gain.numpy(), pair_probabilities(gain, "selmix", TEMPERATURE).numpy()


def main(output=None):
    data = load_long_tailed_digits(random_state=2)
    fit_data = {"X": data.X_train, "y": data.y_train, "X_val": data.X_val, "y_val": data.y_val}
    # The network alone: no offsets tuned on the validation set (the decision layer).
    pretrained = SelMixClassifier(finetune_steps=0, tune_offsets=False, random_state=0)
    pretrained.fit(**fit_data)
    selmix = SelMixClassifier(pretrained.net_, objective="min_recall", temperature=TEMPERATURE,
                              random_state=0).fit(**fit_data)
    prior = data.class_counts / data.class_counts.sum()

    figure = Figure(figsize=(9, 8), layout="constrained")
    axes = figure.subplots(2, 2)
    models = {"pre-trained": pretrained, "after SelMix": selmix}
    for row, (name, model) in enumerate(models.items()):
        gain, pairs = gain_and_pairs(model, data.X_val, data.y_val, prior)
        score = min_recall_score(data.y_val, model.predict(data.X_val))
        print(f"{name}: validation min recall {score:.3f}; largest gain {gain.max():.3g} at "
              f"pair {tuple(int(k) for k in np.unravel_index(gain.argmax(), gain.shape))}")
        limit = np.abs(gain).max()
        panels = [
            (gain, "RdBu", -limit, limit, f"{name}: gain G[i, j]"),
            (pairs, "viridis", 0, pairs.max(), f"{name}: P(draw pair i, j)"),
        ]
        for ax, (values, cmap, low, high, title) in zip(axes[row], panels, strict=True):
            image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
            ax.set(title=title, xlabel="j (mixed in)", ylabel="i (label)",
                   xticks=range(10), yticks=range(10))
            figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(
        f"SelMix for the min recall, long-tailed digits (training images per class "
        f"{data.class_counts.max()} to {data.class_counts.min()})"
    )

    if output is None:
        output = Path(tempfile.mkdtemp(prefix="selmix_")) / "gain_matrix.png"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=90)
    print(f"figure saved to {output}")
    return output


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
