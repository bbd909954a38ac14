"""Mean recall subject to a coverage constraint: every class predicted often enough.

``constraints={"min_coverage": 0.9}`` asks that every class receive at least 90%
of its share of the predictions. SelMix ascends a Lagrangian whose multipliers
grow on the classes predicted too rarely on the validation set and, since
``tune_offsets="auto"`` tunes them under constraints, adds per-class logit
offsets fitted on the validation set afterwards.

On long-tailed digits the script fits the unconstrained mean recall and the
constrained one, and prints for both the mean recall and the smallest coverage
ratio on the balanced test set (:func:`~selmix_sk.metrics.coverage_score`),
with the coverage of every class. A coverage ratio is a noisy count on 35 test
images a class: read it against the sampling floor in the user guide.

Usage::

    python examples/coverage_constraint.py [OUTPUT.csv]

About 20 seconds on two CPU cores.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from selmix_sk import SelMixClassifier
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.metrics import coverage_score, mean_recall_score


def main(output=None):
    data = load_long_tailed_digits(random_state=1)
    fit_data = {"X": data.X_train, "y": data.y_train, "X_val": data.X_val, "y_val": data.y_val}
    # The network alone: no offsets tuned on the validation set (the decision layer).
    pretrained = SelMixClassifier(finetune_steps=0, tune_offsets=False, random_state=0)
    pretrained.fit(**fit_data)
    constrained = "mean recall, coverage >= 0.9"
    models = {
        "mean recall": SelMixClassifier(pretrained.net_, objective="mean_recall",
                                        finetune_steps=300, random_state=0),
        constrained: SelMixClassifier(
            pretrained.net_, objective="mean_recall", constraints={"min_coverage": 0.9},
            finetune_steps=300, random_state=0,
        ),
    }
    rows = []
    for name, model in models.items():
        y_pred = model.fit(**fit_data).predict(data.X_test)
        # A class's coverage: its share of the predictions over its share of the test set.
        shares = np.bincount(y_pred, minlength=10) / np.bincount(data.y_test, minlength=10)
        rows.append({"model": name,
                     "mean_recall": mean_recall_score(data.y_test, y_pred),
                     "min_coverage": coverage_score(data.y_test, y_pred),
                     **{f"coverage_{k}": share for k, share in enumerate(shares)}})
    table = pd.DataFrame(rows)
    print(table[["model", "mean_recall", "min_coverage"]].to_string(
        index=False, float_format="{:.3f}".format))
    print("offsets of the constrained model:", np.round(models[constrained].offsets_, 2))

    if output is None:
        output = Path(tempfile.mkdtemp(prefix="selmix_")) / "coverage_constraint.csv"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output, index=False)
    print(f"results saved to {output}")
    return output


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
