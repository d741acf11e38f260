"""The data sets training loads, once per process and data set.

A check before training (``sweeps.plan.check_configs``) and the training share one load. The
cache is keyed by the data set's loader as well as its name, so a data set registered again
under the same name (``register_dataset(..., replace=True)``) is loaded anew, never served from
the old arrays.
"""

from __future__ import annotations

import functools

from coagentnet.config import Config

__all__ = ["config_data", "drop_loaded_data"]


def config_data(cfg: Config):
    """The fixed data set ``cfg`` trains on, loaded once per process."""
    from coagentnet.data.datasets import loader_of

    args = (cfg.dataset, cfg.data_dir, cfg.split_seed, cfg.normalize, cfg.input_range)
    return _load(*args, loader_of(cfg.dataset))


@functools.lru_cache(maxsize=8)
def _load(name, data_dir, split_seed, normalize, input_range, loader):
    """``loader`` is only a key (see the module's docstring)."""
    from coagentnet.data import load_dataset

    return load_dataset(
        name, data_dir=data_dir, split_seed=split_seed, normalize=normalize,
        input_range=input_range,
    )  # fmt: skip


def drop_loaded_data() -> None:
    """Forget every loaded data set."""
    _load.cache_clear()
