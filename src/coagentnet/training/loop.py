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
from coagentnet.rules.base import RuleContext
from coagentnet.rules.registry import make_rule, rule_entry
from coagentnet.training.batches import TrainingData, training_data
from coagentnet.training.checkpoint import Checkpointer, Snapshot
from coagentnet.training.data_cache import config_data, drop_loaded_data
from coagentnet.training.evaluation import eval_arrays, evaluate
from coagentnet.training.members import MemberKeys, MemberState, population_setup
from coagentnet.training.optim import make_optimizer, scale_updates
from coagentnet.training.results import RunResult


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


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


class Programs:
    """A Trainer's compiled programs for one population
    :class:`~coagentnet.training.devices.Layout`.

    ``init(keys, hyper)``, ``run_chunk(state, hyper, keys, chunk, arrays)`` and
    ``evaluate(state, hyper, keys, chunk, arrays)`` take and return pytrees with a leading
    member axis of ``layout.padded`` rows. Data arrays are arguments (never baked in as
    constants) shared by every member.
    """

    def __init__(self, trainer: Trainer, layout):
        chunk_axes = (0, 0, 0, None, None)
        self.init = jax.jit(layout.map_members(trainer._init_member, (0, 0)))
        self.chunk_fast = jax.jit(layout.map_members(trainer._chunk_member, chunk_axes))
        # The exact program is compiled only if a member diverges (see run_chunk).
        exact = functools.partial(trainer._chunk_member, exact=True)
        self.chunk_exact = jax.jit(layout.map_members(exact, chunk_axes))
        self.evaluate = jax.jit(layout.map_members(trainer._evaluate_member, chunk_axes))

    def run_chunk(self, state, hyper, keys, chunk, arrays):
        """One chunk of updates for every member: ``(state, mean training metrics)``.

        A member that produces a NaN/Inf keeps its last finite parameters, is marked diverged
        and stops updating. Checking and merging per step costs a pass over every parameter
        each update, so the fast program checks once per chunk instead: non-finite parameters
        stay non-finite (x + step is never finite again once x is not), and a non-finite loss
        is remembered in a scalar flag. Only when a member newly diverges is the chunk re-run,
        from the same state, by the exact per-step program; members are independent, so the
        others' numbers do not change. Members that diverged in an earlier chunk get their
        frozen state back at the chunk's end (their metrics are not meaningful).
        """
        new, metrics = self.chunk_fast(state, hyper, keys, chunk, arrays)
        if np.any(np.asarray(new.diverged) & ~np.asarray(state.diverged)):
            new, metrics = self.chunk_exact(state, hyper, keys, chunk, arrays)
        return new, metrics


