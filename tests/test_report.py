"""What `selmix-sk fit` says it kept, from the fitted attributes of the classifier."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from selmix_sk._report import describe_columns, kept_summary


def _fitted(kept_refresh, n_refreshes=3, score=0.6667, counts=(40, 3, 12), cv=5,
            objective="min_recall", start_weight=0.0, applied=False):
    """The attributes kept_summary reads, as a fit with a refresh every 20 steps leaves them."""
    return SimpleNamespace(
        kept_refresh_=kept_refresh, held_out_score_=score,
        held_out_counts_=np.array(counts),
        history_=pd.DataFrame({"step": 20 * np.arange(n_refreshes + 1)}),
        classes_=np.array(["common", "rare", "middling"]), cv=cv, objective=objective,
        start_weight=start_weight, decision_layer_={"applied": applied},
    )


@pytest.mark.parametrize(("fitted", "kept"), [
    (_fitted(2), "Kept: fine-tuned weights (refresh 2 of 3, step 40)."),
    (_fitted(2, start_weight="auto"), "Kept: fine-tuned weights (refresh 2 of 3, step 40, "
                                      "blended with the pre-trained network)."),
    (_fitted(0), "Kept: the pre-trained network; fine-tuning (3 refreshes) did not beat it "
                 "by enough on the held-out data."),
    (_fitted(0, n_refreshes=1), "Kept: the pre-trained network; fine-tuning (1 refresh) did "
                                "not beat it by enough on the held-out data."),
    (_fitted(0, n_refreshes=0), "Kept: the pre-trained network (no fine-tuning steps)."),
])
def test_the_summary_says_whether_fine_tuning_changed_the_start(fitted, kept):
    assert kept_summary(fitted) == (f"{kept} Held-out min_recall 0.667 on 55 out-of-fold "
                                    "samples, 3 in the smallest class (rare).")


@pytest.mark.parametrize(("fitted", "validation", "samples"), [
    (_fitted(1, cv=5), None, "1,055 out-of-fold samples"),
    (_fitted(1, cv=0.2), None, "1,055 held-out samples"),
    (_fitted(1, cv=5), "valid.csv", "the 1,055 samples of valid.csv"),
])
def test_the_summary_says_where_the_held_out_samples_came_from(fitted, validation, samples):
    fitted.held_out_counts_ = np.array([1000, 3, 52])
    assert kept_summary(fitted, validation).endswith(
        f"Held-out min_recall 0.667 on {samples}, 3 in the smallest class (rare).")


def test_with_nothing_held_out_the_summary_says_so():
    fitted = _fitted(None, n_refreshes=-1, score=np.nan, counts=(0, 0, 0))
    assert kept_summary(fitted) == ("Kept: the pre-trained network, not fine-tuned; nothing "
                                    "was held out to score it.")


def test_the_summary_says_whether_the_decision_layer_applied():
    assert kept_summary(_fitted(1, applied=True)).endswith(
        "Held-out min_recall 0.667 with the decision layer on 55 out-of-fold samples, 3 in the "
        "smallest class (rare).")


def test_an_objective_object_is_named_generically():
    assert "Held-out objective 0.667 on" in kept_summary(_fitted(1, objective=object()))


def test_describe_columns_names_at_most_five_dropped_columns():
    kinds = {"x": "numeric", **{f"c{i}": "dropped" for i in range(7)}}
    assert describe_columns(kinds) == ("8 columns (1 numeric, 7 dropped: 'c0', 'c1', 'c2', "
                                       "'c3', 'c4' and 2 more)")
