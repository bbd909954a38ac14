"""Frozen embeddings: features from a fixed backbone, fed to SelMix as a table.

When a large network already turns images (or text) into embeddings, SelMix
need not train it: compute the embeddings once, then fit
:class:`~selmix_sk.SelMixClassifier` on them as on any table. Its default
network, a small MLP, is pre-trained on the embeddings and fine-tuned with SelMix;
the backbone is never touched, so this costs what a tabular fit costs.

The backbone here is torchvision's ResNet-18, kept frozen in evaluation mode. In
practice it would carry pre-trained weights (``weights="DEFAULT"``); this script
reads nothing from the network, so its weights are random (``weights=None``),
and a random convolutional network is a fixed, generic feature extractor. The
long-tailed digits, upsampled to 32x32 and repeated over three channels, go
through it once, and the 512 pooled features of every image are the table.

The script compares the pre-trained MLP and SelMix for the worst per-class
recall on these embeddings, and writes the test recalls to a CSV file.

Usage::

    python examples/frozen_embeddings.py [OUTPUT.csv]

About 20 seconds on two CPU cores.
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch
from torch.nn import functional as F
from torchvision.models import resnet18

from selmix_sk import SelMixClassifier
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.metrics import mean_recall_score, min_recall_score


@torch.no_grad()
def embed(backbone, X, batch_size=256):
    """The backbone's pooled features of 8x8 digit images given as rows of 64 pixels."""
    images = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    images = F.interpolate(images, size=32, mode="bilinear").expand(-1, 3, -1, -1)
    return torch.cat([backbone(batch) for batch in images.split(batch_size)]).numpy()


def main(output=None):
    torch.manual_seed(0)
    backbone = resnet18(weights=None)
    backbone.fc = torch.nn.Identity()  # the 512 pooled features instead of ImageNet's logits
    backbone.eval()

    data = load_long_tailed_digits(random_state=0)
    Z_train, Z_val, Z_test = (embed(backbone, X) for X in (data.X_train, data.X_val, data.X_test))
    print(f"embeddings: {Z_train.shape[1]} features; {len(Z_train)} training images")

    fit_data = {"X": Z_train, "y": data.y_train, "X_val": Z_val, "y_val": data.y_val}
    # The network alone: no offsets tuned on the validation set (the decision layer).
    pretrained = SelMixClassifier(finetune_steps=0, tune_offsets=False, random_state=0)
    pretrained.fit(**fit_data)
    selmix = SelMixClassifier(pretrained.net_, objective="min_recall", random_state=0)
    selmix.fit(**fit_data)
    rows = []
    for name, model in {"pre-trained MLP": pretrained, "SelMix (min recall)": selmix}.items():
        y_pred = model.predict(Z_test)
        rows.append({"model": name, "mean_recall": mean_recall_score(data.y_test, y_pred),
                     "min_recall": min_recall_score(data.y_test, y_pred)})
    table = pd.DataFrame(rows)
    print("test recalls on the frozen embeddings:")
    print(table.to_string(index=False, float_format="{:.3f}".format))

    if output is None:
        output = Path(tempfile.mkdtemp(prefix="selmix_")) / "frozen_embeddings.csv"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output, index=False)
    print(f"results saved to {output}")
    return output


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