class Trainer:
    """One member's training and evaluation for one population's static config; its compiled
    population programs come from :meth:`programs`."""

    def __init__(self, cfg: Config, data: TrainingData):
        self.cfg = cfg
        self.problem = data.problem
        self.rule = make_rule(cfg, self.problem)
        self.tx = make_optimizer(cfg)
        self.source = data.source
        self.train_arrays = data.train_arrays
        self.splits = tuple(data.eval_splits)
        self.eval_arrays = eval_arrays(data.eval_splits)
        self._programs: dict = {}

    def programs(self, layout) -> Programs:
        """The compiled programs for ``layout`` (built once per device set and tile size)."""
        mesh = None if layout.sharded is None else layout.sharded.mesh
        key = (mesh, layout.tile)
        if key not in self._programs:
            self._programs[key] = Programs(self, layout)
        return self._programs[key]

    # --- one member (mapped over the population by Layout.map_members) ---

    def _init_member(self, keys: MemberKeys, hyper) -> MemberState:
        params, rule_state = self.rule.init(keys.init)
        return MemberState(
            params=params,
            rule_state=rule_state,
            opt_state=self.tx.init(params),
            source=self.source.init(keys.data),
            diverged=jnp.zeros((), bool),
        )

    def _update(self, member: MemberState, hyper, x, y, key, epoch, step, exact=True):
        ctx = RuleContext(hyper=hyper, epoch=epoch, step=step)
        grad_fn = jax.value_and_grad(self.rule.loss, has_aux=True)
        (value, (rule_state, metrics)), grads = grad_fn(
            member.params, member.rule_state, x, y, key, ctx
        )
        directions, opt_state = self.tx.update(grads, member.opt_state, member.params)
        steps = scale_updates(directions, hyper["lr"], hyper["critic_ratio"])
        if self.rule.mask_steps is not None:  # e.g. staged training's frozen layers
            steps = self.rule.mask_steps(steps, ctx)
        params = jax.tree.map(jnp.add, member.params, steps)
        if not exact:  # only flag a non-finite loss; the chunk's end settles the rest
            flag = member.diverged | ~jnp.isfinite(value)
            return MemberState(params, rule_state, opt_state, member.source, flag), metrics
        ok = jnp.isfinite(value) & _all_finite(params)
        keep = ok & ~member.diverged
        new, old = (params, rule_state, opt_state), member[:3]
        merged = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, old)
        return MemberState(*merged, member.source, member.diverged | ~ok), metrics

    def _chunk_member(
        self, member: MemberState, hyper, keys: MemberKeys, chunk, arrays, exact=False
    ):
        inputs = self.source.chunk_inputs(keys.data, chunk)
        steps = self.source.steps_per_chunk
        first = chunk * steps

        def body(m, scanned):
            i, inp = scanned
            step = first + i
            source, x, y = self.source.batch(arrays, m.source, inp, step)
            key = jax.random.fold_in(keys.train, step)
            m = m._replace(source=source)
            return self._update(m, hyper, x, y, key, self.source.epoch(chunk), step, exact)

        out, metrics = jax.lax.scan(body, member, (jnp.arange(steps), inputs))
        if not exact:  # settle divergence once: see run_chunk
            frozen = member.diverged
            trained = jax.tree.map(lambda n, o: jnp.where(frozen, o, n), out[:3], member[:3])
            out = MemberState(*trained, out.source, out.diverged | ~_all_finite(trained[0]))
        return out, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)

    def _evaluate_member(self, member: MemberState, hyper, keys: MemberKeys, chunk, arrays):
        greedy = self.cfg.eval_mode == "greedy"

        def evaluate_fn(x, y, key):
            return self.rule.evaluate(member.params, x, y, key, hyper, greedy)

        key = jax.random.fold_in(keys.eval, chunk)
        metrics = evaluate(evaluate_fn, arrays, len(self.splits), key)
        if self.cfg.grad_diagnostics:
            grad_key = jax.random.fold_in(key, 2**31 - 1)  # not an evaluation chunk's key
            metrics |= self._grad_metrics(member, hyper, grad_key, chunk, arrays)
        return metrics

    def _grad_metrics(self, member, hyper, key, chunk, arrays):
        """``grad_var``, ``grad_snr``, ``grad_cos``, each ``[splits, L + 1]`` (hidden layers,
        then the read-out) from ``cfg.grad_diagnostics`` updates at the member's parameters
        (:mod:`coagentnet.diagnostics`). The pool is the first evaluation chunk (the first
        ``MAX_CHUNK`` examples of the first split: training set, or the stream's validation
        set); the cosine's reference is a sampled estimate of the expected loss's gradient on it
        (8 rollouts x 8 repeats per example). Recorded under the first split; NaN under the
        others, which the diagnostics do not concern."""
        from coagentnet.diagnostics import estimators, references

        pool = (arrays["x"][0], arrays["y"][0])
        if self.cfg.batch_size > pool[0].shape[0]:  # shapes are static: raised when compiling
            raise ConfigError(
                f"batch_size: grad_diagnostics draws batches from {pool[0].shape[0]} examples, "
                f"not {self.cfg.batch_size}"
            )
        k_ref, k_est = jax.random.split(key)
        params = member.params
        ref, _ = references.sampled_reference(
            self.cfg, self.problem, params, *pool, k_ref, hyper, 8, 8
        )
        ctx = RuleContext(hyper=hyper, epoch=self.source.epoch(chunk), step=0)
        stats = estimators.diagnose(
            self.rule,
            params,
            member.rule_state,
            *pool,
            k_est,
            ctx,
            self.cfg.grad_diagnostics,
            self.cfg.batch_size,
            ref,
        )
        first_split = lambda v: jnp.full((len(self.splits),) + v.shape, jnp.nan).at[0].set(v)  # noqa: E731
        return {
            "grad_var": first_split(stats.variance),
            "grad_snr": first_split(stats.snr),
            "grad_cos": first_split(stats.cosine),
        }


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
    on_init: Callable[[MemberState], MemberState] | None = None,
    on_end: Callable[[MemberState], None] | None = None,
    keep_params: bool = False,
    checkpoint: Checkpointer | None = None,
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> list[RunResult]:
    """Train P = len(configs) networks as one population; member i uses configs[i], seeds[i].

    All configs must share :meth:`Config.static_key`; they may differ in the scalar
    hyperparameters ``POPULATION_SCALARS``. Member i's numbers equal those of a solo run with
    the same config and seed, bitwise. ``progress(updates)`` is called after each epoch with the
    number of per-network updates just done. ``data`` overrides loading ``configs[0].dataset``.

    ``on_init(state) -> state`` may replace the freshly initialised population state (a
    :class:`MemberState` with a leading member axis) before the first evaluation, and
    ``on_end(state)`` receives the final one: :mod:`coagentnet.training.pretrain` chains two
    phases with them. Pretraining wraps this loop; configs with ``pretrain_epochs > 0`` go through
    :func:`coagentnet.training.run.run_population`, which chooses. ``keep_params`` puts each
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
        raise ConfigError("pretrain_epochs: train with training.run.run_population, not the loop")
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

    start = time.perf_counter()
    state = layout.place(programs.init(keys, hyper))
    if on_init is not None:
        state = layout.place(on_init(layout.unpad(state)))
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
    wall = time.perf_counter() - start
    if on_end is not None:
        on_end(layout.unpad(state))
    diverged = np.asarray(state.diverged)
    params = jax.device_get(state.params) if keep_params else None
    return [
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
