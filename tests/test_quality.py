"""What SelMix is for, on small real data: it must keep delivering as the code changes.

The full evidence, over more seeds and data sets, is `selmix-sk benchmark`. These are the
same measurements on long-tailed digits, averaged over three fixed seeds (single seeds
swing too much: 35 test images a class), with margins inside what the averages show, and
the coverage constraint on MNIST-1D, whose generator makes sets large enough to measure it.
"""

import pandas as pd
import pytest

from selmix_sk import SelMixClassifier, TunedOffsetsClassifierCV
from selmix_sk.datasets import load_long_tailed_digits, make_long_tailed_mnist1d
from selmix_sk.metrics import coverage_score, mean_recall_score, min_recall_score

SEEDS = (0, 1, 2)
METHODS = {
    "pre-trained": None,
    "pre-trained + plug-in": None,
    "SelMix": {},
    "uniform mixup": {"selection": "uniform", "tune_offsets": False},
    "coverage-constrained": {"objective": "mean_recall", "constraints": {"min_coverage": 0.95}},
}


@pytest.fixture(scope="module")
def scores():
    rows = []
    for seed in SEEDS:
        data = load_long_tailed_digits(random_state=seed)
        fit_data = (data.X_train, data.y_train, data.X_val, data.y_val)
        pretrained = SelMixClassifier(finetune_steps=0, tune_offsets=False,
                                      random_state=0).fit(*fit_data)
        plugin = TunedOffsetsClassifierCV(pretrained, cv="prefit").fit(data.X_val, data.y_val)
        for method, params in METHODS.items():
            clf = pretrained if method == "pre-trained" else plugin
            if params is not None:
                clf = SelMixClassifier(pretrained.net_, random_state=0, **params).fit(*fit_data)
            y_pred = clf.predict(data.X_test)
            rows.append({
                "method": method,
                "min_recall": min_recall_score(data.y_test, y_pred),
                "mean_recall": mean_recall_score(data.y_test, y_pred),
                "coverage": coverage_score(data.y_test, y_pred),
            })
    return pd.DataFrame(rows).groupby("method").mean()


def test_selmix_lifts_min_recall_where_uniform_mixup_does_not(scores):
    base, selmix, uniform = (scores.loc[m] for m in ("pre-trained", "SelMix", "uniform mixup"))
    assert selmix.min_recall >= base.min_recall + 0.12
    assert selmix.min_recall >= uniform.min_recall + 0.12
    assert selmix.mean_recall >= base.mean_recall - 0.015


def test_selmix_is_not_beaten_by_the_plug_in_rule(scores):
    # Per-class offsets tuned on the same validation set, on the network SelMix starts
    # from: the post-hoc rule SelMix must match. Over 10 seeds of each imbalance the two
    # are level (SelMix +0.023, +0.003 and -0.003 at imbalance 10, 50 and 100, each within
    # a standard error of 0.012 to 0.025); three seeds swing by 0.04 either way. This fails
    # when fine-tuning costs the model more than that noise, where offsets on top cannot
    # win it back.
    selmix, plugin = scores.loc["SelMix"], scores.loc["pre-trained + plug-in"]
    assert selmix.min_recall >= plugin.min_recall - 0.04


def test_coverage_constraint_lifts_the_smallest_coverage(scores):
    base, constrained = scores.loc["pre-trained"], scores.loc["coverage-constrained"]
    assert constrained.coverage >= base.coverage + 0.15
    assert constrained.mean_recall >= base.mean_recall - 0.02


def test_coverage_constraint_is_met_where_coverage_can_be_measured():
    # With 35 test images a class, even a perfectly balanced classifier at this recall
    # averages a smallest coverage ratio of 0.87 (docs/user_guide.rst), so the target of
    # 0.9 is checked on long-tailed MNIST-1D with 500 validation and 1000 test signals a
    # class. The default tunes logit offsets on top of SelMix under constraints.
    rows = []
    for seed in SEEDS:
        data = make_long_tailed_mnist1d(n_max=1000, n_val_per_class=500, n_test_per_class=1000,
                                        random_state=seed)
        fit_data = (data.X_train, data.y_train, data.X_val, data.y_val)
        pretrained = SelMixClassifier(finetune_steps=0, tune_offsets=False,
                                      random_state=0).fit(*fit_data)
        constrained = SelMixClassifier(pretrained.net_, objective="mean_recall",
                                       constraints={"min_coverage": 0.95},
                                       random_state=0).fit(*fit_data)
        for method, clf in (("pre-trained", pretrained), ("constrained", constrained)):
            y_pred = clf.predict(data.X_test)
            rows.append({"method": method,
                         "mean_recall": mean_recall_score(data.y_test, y_pred),
                         "coverage": coverage_score(data.y_test, y_pred)})
    scores = pd.DataFrame(rows).groupby("method").mean()
    base, constrained = scores.loc["pre-trained"], scores.loc["constrained"]
    assert base.coverage < 0.5
    assert constrained.coverage >= 0.9
    assert constrained.mean_recall >= base.mean_recall - 0.02
