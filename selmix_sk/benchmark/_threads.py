"""Thread limits for the benchmarks' small networks and arrays."""

from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


@contextmanager
def limit_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads, restoring them after.

    The networks and arrays of the benchmarks are small: one thread per
    process is faster than several that contend for two cores (NumPy's BLAS
    slows a batched product of small matrices ten-fold that way), and makes
    timings repeatable.

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
