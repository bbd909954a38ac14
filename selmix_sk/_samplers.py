"""Pair batches for SelMix: which samples an (i, j)-mixup draws, and where they come from.

A sampler draws ``batch_size`` class pairs ``(i, j)`` from the pair
distribution, a labelled sample of class i and a sample of class j for each
pair, and a mixing coefficient ``lam ~ Uniform(lambda_min, 1)``. The drawing is
the same for every sampler (:class:`_PairDraws`); the samplers differ only in
where the items come from: a tensor (:class:`PairSampler`) or a torch
``Dataset`` read a batch at a time (:class:`DatasetPairSampler`).

Unlabelled samples carry the label -1, as in :mod:`sklearn.semi_supervised`.
They are never the first sample of a pair; the second sample of class j comes
from the unlabelled samples whose *pseudo-label* is j, once
:meth:`_PairDraws.set_pseudo_labels` has set them, and from the labelled
samples of class j for a class that no unlabelled sample is assigned to. The
samplers only ever see -1 for an unlabelled sample: its true label cannot be
read because it is never given.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from ._batching import _check_pair, dataset_labels, load_inputs

__all__ = []


def _count(labels, n_classes):
    """Samples per class of ``labels`` (-1 counts nowhere), without a host-device sync."""
    counts = torch.zeros(n_classes, dtype=torch.long, device=labels.device)
    return counts.scatter_add_(0, labels.clamp_min(0), (labels >= 0).long())


class _ClassMembers:
    """The item indices of every class, sorted by class.

    ``order[starts[k] : starts[k] + counts[k]]`` are the items of class k.
    """

    def __init__(self, order, counts, starts):
        self.order = order
        self.counts = counts
        self.starts = starts

    @classmethod
    def from_labels(cls, labels, items, n_classes):
        """Members by ``labels`` (-1: none) of the item indices ``items``."""
        by_label = torch.argsort(labels, stable=True)
        counts = _count(labels, n_classes)
        # The -1 entries sort first; the classes start after them.
        unassigned = (labels < 0).sum()
        return cls(items[by_label], counts, unassigned + torch.cumsum(counts, 0) - counts)


class _PairDraws:
    """Class-indexed drawing of (i, j) pairs, shared by every sampler.

    Subclasses say where items come from by implementing ``_load(indices)``.

    Parameters
    ----------
    y : torch.Tensor of shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``, or -1 for an unlabelled sample.
    n_classes, batch_size : int
    lambda_min : float
    generator : torch.Generator
        On the device of ``y``; seeds every draw.
    """

    def __init__(self, y, n_classes, batch_size, lambda_min, generator):
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {tuple(y.shape)}.")
        if len(y) and (int(y.min()) < -1 or int(y.max()) >= n_classes):
            raise ValueError(
                f"y must hold encoded labels in 0 .. {n_classes - 1}, or -1 for an unlabelled "
                f"sample; got values in {int(y.min())} .. {int(y.max())}."
            )
        self.y = y
        self.n_classes = n_classes
        self.batch_size = batch_size
        self.lambda_min = lambda_min
        self.generator = generator
        self.unlabelled_indices = torch.nonzero(y < 0).flatten()
        items = torch.arange(len(y), device=y.device)
        self._labelled = _ClassMembers.from_labels(y, items, n_classes)
        self._requested = torch.ones(n_classes, n_classes, dtype=torch.float64, device=y.device)
        pairs = torch.arange(n_classes**2, device=y.device)
        # Pair p is the classes (i, j) = (p // K, p % K): rows i and K + j of ``_members``.
        self._pair_classes = torch.stack([pairs // n_classes, pairs % n_classes + n_classes])
        self._set_second(self._labelled)

    @property
    def n_unlabelled(self):
        """Number of unlabelled samples (label -1)."""
        return len(self.unlabelled_indices)

    def _update_pairs(self):
        # A class with no sample to draw (a partial_fit chunk may lack it) is never drawn.
        first = (self._labelled.counts > 0).to(torch.float64)
        second = (self._second.counts > 0).to(torch.float64)
        mask = first[:, None] * second[None, :]
        weights = self._requested.to(mask) * mask
        if not weights.sum() > 0:
            weights = mask
        self.pair_probabilities = (weights / weights.sum()).flatten()

    def _set_second(self, second):
        """Draw second samples from ``second``, whose order begins with the labelled order."""
        self._second = second
        # One table for both halves of a pair, so that a batch draws all its samples in a
        # handful of tensor operations (each costs microseconds on the CPU, as much as a
        # small step's): rows 0 .. K - 1 for the labelled members of each class, K .. 2K - 1
        # for its second samples, as positions in ``second.order``. Columns: count, start,
        # last offset.
        counts = torch.cat([self._labelled.counts, second.counts])
        starts = torch.cat([self._labelled.starts, second.starts])
        self._members = torch.stack([counts, starts, counts - 1], dim=1)
        self._update_pairs()

    def set_pair_probabilities(self, probabilities):
        """Use ``probabilities`` (K x K, any scale) for the following draws."""
        self._requested = probabilities
        self._update_pairs()

    def set_pseudo_labels(self, labels):
        """Draw the second sample of class j from the unlabelled samples labelled j.

        Parameters
        ----------
        labels : torch.Tensor of shape (n_unlabelled,)
            A pseudo-label for every unlabelled sample, in the order of
            ``unlabelled_indices``, on the sampler's device; -1 leaves a sample
            out. A class that no unlabelled sample is assigned to draws from
            its labelled samples.
        """
        labels = torch.as_tensor(labels, device=self.y.device).long()
        if labels.shape != (self.n_unlabelled,):
            raise ValueError(
                f"Expected {self.n_unlabelled} pseudo-labels (one per unlabelled sample), got "
                f"shape {tuple(labels.shape)}."
            )
        if self.n_unlabelled and (int(labels.min()) < -1 or int(labels.max()) >= self.n_classes):
            raise ValueError(f"Pseudo-labels must lie in -1 .. {self.n_classes - 1}.")
        pool = _ClassMembers.from_labels(labels, self.unlabelled_indices, self.n_classes)
        labelled = self._labelled
        has_pool = pool.counts > 0
        self._set_second(_ClassMembers(
            torch.cat([labelled.order, pool.order]),
            torch.where(has_pool, pool.counts, labelled.counts),
            torch.where(has_pool, len(labelled.order) + pool.starts, labelled.starts),
        ))

    def _draw_items(self, n_batches):
        """Item indices of ``n_batches`` batches, ``(n_batches, 2B)``: first then second samples.

        Also their mixing coefficients, ``(n_batches, B)``. The random numbers are drawn a
        batch at a time, in the order of one batch: its pairs, then the offsets of its first
        samples, of its second samples and its coefficients; on the CPU one draw of 3B
        uniforms is its three parts drawn in turn. So ``n_batches`` batches drawn at once are
        those of as many draws of one; all the rest is done once for them all.
        """
        B = self.batch_size
        device = self.pair_probabilities.device
        pairs = torch.empty(n_batches, B, dtype=torch.long, device=device)
        uniform = torch.empty(n_batches, 3 * B, device=device)
        for index in range(n_batches):
            torch.multinomial(self.pair_probabilities, B, replacement=True,
                              generator=self.generator, out=pairs[index])
            torch.rand(3 * B, generator=self.generator, device=device, out=uniform[index])
        classes = self._pair_classes[:, pairs].transpose(0, 1).flatten()
        counts, starts, last = self._members[classes].unbind(1)
        within = (uniform[:, : 2 * B].flatten() * counts).long().clamp_max(last)
        lam = self.lambda_min + (1.0 - self.lambda_min) * uniform[:, 2 * B:]
        return self._second.order[starts + within].view(n_batches, 2 * B), lam

    def draw_indices(self):
        """Item indices of one batch: ``(first, second, lam)``, without a host-device sync."""
        items, lam = self._draw_items(1)
        return *items[0].chunk(2), lam[0]

    def draw(self):
        """One batch ``(x_first, x_second, y_first, lam)``."""
        return next(self.draws(1))

    def draws(self, n_batches):
        """``n_batches`` batches as that many calls of :meth:`draw` give them, in fewer steps.

        Only the random draws are made batch by batch: picking the items
        and the coefficients is a few tensor operations for all the
        batches. The inputs are loaded a batch at a time.
        """
        if n_batches < 1:
            return
        items, lam = self._draw_items(n_batches)
        y_first = self._on_device(self.y[items[:, : self.batch_size]])
        for batch_items, batch_y, batch_lam in zip(
            items.unbind(), y_first.unbind(), self._on_device(lam).unbind(), strict=True
        ):
            yield *self._load(batch_items).chunk(2), batch_y, batch_lam

    def unlabelled_batches(self, batch_size):
        """The unlabelled inputs, in the order of ``unlabelled_indices``, a batch at a time.

        For pseudo-labelling: the caller predicts them and hands the result to
        :meth:`set_pseudo_labels`.
        """
        if self.n_unlabelled:
            for chunk in self.unlabelled_indices.split(batch_size):
                yield self._load(chunk)

    def _on_device(self, tensor):
        return tensor


class PairSampler(_PairDraws):
    """Draws (i, j)-mixup batches from tensors on the module's device, vectorised.

    A batch draws ``batch_size`` class pairs from the pair distribution, then
    one sample of class i and one of class j for each pair, and a mixing
    coefficient ``lam ~ Uniform(lambda_min, 1)``: a few tensor operations,
    no Python loop per sample and no host-device synchronisation.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        Training inputs, on the device that the module runs on.
    y : torch.Tensor of shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1`` on the same device; -1 marks
        an unlabelled sample (see :meth:`set_pseudo_labels`).
    n_classes : int
    batch_size : int
    lambda_min : float
    generator : torch.Generator
        On the same device; seeds every draw.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._samplers import PairSampler
    >>> X = torch.arange(6.0)[:, None]
    >>> y = torch.tensor([0, 0, 1, 1, -1, -1])
    >>> sampler = PairSampler(X, y, 2, 4, 0.6, torch.Generator().manual_seed(0))
    >>> sampler.set_pair_probabilities(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))
    >>> x_first, x_second, y_first, lam = sampler.draw()
    >>> y_first.tolist(), bool((x_second >= 2).all() and (x_second < 4).all())
    ([0, 0, 0, 0], True)
    >>> sampler.set_pseudo_labels(torch.tensor([1, 1]))  # samples 4 and 5 look like class 1
    >>> bool((sampler.draw()[1] >= 4).all())
    True
    """

    def __init__(self, X, y, n_classes, batch_size, lambda_min, generator):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples and y {len(y)}.")
        super().__init__(y, n_classes, batch_size, lambda_min, generator)
        self.X = X

    def _load(self, indices):
        return self.X[indices]


def make_pair_sampler(X, y, n_classes, batch_size, lambda_min, seed, device):
    """The sampler for ``X``: a Dataset is read by batch, arrays and tensors move to ``device``.

    Parameters
    ----------
    X : array-like, torch.Tensor or torch.utils.data.Dataset
    y : array-like of shape (n_samples,)
        Encoded labels, -1 for an unlabelled sample; never read from a Dataset.
    n_classes, batch_size : int
    lambda_min : float
    seed : int
        Seeds the draws, on the device that draws them.
    device : str or torch.device

    Returns
    -------
    sampler : PairSampler or DatasetPairSampler

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk._samplers import make_pair_sampler
    >>> X, y = np.zeros((4, 3), dtype=np.float32), np.array([0, 1, 1, -1])
    >>> make_pair_sampler(X, y, 2, 8, 0.6, seed=0, device="cpu").n_unlabelled
    1
    """
    device = torch.device(device)
    if isinstance(X, Dataset):
        generator = torch.Generator().manual_seed(int(seed))
        return DatasetPairSampler(X, np.asarray(y), n_classes, batch_size, lambda_min,
                                  generator, device=device)
    generator = torch.Generator(device=device).manual_seed(int(seed))
    return PairSampler(torch.as_tensor(X, device=device),
                       torch.as_tensor(np.asarray(y), dtype=torch.long, device=device),
                       n_classes, batch_size, lambda_min, generator)


class DatasetPairSampler(_PairDraws):
    """Draws (i, j)-mixup batches from a torch ``Dataset``, loading only the batch.

    The labels are read once (see :func:`dataset_labels`); the items of a
    batch are read from the Dataset by index, collated on the CPU and moved to
    ``device``. The draws themselves run on the CPU, since a Dataset is
    indexed by Python integers.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Yields ``(x, y)`` pairs; ``x`` a tensor, array or number.
    y : array-like of shape (len(dataset),), default=None
        Encoded labels in ``0 .. n_classes - 1``, -1 for an unlabelled item;
        None reads the Dataset's own labels, which must be encoded so.
    n_classes, batch_size : int
    lambda_min : float
    generator : torch.Generator
        On the CPU; seeds every draw.
    device : str or torch.device, default="cpu"
        Where the batches go.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from selmix_sk._samplers import DatasetPairSampler
    >>> dataset = TensorDataset(torch.randn(10, 1, 8, 8), torch.arange(10) % 2)
    >>> sampler = DatasetPairSampler(dataset, None, 2, 4, 0.6, torch.Generator().manual_seed(0))
    >>> [tuple(part.shape) for part in sampler.draw()]
    [(4, 1, 8, 8), (4, 1, 8, 8), (4,), (4,)]
    """

    def __init__(self, dataset, y, n_classes, batch_size, lambda_min, generator, device="cpu"):
        if generator.device.type != "cpu":
            raise ValueError("A Dataset is read by Python indices: the generator must be on "
                             f"the CPU, got {generator.device}.")
        if y is None:
            labels = dataset_labels(dataset)
        else:
            labels = np.asarray(y)
            if len(dataset):
                _check_pair(dataset[0], 0)  # fail now, not at the first draw
        if len(labels) != len(dataset):
            raise ValueError(f"The Dataset has {len(dataset)} items and y {len(labels)}.")
        super().__init__(torch.as_tensor(labels, dtype=torch.long), n_classes, batch_size,
                         lambda_min, generator)
        self.dataset = dataset
        self.device = torch.device(device)

    def _load(self, indices):
        return self._on_device(load_inputs(self.dataset, indices))

    def _on_device(self, tensor):
        return tensor.to(self.device, non_blocking=True)
