"""Live curves in TensorBoard: an ``on_evaluation`` callback (see
:func:`coagentnet.training.loop.train_population`) that writes every metric as it is evaluated.

One event-file folder per run, ``<dir>/<label>/seed<seed>``, one scalar per
``"<split>/<metric>[/<layer>]"`` key, at the update step. Given the runs' configs, each run also
carries its hyperparameters (every config field and the seed) with its last evaluation's
whole-network metrics, for TensorBoard's HPARAMS tab (in ``seed<seed>/hparams``, written when
the writer is closed). Needs the ``tensorboard`` extra (``pip install
'coagentnet[tensorboard]'``, which installs tensorboardX).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from coagentnet.errors import ConfigError

INSTALL = "pip install 'coagentnet[tensorboard]'"


def check_writable(root: str | Path) -> Path:
    """Create ``root`` if need be and make sure files can be written there; else one-line
    :class:`ConfigError`. Called before training, so a bad folder costs nothing."""
    root = Path(root)
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise ConfigError(f"--tensorboard needs tensorboardX: {INSTALL}") from None
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".coagentnet-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"--tensorboard: cannot write to {root}: {err.strerror or err}") from None
    return root


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", label).strip("_") or "run"


class TensorBoardWriter:
    """``on_evaluation`` callback for one population: member i goes to
    ``root/labels[i]/seed<seeds[i]>``. Close it (or use ``with``) to flush the files."""

    def __init__(self, root: str | Path, labels: list[str], seeds: list[int], configs=None):
        from tensorboardX import SummaryWriter

        self.configs, self.seeds = configs, seeds
        self.last: list[dict[str, float]] = [{} for _ in seeds]
        root = check_writable(root)
        self.writers = [
            SummaryWriter(str(root / _safe(label) / f"seed{seed}"), flush_secs=10)
            for label, seed in zip(labels, seeds, strict=True)
        ]

    def __call__(self, step: int, members: list[dict[str, float]]) -> None:
        for writer, values in zip(self.writers, members, strict=True):
            for key, value in values.items():
                writer.add_scalar(key, value, global_step=step)
        self.last = [dict(values) for values in members]

    def close(self) -> None:
        if self.configs is not None:
            self._hparams()
            self.configs = None  # once
        for writer in self.writers:
            writer.close()

    def _hparams(self) -> None:
        for writer, cfg, seed, last in zip(
            self.writers, self.configs, self.seeds, self.last, strict=True
        ):
            hparams = {
                k: v if isinstance(v, bool | int | float | str) else str(v)
                for k, v in cfg.to_dict().items()
            }
            hparams["seed"] = seed
            metrics = {k: v for k, v in last.items() if k.count("/") == 1}  # whole network
            writer.add_hparams(hparams, metrics, name="hparams")

    def __enter__(self) -> TensorBoardWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
