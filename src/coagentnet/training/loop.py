"""The one training loop: a population of P networks trained side by side.

Each member has its own seed (hence parameters, data order and sampling noise) and its own
scalar hyperparameters (``POPULATION_SCALARS``). One jitted program runs a ``lax.scan`` over
the updates of a chunk (an epoch) for every member (:meth:`Layout.map_members`: the same
per-member program whatever P, so a member's numbers are bitwise those of a solo run);
evaluation runs before training and after every chunk. A member whose loss or parameters
become NaN/Inf keeps its last finite parameters, is marked diverged and is no longer updated;
the others are unaffected because nothing couples members.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import POPULATION_SCALARS, Config, ConfigError
from coagentnet.rules.registry import rule_entry
from coagentnet.training.batches import training_data
from coagentnet.training.checkpoint import Checkpointer, Snapshot
from coagentnet.training.data_cache import config_data, drop_loaded_data
from coagentnet.training.members import MemberState, population_setup
from coagentnet.training.results import RunResult
from coagentnet.training.trainer import Programs, Trainer  # noqa: F401 (Programs re-exported)


def check_population(configs: Sequence[Config], seeds: Sequence[int]) -> None:
    if len(configs) != len(seeds) or not configs:
        raise ConfigError(
            f"population: need one seed per config, got {len(configs)} and {len(seeds)}"
        )
    key = configs[0].static_key()
    for cfg in configs[1:]:
        if cfg.static_key() != key:
            diff = [k for (k, v), (_, w) in zip(key, cfg.static_key(), strict=True) if v != w]
            raise ConfigError(f"population: members differ in static fields {', '.join(diff)}")


def _static_config(cfg: Config) -> Config:
    """``cfg`` with its population scalars at their defaults: what a Trainer may depend on."""
    return cfg.replace(**{k: getattr(Config, k) for k in POPULATION_SCALARS})


def drop_caches() -> None:
    """Forget every loaded data set and compiled Trainer (a rule or data set was replaced)."""
    drop_loaded_data(), _trainer.cache_clear()


@functools.lru_cache(maxsize=16)
def _trainer(cfg: Config, data, entry=None) -> Trainer:
    """One Trainer (and so one set of compiled programs) per static config, data set and rule
    entry (``entry`` is only a key: a rule registered again under its name compiles anew)."""
    return Trainer(cfg, training_data(cfg, data))


#: Metrics measured on the first split's pool only (the update diagnostics); the evaluation
#: program's slots for the other splits hold NaN placeholders, which are not recorded.
FIRST_SPLIT_ONLY = ("grad_var", "grad_snr", "grad_cos")


def _rows(step: int, split: str, metrics: dict, member: int) -> list:
    """Long-format rows of one member's metrics (per-layer arrays get a layer index)."""
    rows = []
    for name, value in metrics.items():
        value = np.asarray(value[member])
        if value.ndim == 0:
            rows.append((step, split, name, None, float(value)))
        else:
            rows.extend((step, split, name, t, float(v)) for t, v in enumerate(value))
    return rows


