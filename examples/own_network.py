"""Bringing your own network: a skorch classifier with a batch-norm backbone.

:class:`~selmix_sk.SelMixClassifier` fine-tunes any skorch network whose
module returns the output of a final :class:`torch.nn.Linear` layer (the
logits): SelMix mixes the *input* of that layer. This script defines such a
module, with a batch-normalised backbone and a head called ``classifier``,
and uses it in two ways:

1. an *unfitted* :class:`skorch.NeuralNetClassifier` passed as ``net=``:
   SelMix fills in ``module__n_features`` and ``module__n_classes``,
   pre-trains it with the logit-adjusted loss, then fine-tunes it;
2. a network *fitted* beforehand with skorch's own loop (plain
   cross-entropy): SelMix copies it and only fine-tunes the copy, leaving
   yours untouched.

The module registers its head before its backbone, so "the last linear
layer registered" would be a backbone layer: ``head="classifier"`` names the
right one. Batch-norm statistics stay frozen during fine-tuning.

Usage::

    python examples/own_network.py [OUTPUT.csv]

About 15 seconds on two CPU cores.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skorch import NeuralNetClassifier
from torch import nn

from selmix_sk import SelMixClassifier
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.metrics import mean_recall_score, min_recall_score


class BatchNormNet(nn.Module):
    """Two batch-normalised hidden layers and a linear head named ``classifier``."""

    def __init__(self, n_features, n_classes, hidden=128):
        super().__init__()
        self.classifier = nn.Linear(hidden, n_classes)
        self.backbone = nn.Sequential(
            nn.BatchNorm1d(n_features),
            nn.Linear(n_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
        )

    def forward(self, X):
        return self.classifier(self.backbone(X))


def evaluate(name, y_true, y_pred):
    return {
        "model": name,
        "mean_recall": mean_recall_score(y_true, y_pred),
        "min_recall": min_recall_score(y_true, y_pred),
    }


def main(output=None):
    data = load_long_tailed_digits(random_state=2)
    val = {"X_val": data.X_val, "y_val": data.y_val}
    rows = []

    # 1. An unfitted template: cloned, completed, pre-trained and fine-tuned by SelMix.
    template = NeuralNetClassifier(
        BatchNormNet,
        module__hidden=128,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=50,
        batch_size=64,
        iterator_train__shuffle=True,
    )
    clf = SelMixClassifier(template, head="classifier", finetune_steps=200, random_state=0)
    clf.fit(data.X_train, data.y_train, **val)
    rows.append(evaluate("unfitted net, SelMix", data.y_test, clf.predict(data.X_test)))
    print(f"fine-tuned head: {clf.net_.module_.classifier}")
    first_last = clf.history_[["step", "mean_recall", "min_recall"]].iloc[[0, -1]]
    print(f"validation recalls at the first and last gain refresh:\n{first_last.to_string()}")

    # 2. A network trained beforehand: SelMix fine-tunes a copy of it.
    torch.manual_seed(0)
    X_train = data.X_train.astype(np.float32)
    pretrained = NeuralNetClassifier(
        BatchNormNet,
        module__n_features=X_train.shape[1],
        module__n_classes=len(data.target_names),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=50,
        batch_size=64,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    ).fit(X_train, data.y_train)
    rows.append(
        evaluate(
            "fitted net, as is", data.y_test, pretrained.predict(data.X_test.astype(np.float32))
        )
    )
    tuned = SelMixClassifier(pretrained, head="classifier", finetune_steps=200, random_state=0)
    tuned.fit(data.X_train, data.y_train, **val)
    rows.append(evaluate("fitted net, SelMix", data.y_test, tuned.predict(data.X_test)))

    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="{:.3f}".format))
    if output is None:
        output = Path(tempfile.mkdtemp(prefix="selmix_")) / "own_network.csv"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output, index=False)
    print(f"results saved to {output}")
    return output


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
