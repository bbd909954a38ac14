"""The scikit-learn estimator contract, checked by scikit-learn itself."""

from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from selmix_sk import SelMixClassifier, TunedOffsetsClassifierCV

# Small budgets: the checks fit the estimator many times. Every check passes, none is expected
# to fail.
FAST = dict(finetune_steps=10, refresh_every=5, pretrain_epochs=3, device="cpu", random_state=0)


@parametrize_with_checks(
    [
        SelMixClassifier(**FAST),
        SelMixClassifier(**{**FAST, "finetune_steps": 0}),
        TunedOffsetsClassifierCV(LogisticRegression(), cv=3, random_state=0),
        TunedOffsetsClassifierCV(LogisticRegression(), cv=3, refit=False, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
