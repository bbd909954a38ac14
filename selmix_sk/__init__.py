"""selmix_sk: SelMix fine-tuning of neural classifiers, the scikit-learn way.

SelMix (selective mixup, ICLR 2024) fine-tunes a trained network for an
objective that is a function of the whole confusion matrix, such as the worst
per-class recall, by mixing features of the class pairs whose closed-form gain
on that objective is largest.
"""

from ._classifier import SelMixClassifier
from ._modules import MLP, LogitAdjustedLoss, SmallCNN
from ._plugin import TunedOffsetsClassifierCV

__all__ = ["MLP", "LogitAdjustedLoss", "SelMixClassifier", "SmallCNN", "TunedOffsetsClassifierCV"]
__version__ = "0.2.0"
