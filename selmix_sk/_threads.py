"""How many threads torch and the BLAS libraries use while the estimator works.

torch starts with a thread per core. The networks of a table are small: one
step is a few small matrix products, whose threads spend more time waiting for
each other than computing. On a quiet machine one thread is as fast as two for
them; with one other process busy, two threads make a fit six times slower
(``docs/benchmarks.md``). Images are another matter: a convolution has work
for every core, and torch's threads are faster there on a quiet machine. So
:func:`estimator_threads` runs a network of vector inputs and at most a
million parameters with one thread, any other with torch's own, unless told
otherwise; :func:`limit_threads` restores the caller's settings afterwards,
also on an error or Ctrl-C.
"""

from contextlib import contextmanager, nullcontext

import torch
from threadpoolctl import threadpool_limits

__all__ = ["estimator_threads", "limit_threads", "threads_for"]

# Above this many parameters, a network on vector inputs has work for more than one thread.
SMALL_NETWORK = 1_000_000


@contextmanager
def limit_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads, restoring them after.

    Parameters
    ----------
    n_threads : int
        Threads for torch's intra-op parallelism and for the BLAS and OpenMP
        libraries that ``threadpoolctl`` finds.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk.benchmark import limit_threads
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


def threads_for(module, sample_shape):
    """Threads a network should train with on the CPU: 1 for a small one on vectors, else None.

    None means torch's own setting.

    Examples
    --------
    >>> from torch import nn
    >>> from selmix_sk._threads import threads_for
    >>> threads_for(nn.Linear(20, 3), (20,)), threads_for(nn.Conv2d(1, 8, 3), (1, 28, 28))
    (1, None)
    """
    n_parameters = sum(parameter.numel() for parameter in module.parameters())
    return 1 if len(sample_shape) == 1 and n_parameters <= SMALL_NETWORK else None


def estimator_threads(n_threads, device, module, sample_shape):
    """The thread limit of the estimator's parameter ``n_threads`` for ``module``, as a context.

    Parameters
    ----------
    n_threads : "auto", int or None
        "auto": :func:`threads_for` on the CPU, nothing on a GPU; an int:
        that many; None: the caller's settings, untouched.
    device : str
    module : torch.nn.Module
    sample_shape : tuple
        The shape of one input sample.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from selmix_sk._threads import estimator_threads
    >>> with estimator_threads("auto", "cpu", nn.Linear(20, 3), (20,)):
    ...     torch.get_num_threads()
    1
    """
    if n_threads == "auto":
        n_threads = threads_for(module, sample_shape) if device == "cpu" else None
    return nullcontext() if n_threads is None else limit_threads(n_threads)
