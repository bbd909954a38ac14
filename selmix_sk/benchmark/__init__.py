"""The ``selmix-sk benchmark`` command: quality and speed of SelMix, with a report.

The quality suite fits every method on every data set and seed and scores it
on the test set; the speed suite times the closed-form gain against a literal
K^4 formulation, a SelMix step against a plain step and a plain loop, a
frozen backbone against the whole network, and measures the peak memory of a
fit; the stream suite runs ``partial_fit`` on chunks that lose their rare
classes, and the semi-supervised suite long-tailed digit images with most
labels hidden; the user-speed suite times ``fit(X, y)`` with the defaults
and no thread limit around it, as a user runs it, on a quiet machine and
with one core busy. :func:`run_benchmark` runs any or all of them and writes
``report.md``, CSV files and PNG plots; the report states every target as met
or NOT met and every comparison that SelMix loses.

One module per concern: ``_data`` names the data sets, ``_quality`` runs the
methods, ``_stats`` holds the paired statistics and verdicts, ``_report`` and
``_plots`` write them, ``_speed`` times the gain and the step, ``_cost`` times
cross-fitting against the single split, ``_frozen`` a frozen backbone,
``_stream`` and ``_semi`` run the stream and the semi-supervised digits,
``_user`` what a user's fit costs.
"""

from .._threads import limit_threads
from ._cost import COST_METHODS, COST_TARGET, run_cost
from ._data import HELD_OUT_DATASETS, QUALITY_DATASETS, QUICK_DATASETS
from ._frozen import FROZEN_TARGET, run_frozen_cost
from ._quality import METHODS, OBJECTIVES, PEERS, PLUGIN_PEERS, RUN_COLUMNS, run_quality
from ._report import write_report
from ._run import SUITES, run_benchmark
from ._semi import (
    SEMI_MODELS,
    SEMI_SETTINGS,
    SEMI_TARGETS,
    run_semi_supervised,
    semi_supervised_section,
)
from ._speed import GAIN_KS, literal_gain, run_speed
from ._stream import STREAM_TARGETS, run_stream, stream_chunks, stream_section
from ._user import USER_TARGETS, run_user_speed

__all__ = [
    "COST_METHODS",
    "COST_TARGET",
    "FROZEN_TARGET",
    "GAIN_KS",
    "HELD_OUT_DATASETS",
    "METHODS",
    "OBJECTIVES",
    "PEERS",
    "PLUGIN_PEERS",
    "QUALITY_DATASETS",
    "QUICK_DATASETS",
    "RUN_COLUMNS",
    "SEMI_MODELS",
    "SEMI_SETTINGS",
    "SEMI_TARGETS",
    "STREAM_TARGETS",
    "SUITES",
    "USER_TARGETS",
    "limit_threads",
    "literal_gain",
    "run_benchmark",
    "run_cost",
    "run_frozen_cost",
    "run_quality",
    "run_semi_supervised",
    "run_speed",
    "run_stream",
    "run_user_speed",
    "semi_supervised_section",
    "stream_chunks",
    "stream_section",
    "write_report",
]
