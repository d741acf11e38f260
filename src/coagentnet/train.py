"""The one training loop: a population of P networks trained side by side (DESIGN.md section 1).

Each member has its own seed (hence parameters, data order and sampling noise) and its own
scalar hyperparameters (``POPULATION_SCALARS``). One jitted program runs a ``lax.scan`` over
the updates of a chunk (an epoch), ``vmap``ped over members; evaluation (jitted, vmapped) runs
before training and after every chunk. A member whose loss or parameters become NaN/Inf keeps
its last finite parameters, is marked diverged and is no longer updated; the others are
unaffected because nothing couples members.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import POPULATION_SCALARS, Config, ConfigError
from coagentnet.optim import make_optimizer, scale_updates
from coagentnet.results import RunResult
from coagentnet.rules import Problem, make_rule

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class EpochBatches:
    """Minibatches of a finite training set, reshuffled every epoch per member.

    The last partial batch of an epoch is dropped so that every update has B examples.
    """

    x: jax.Array  # [N, D]
    y: jax.Array  # [N] or [N, O]
    batch_size: int

    @property
    def steps_per_chunk(self) -> int:
        return self.x.shape[0] // self.batch_size

    def chunk_inputs(self, key: jax.Array, chunk) -> jax.Array:
        """Batch indices of one epoch, ``[steps, B]``."""
        n = self.x.shape[0]
        order = jax.random.permutation(jax.random.fold_in(key, chunk), n)
        return order[: self.steps_per_chunk * self.batch_size].reshape(-1, self.batch_size)

    def batch(self, idx: jax.Array):
        return self.x[idx], self.y[idx]


def _member_keys(seed: int) -> dict:
    init, data, train, evaluate = jax.random.split(jax.random.PRNGKey(seed), 4)
    return {"init": init, "data": data, "train": train, "eval": evaluate}


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def _stack(dicts: Sequence[dict]) -> dict:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *dicts)


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


class Trainer:
    """Compiled training and evaluation programs for one population's static config."""

    def __init__(self, cfg: Config, data):
        self.cfg = cfg
        self.data = data
        self.problem = Problem(data.in_dim, data.out_dim, data.task)
        self.rule = make_rule(cfg, self.problem)
        self.tx = make_optimizer(cfg)
        self.source = EpochBatches(
            jnp.asarray(data.x_train), jnp.asarray(data.y_train), cfg.batch_size
        )
        if self.source.steps_per_chunk == 0:
            raise ConfigError(
                f"batch_size: {cfg.batch_size} exceeds the training set "
                f"({data.x_train.shape[0]} examples)"
            )
        self.splits = {
            "train": (data.x_train, data.y_train),
            "validation": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test),
        }
        self.splits = {k: (jnp.asarray(x), jnp.asarray(y)) for k, (x, y) in self.splits.items()}
        self.init = jax.jit(jax.vmap(self._init_member))
        self.run_chunk = jax.jit(jax.vmap(self._chunk_member, in_axes=(0, 0, 0, None)))
        self.evaluate = jax.jit(
            jax.vmap(self._evaluate_member, in_axes=(0, 0, 0, None, None, None))
        )

    # --- one member (vmapped over the population) ---

    def _init_member(self, keys, hyper):
        params, rule_state = self.rule.init(keys["init"])
        return {
            "params": params,
            "rule_state": rule_state,
            "opt_state": self.tx.init(params),
            "diverged": jnp.zeros((), bool),
        }

    def _update(self, member, hyper, x, y, key, epoch):
        ctx = {"hyper": hyper, "epoch": epoch}
        grad_fn = jax.value_and_grad(self.rule.loss, has_aux=True)
        (value, (rule_state, metrics)), grads = grad_fn(
            member["params"], member["rule_state"], x, y, key, ctx
        )
        directions, opt_state = self.tx.update(grads, member["opt_state"], member["params"])
        steps = scale_updates(directions, hyper["lr"], hyper["critic_ratio"])
        params = jax.tree.map(jnp.add, member["params"], steps)
        new = {"params": params, "rule_state": rule_state, "opt_state": opt_state}
        ok = jnp.isfinite(value) & _all_finite(params)
        keep = ok & ~member["diverged"]
        old = {k: member[k] for k in new}
        merged = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, old)
        merged["diverged"] = member["diverged"] | ~ok
        return merged, metrics

    def _chunk_member(self, member, hyper, keys, chunk):
        batches = self.source.chunk_inputs(keys["data"], chunk)
        steps = self.source.steps_per_chunk
        first = chunk * steps

        def body(m, inputs):
            i, idx = inputs
            x, y = self.source.batch(idx)
            key = jax.random.fold_in(keys["train"], first + i)
            return self._update(m, hyper, x, y, key, chunk)

        member, metrics = jax.lax.scan(body, member, (jnp.arange(steps), batches))
        return member, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)

    def _evaluate_member(self, member, hyper, keys, x, y, chunk):
        key = jax.random.fold_in(keys["eval"], chunk)
        return self.rule.evaluate(
            member["params"], x, y, key, hyper, self.cfg.eval_mode == "greedy"
        )


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
) -> list[RunResult]:
    """Train P = len(configs) networks as one population; member i uses configs[i], seeds[i].

    All configs must share :meth:`Config.static_key`; they may differ in the scalar
    hyperparameters ``POPULATION_SCALARS``. Member i's numbers equal those of a solo run with the
    same config and seed. ``progress(updates)`` is called after each epoch with the number of
    per-network updates just done. ``data`` overrides loading ``configs[0].dataset``.
    """
    check_population(configs, seeds)
    cfg = configs[0]
    if data is None:
        from coagentnet.data import load_dataset

        data = load_dataset(
            cfg.dataset, data_dir=cfg.data_dir, split_seed=cfg.split_seed, normalize=cfg.normalize
        )
    trainer = Trainer(cfg, data)
    hyper = {k: jnp.asarray([float(getattr(c, k)) for c in configs]) for k in POPULATION_SCALARS}
    keys = _stack([_member_keys(int(s)) for s in seeds])
    P = len(configs)
    rows: list[list] = [[] for _ in range(P)]
    final: list[dict] = [{} for _ in range(P)]
    stopped = np.zeros(P, bool)

    def record(step: int, chunk: int, state, train_metrics=None) -> None:
        diverged = np.asarray(state["diverged"])
        evals = {
            s: trainer.evaluate(state, hyper, keys, x, y, chunk)
            for s, (x, y) in trainer.splits.items()
        }
        if train_metrics is not None:
            evals["training"] = train_metrics
        for i in range(P):
            if stopped[i]:
                continue
            for split, metrics in evals.items():
                member_rows = _rows(step, split, metrics, i)
                rows[i].extend(member_rows)
                for _, sp, name, layer, value in member_rows:
                    final[i][f"{sp}/{name}" + ("" if layer is None else f"/{layer}")] = value
            stopped[i] = diverged[i]

    start = time.perf_counter()
    state = trainer.init(keys, hyper)
    record(0, 0, state)
    compile_time = 0.0
    steps = trainer.source.steps_per_chunk
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        state, train_metrics = trainer.run_chunk(state, hyper, keys, epoch)
        jax.block_until_ready(state)
        if epoch == 0:
            compile_time = time.perf_counter() - t0
        record((epoch + 1) * steps, epoch + 1, state, train_metrics)
        if progress is not None:
            progress(steps)
        if stopped.all():
            break
    wall = time.perf_counter() - start
    diverged = np.asarray(state["diverged"])
    return [
        RunResult(
            config=configs[i],
            seed=int(seeds[i]),
            diverged=bool(diverged[i]),
            metrics=rows[i],
            final=final[i],
            updates=cfg.epochs * steps,
            wall_time_s=wall,
            compile_time_s=compile_time,
        )
        for i in range(P)
    ]


def train(cfg: Config, seed: int = 0, **kwargs) -> RunResult:
    """Train one network (a population of one)."""
    return train_population([cfg], [seed], **kwargs)[0]
