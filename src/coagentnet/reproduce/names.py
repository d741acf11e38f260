"""The studies' names and the presets, without importing the analysis (pandas, SciPy): the
command line's parser lists them in ``coagentnet reproduce --help``. A test keeps
:data:`STUDY_NAMES` equal to the names of :data:`coagentnet.reproduce.studies.STUDIES`."""

STUDY_NAMES = ("mnist_shallow", "mnist_deep", "exploration", "units_k", "correlated", "tabular")

PRESETS = ("quick", "long", "paper")
"""Presets ``reproduce`` knows: ``quick`` (minutes on a laptop), ``long`` (hours on a 2-core
CPU; only the studies whose claims a longer budget can decide define it), ``paper`` (the
authors' scale, for a GPU). Every study file defines ``REQUIRED_PRESETS``."""