def train_population(
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint: Checkpointer | None = None,
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> list[RunResult]:
    """Train P = len(configs) networks as one population; member i uses configs[i], seeds[i].
    The results of :func:`train_phase` from a fresh start (its contract)."""
    return train_phase(
        configs,
        seeds,
        progress=progress,
        data=data,
        keep_params=keep_params,
        checkpoint=checkpoint,
        on_evaluation=on_evaluation,
    )[0]


def train_phase(
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    start: Callable[[MemberState], MemberState] | None = None,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint: Checkpointer | None = None,
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> tuple[list[RunResult], MemberState]:
    """Train P = len(configs) networks as one population; member i uses configs[i], seeds[i].
    Returns the members' results and the final population state (leading member axis).

    All configs must share :meth:`Config.static_key`; they may differ in the scalar
    hyperparameters ``POPULATION_SCALARS``. Member i's numbers equal those of a solo run with
    the same config and seed, bitwise. ``progress(updates)`` is called after each epoch with the
    number of per-network updates just done. ``data`` overrides loading ``configs[0].dataset``.

    ``start(state) -> state`` gives the phase's initial population state (a
    :class:`MemberState` with a leading member axis) from the freshly initialised one, before
    the first evaluation: a later phase of a run starts from an earlier one's end
    (:mod:`coagentnet.training.phases`). Configs with ``pretrain_epochs > 0`` are two phases,
    which :func:`coagentnet.training.run.run_population` plans. ``keep_params`` puts each
    member's final parameters in its result (NumPy arrays). With a ``checkpoint``, the
    population resumes from its last checkpoint if there is a valid one, and saves one at chunk
    boundaries (:mod:`coagentnet.training.checkpoint`); the results are bitwise those of a run
    that was never interrupted. The caller deletes it (``checkpoint.clear()``) once the results
    are safe.

    ``on_evaluation(step, members)`` is called after every evaluation, in order (step 0, the
    untrained networks, first; after a resume, from the first evaluation not yet saved):
    ``members[i]`` maps ``"<split>/<metric>"`` (``"/<layer>"`` appended for per-layer metrics)
    to member i's values at that step, the keys of :attr:`RunResult.final` (``{}`` for a
    member that stopped at an earlier divergence). Live curves: a TensorBoard writer, a plot.
    """
    check_population(configs, seeds)
    cfg = configs[0]
    if cfg.pretrain_epochs > 0:
        raise ConfigError("pretrain_epochs: train with training.run.run_population (two phases)")
    if data is None and not cfg.is_stream:
        data = config_data(cfg)
    trainer = _trainer(_static_config(cfg), data, rule_entry(cfg.rule))
    hyper, keys, layout = population_setup(configs, seeds)
    P = len(configs)
    programs = trainer.programs(layout)
    train_arrays = layout.replicate(trainer.train_arrays)
    eval_arrays = layout.replicate(trainer.eval_arrays)
    rows: list[list] = [[] for _ in range(P)]
    final: list[dict] = [{} for _ in range(P)]
    stopped = np.zeros(P, bool)

    def record(step: int, chunk: int, state, train_metrics=None) -> None:
        diverged = np.asarray(state.diverged)
        # One transfer to the host, then NumPy slicing: indexing device arrays per member and
        # metric would dispatch P * metrics tiny device programs per evaluation.
        by_split = jax.device_get(programs.evaluate(state, hyper, keys, chunk, eval_arrays))
        evals = {
            s: {k: v[:, j] for k, v in by_split.items() if j == 0 or k not in FIRST_SPLIT_ONLY}
            for j, s in enumerate(trainer.splits)
        }
        if train_metrics is not None:
            evals["training"] = jax.device_get(train_metrics)
        seen: list[dict[str, float]] = [{} for _ in range(P)]  # this evaluation's values
        for i in range(P):
            if stopped[i]:
                continue
            for split, metrics in evals.items():
                member_rows = _rows(step, split, metrics, i)
                rows[i].extend(member_rows)
                for _, sp, name, layer, value in member_rows:
                    seen[i][f"{sp}/{name}" + ("" if layer is None else f"/{layer}")] = value
            final[i].update(seen[i])
            stopped[i] = diverged[i]
        if on_evaluation is not None:
            on_evaluation(step, seen)

    started = time.perf_counter()
    state = layout.place(programs.init(keys, hyper))
    if start is not None:
        state = layout.place(start(layout.unpad(state)))
    compile_time = 0.0
    steps = trainer.source.steps_per_chunk
    first_chunk = 0
    saved = None if checkpoint is None else checkpoint.load(jax.tree.leaves(state))
    if saved is None:
        record(0, 0, state)
    else:  # resume: the state and records at the end of chunk saved.chunks
        leaves = [jnp.asarray(x) for x in saved.leaves]
        state = layout.place(jax.tree.unflatten(jax.tree.structure(state), leaves))
        rows, final = saved.rows, saved.final
        stopped[:] = saved.stopped
        first_chunk, compile_time = saved.chunks, saved.compile_time_s
        if progress is not None:
            progress(first_chunk * steps)
    for chunk in range(first_chunk, trainer.source.num_chunks):
        if stopped.all():
            break
        t0 = time.perf_counter()
        state, train_metrics = programs.run_chunk(state, hyper, keys, chunk, train_arrays)
        jax.block_until_ready(state)
        if chunk == 0:
            compile_time = time.perf_counter() - t0
        record((chunk + 1) * steps, chunk + 1, state, train_metrics)
        last = chunk + 1 == trainer.source.num_chunks or stopped.all()
        if checkpoint is not None and (checkpoint.due() or last):
            # The last one too: pretraining's second phase resumes from the first's end.
            leaves = [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]
            checkpoint.save(Snapshot(chunk + 1, leaves, rows, final, list(stopped), compile_time))
        if progress is not None:
            progress(steps)
    wall = time.perf_counter() - started
    diverged = np.asarray(state.diverged)
    params = jax.device_get(state.params) if keep_params else None
    results = [
        RunResult(
            config=configs[i],
            seed=int(seeds[i]),
            diverged=bool(diverged[i]),
            metrics=rows[i],
            final=final[i],
            # A diverged member stopped at its last recorded step: count only what it did.
            updates=int(rows[i][-1][0])
            if diverged[i] and rows[i]
            else trainer.source.num_chunks * steps,
            wall_time_s=wall,
            compile_time_s=compile_time,
            params=None if params is None else jax.tree.map(lambda x, i=i: x[i], params),
        )
        for i in range(P)
    ]
    return results, layout.unpad(state)
