"""Which refresh of fine-tuning to keep, by the held-out record.

Fine-tuning records the held-out confusion matrix at every refresh; the
estimator keeps the weights of one of them. :class:`RefreshChoice` applies the
rule a refresh at a time, as a network trained alone goes;
:func:`select_refresh` applies it to a whole pooled record, as cross-fitted
networks share it; :class:`RefreshRule` is the rule the estimator asks for.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._record import HISTORY_COLUMNS, pooled_confusions, pooled_history

__all__ = [
    "RefreshChoice",
    "RefreshRule",
    "choose_refresh",
    "select_refresh",
]

# Scores closer than this count as equal.
_TOLERANCE = 1e-12


class RefreshChoice:
    """The refresh to keep, decided as the refreshes come.

    The rule of :func:`select_refresh`, one refresh at a time, so that a
    network fine-tuned alone need not keep a copy of its weights at every
    refresh: only at the start and at the current candidate, the best
    refresh so far. Refreshes rank by ``objective.score`` of the argmax
    confusion matrix, ties broken by ``objective.value`` of the mean
    probabilities, the earlier refresh winning a full tie. The candidate is
    kept if its score leads the start's by at least ``min_lead``; else the
    start is. A built-in objective's score is a function of the confusion
    matrix alone, so ranking a refresh as it comes ranks it as after
    training; an objective of one's own whose score reads its multipliers
    ranks each refresh by the multipliers of its time.

    Parameters
    ----------
    objective : Objective
    min_lead : float, default=0.0
        How much the kept refresh's score must beat the start's by.
    keep_best : bool, default=True
        False keeps the latest refresh, whatever its score.

    Attributes
    ----------
    n_offered : int
        Refreshes offered so far; the first is the start.
    candidate : int or None
        The best refresh so far (the latest without ``keep_best``).

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._choice import RefreshChoice
    >>> from selmix_sk.objectives import make_objective
    >>> choice = RefreshChoice(make_objective("min_recall"), min_lead=1 / 5)
    >>> start = np.array([[0.5, 0.0], [0.3, 0.2]])  # recalls 1.0 and 0.4 of 5 samples each
    >>> better = np.array([[0.45, 0.05], [0.1, 0.4]])  # 0.9 and 0.8
    >>> choice.offer(start, start), choice.offer(better, better), choice.offer(start, start)
    (True, True, False)
    >>> choice.kept
    1
    """

    def __init__(self, objective, *, min_lead=0.0, keep_best=True):
        self.objective = objective
        self.min_lead = min_lead
        self.keep_best = keep_best
        self.n_offered = 0
        self.candidate = None

    def offer(self, counted, soft):
        """Rank the next refresh by its confusion matrices, argmax ``counted`` and ``soft``.

        Returns
        -------
        is_candidate : bool
            Whether it is now the candidate: the refresh whose weights to keep.
        """
        index = self.n_offered
        self.n_offered += 1
        if not self.keep_best:
            self.candidate = index
            return True
        score = self.objective.score(counted)
        if index == 0:
            self._start_score = score
        elif score < self._best[0]:
            return False
        # The soft value only breaks ties: computed for a refresh whose score is not behind.
        key = (score, self.objective.value(soft))
        if index and key <= self._best:
            return False
        self.candidate, self._best = index, key
        return True

    @property
    def kept(self):
        """The refresh to keep of those offered: the candidate if it leads the start enough."""
        if self.candidate is None:
            raise ValueError("No refresh was offered.")
        if not self.keep_best:
            return self.candidate
        leads = self._best[0] >= self._start_score + self.min_lead - _TOLERANCE
        return self.candidate if leads else 0


def select_refresh(objective, counted, soft, *, min_lead=0.0, keep_best=True):
    """The refresh to keep: the best on the held-out record, if it beats the start.

    Ranks the refreshes by ``objective.score`` of the argmax confusion
    matrices and breaks ties, common where a class has a few held-out
    samples, by the objective on the mean probabilities. The best replaces
    the start, the network fine-tuning began from, only if its score leads
    the start's by at least ``min_lead``; else the start is kept. So
    fine-tuning does no harm to the objective on the signal it trusts; it
    may trade the classes' mean recall for it. :class:`RefreshChoice`
    applies the rule as the refreshes come.

    On a single part that ``cv`` holds out of ``X``, ``fit`` asks for a
    lead of one held-out sample of the smallest class: a smaller one is
    within what a single sample moves, and picking the best of many
    refreshes on such a record fits its noise. A validation set and the
    folds' pooled record ask for none.

    Parameters
    ----------
    objective : Objective
    counted, soft : ndarray of shape (n_refreshes, K, K)
        From :func:`pooled_confusions`; the first refresh is the start.
    min_lead, keep_best
        The rule, as in :class:`RefreshChoice`.

    Returns
    -------
    index : int

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._choice import select_refresh
    >>> from selmix_sk.objectives import make_objective
    >>> start = np.array([[0.5, 0.0], [0.3, 0.2]])  # recalls 1.0 and 0.4 of 5 samples each
    >>> better = np.array([[0.45, 0.05], [0.1, 0.4]])  # 0.9 and 0.8
    >>> records = np.stack([start, better])
    >>> select_refresh(make_objective("min_recall"), records, records, min_lead=1 / 5)
    1

    A lead of less than one sample of the smallest class keeps the start; a
    lead of one is kept even where it costs mean recall (0.7 at the start,
    0.6 here):

    >>> slightly = np.array([[0.5, 0.0], [0.28, 0.22]])  # 1.0 and 0.44
    >>> traded = np.array([[0.3, 0.2], [0.2, 0.3]])  # 0.6 and 0.6
    >>> objective = make_objective("min_recall")
    >>> select_refresh(objective, np.stack([start, slightly]), np.stack([start, slightly]),
    ...                min_lead=1 / 5)
    0
    >>> select_refresh(objective, np.stack([start, traded]), np.stack([start, traded]),
    ...                min_lead=1 / 5)
    1
    """
    choice = RefreshChoice(objective, min_lead=min_lead, keep_best=keep_best)
    for C, S in zip(counted, soft, strict=True):
        choice.offer(C, S)
    return choice.kept


@dataclass(frozen=True)
class RefreshRule:
    """The estimator's rule for the refresh to keep, before the held-out labels are known.

    Parameters
    ----------
    keep_best : bool, default=True
        False keeps the latest refresh.
    lead_of_a_sample : bool, default=False
        The kept refresh must beat the start by one held-out sample of the
        smallest class (``min_lead = 1 / n_smallest``): a smaller lead is
        within what a single sample moves, and picking the best of many
        refreshes on such a record fits its noise.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._choice import RefreshRule
    >>> from selmix_sk.objectives import make_objective
    >>> rule = RefreshRule(lead_of_a_sample=True)
    >>> float(rule.min_lead(np.array([0, 0, 1, 1, 1]), 2))
    0.5
    """

    keep_best: bool = True
    lead_of_a_sample: bool = False

    def min_lead(self, y_held_out, n_classes):
        """The lead over the start that a refresh needs, for held-out labels ``y_held_out``."""
        if not self.lead_of_a_sample:
            return 0.0
        return 1.0 / np.bincount(y_held_out, minlength=n_classes).min()

    def choice(self, objective, y_held_out, n_classes):
        """A :class:`RefreshChoice` by this rule, for held-out labels ``y_held_out``."""
        return RefreshChoice(objective, min_lead=self.min_lead(y_held_out, n_classes),
                             keep_best=self.keep_best)


def choose_refresh(networks, rule, settings):
    """The refresh to keep, by ``rule`` on the held-out record pooled over ``networks``.

    A network trained alone chose as it went (``FittedNetwork.kept``);
    several choose on their pooled out-of-fold record. Every network gets the
    weights of the refresh kept.

    Parameters
    ----------
    networks : list of FittedNetwork
    rule : RefreshRule
    settings : TrainingSettings

    Returns
    -------
    kept : int or None
        The index of the refresh kept; None when nothing was held out.
    history : pandas.DataFrame
        The pooled record, a row per refresh (see :func:`~selmix_sk._record.pooled_history`).
    """
    if networks[0].records is None:
        return None, pd.DataFrame(columns=[*HISTORY_COLUMNS, "selected"])
    objective = networks[0].objective
    y_held_out = [network.y_held_out for network in networks]
    counted, soft = pooled_confusions(y_held_out, [network.logits for network in networks],
                                      settings.n_classes)
    if len(networks) == 1 and networks[0].kept is not None:
        kept = networks[0].kept
    else:
        min_lead = rule.min_lead(np.concatenate(y_held_out), settings.n_classes)
        kept = select_refresh(objective, counted, soft, min_lead=min_lead,
                              keep_best=rule.keep_best)
    for network in networks:
        network.restore(kept, settings)
    records = [network.records for network in networks]
    return kept, pooled_history(objective, settings.class_labels, records, counted, kept)
