"""The fine-tuning loop on skorch: its learning-rate schedule, the weights a refresh keeps."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from selmix_sk import MLP
from selmix_sk._choice import RefreshChoice, select_refresh
from selmix_sk._finetune import SelMixNet
from selmix_sk._record import pooled_confusions
from selmix_sk._samplers import PairSampler
from selmix_sk.callbacks import GainRefresh
from selmix_sk.mixup import FeatureMixer
from selmix_sk.objectives import make_objective


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


def _refreshes(choice):
    """A fine-tuning's GainRefresh, keeping weights at every refresh or as ``choice`` says."""
    generator = torch.Generator().manual_seed(1)
    X_val, y_val = torch.randn(30, 4, generator=generator), torch.arange(30) % 3
    refresh = GainRefresh(X_val, y_val, make_objective("min_recall").reset(np.full(3, 1 / 3)),
                          "selmix", 0.1, 0.6, "exact", np.arange(3), snapshots=True,
                          choice=choice)
    _finetune(40, 4, [("gain_refresh", refresh)])
    return refresh


def test_a_refresh_choice_keeps_the_weights_of_the_start_and_of_its_candidate_only():
    every = _refreshes(None)
    choice = RefreshChoice(make_objective("min_recall"))
    chosen = _refreshes(choice)
    assert sorted(every.snapshots_) == list(range(11))
    # The same fine-tuning, and the copies it kept are those of the same refreshes.
    assert [r["objective"] for r in chosen.records_] == [r["objective"] for r in every.records_]
    assert choice.candidate > 0 and choice.kept == choice.candidate
    # The choice made as the refreshes came is the one made on the whole record after.
    counted, soft = pooled_confusions([every.y_val.numpy()], [every.logits_], 3)
    assert select_refresh(make_objective("min_recall"), counted, soft) == choice.kept
    assert sorted(chosen.snapshots_) == [0, choice.candidate]
    for index, state in chosen.snapshots_.items():
        for name, value in state.items():
            assert torch.equal(value, every.snapshots_[index][name])
