"""Streaming with ``partial_fit``: are the classes that later chunks lack kept?

The long-tailed digits' training set arrives in 5 chunks, seen 8 times over; the three
rarest classes come in the first chunk only, as a stream's rare classes tend to. Each
``partial_fit`` call adds to its chunk the samples kept in memory (``memory_size`` per
class, a uniform sample of each class so far), holds out a fifth of every class of the
two, trains one epoch on the rest and runs 20 SelMix steps steered by what was held out.
``memory_size=0`` streams each chunk alone. One ``fit`` on all the chunks at once, with
the same settings, is the reference.

Usage: ``python partial_fit_stream.py [OUTPUT.csv] [N_SEEDS]`` (1 seed by default, about
a minute; ``selmix_sk.benchmark.run_stream`` measures more seeds).
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from selmix_sk import SelMixClassifier
from selmix_sk.benchmark import stream_chunks
from selmix_sk.datasets import load_long_tailed_digits
from selmix_sk.metrics import mean_recall_score, min_recall_score

N_CHUNKS, N_PASSES, N_RARE, STEPS_PER_CALL = 5, 8, 3, 20


def scores(clf, data, rare, seconds):
    y_pred = clf.predict(data.X_test)
    return {
        "mean_recall": mean_recall_score(data.y_test, y_pred),
        "min_recall": min_recall_score(data.y_test, y_pred),
        "rare_recall": min(np.mean(y_pred[data.y_test == k] == k) for k in rare),
        "seconds": seconds,
    }


def compare(seed):
    data = load_long_tailed_digits(random_state=seed)
    chunks, rare = stream_chunks(data.y_train, N_CHUNKS, N_RARE, np.random.RandomState(seed))
    start = time.perf_counter()
    whole = SelMixClassifier(finetune_steps=STEPS_PER_CALL, random_state=seed)
    whole.fit(data.X_train, data.y_train)
    rows = [{"seed": seed, "model": "fit", **scores(whole, data, rare,
                                                    time.perf_counter() - start)}]
    for memory_size in (0, 50):
        stream = SelMixClassifier(finetune_steps=STEPS_PER_CALL, memory_size=memory_size,
                                  random_state=seed)
        start = time.perf_counter()
        for _ in range(N_PASSES):
            for chunk in chunks:
                stream.partial_fit(data.X_train[chunk], data.y_train[chunk],
                                   classes=np.arange(10))
        model = f"partial_fit, memory_size={memory_size}"
        rows.append({"seed": seed, "model": model,
                     **scores(stream, data, rare, time.perf_counter() - start)})
    return rows


if __name__ == "__main__":
    output = Path(sys.argv[1] if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "stream.csv")
    n_seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    table = pd.DataFrame([row for seed in range(n_seeds) for row in compare(seed)])
    columns = ["mean_recall", "min_recall", "rare_recall", "seconds"]
    summary = table.groupby("model", sort=False)[columns].mean()
    print(f"Long-tailed digits, test recalls, mean over {n_seeds} seed(s):")
    print(summary.round(3).to_string())
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output, index=False)
    print(f"Wrote {output}")
