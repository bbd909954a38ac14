"""The fine-tuning loop on skorch: its learning-rate schedule, step by step."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from selmix_sk import MLP
from selmix_sk._finetune import SelMixNet
from selmix_sk._samplers import PairSampler
from selmix_sk.mixup import FeatureMixer


class RecordSteps(Callback):
    """The learning rate of every group at each step, and how many epochs began."""

    def initialize(self):
        self.lrs_, self.epochs_ = [], 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_ += 1

    def on_batch_end(self, net, training=False, **kwargs):
        assert training
        self.lrs_.append([group["lr"] for group in net.optimizer_.param_groups])


def _finetune(steps, refresh_every, callbacks):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(60, 4, generator=generator)
    y = torch.arange(60) % 3
    torch.manual_seed(0)
    module = MLP(4, 3, hidden_units=(8,))
    sampler = PairSampler(X, y, 3, 8, 0.6, generator)
    sampler.set_pair_probabilities(torch.ones(3, 3))
    net = SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module),
                    refresh_every=refresh_every, total_steps=steps,
                    criterion=nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.01,
                    optimizer__param_groups=[("head.*", {"lr": 0.1})], batch_size=8,
                    callbacks=callbacks, device="cpu")
    net.fit(X, y)


@pytest.mark.parametrize("steps, refresh_every", [(23, 5), (7, 7)])
def test_the_learning_rate_anneals_as_torchs_cosine_schedule_stepped_every_batch(
        steps, refresh_every):
    record = RecordSteps()
    _finetune(steps, refresh_every, [("record", record)])

    # skorch puts the head's group first, then the rest at ``lr``.
    reference = torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))], "lr": 0.1},
                                 {"params": [nn.Parameter(torch.zeros(1))], "lr": 0.01}])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=steps)
    expected = []
    for _ in range(steps):
        expected.append([group["lr"] for group in reference.param_groups])
        reference.step()
        schedule.step()
    # One record per step, of the rates that step used; one epoch per refresh period.
    np.testing.assert_allclose(record.lrs_, expected, rtol=1e-12, atol=1e-15)
    assert record.epochs_ == -(-steps // refresh_every)
