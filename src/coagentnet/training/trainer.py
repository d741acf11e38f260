"""One member's compiled training and evaluation: the Trainer and its population programs.

A :class:`Trainer` holds one population's static config, rule, optimiser and data; its methods
train and evaluate one member, and :class:`Programs` maps them over the population's members
(:meth:`~coagentnet.training.devices.Layout.map_members`) and compiles them. The loop that
drives them is :mod:`coagentnet.training.loop`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import Config, ConfigError
from coagentnet.rules.base import RuleContext
from coagentnet.rules.registry import make_rule
from coagentnet.training.batches import TrainingData
from coagentnet.training.evaluation import eval_arrays, evaluate
from coagentnet.training.members import MemberKeys, MemberState
from coagentnet.training.optim import make_optimizer, scale_updates


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


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
        steps = scale_updates(directions, hyper, self.rule.step_scales)
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

        pool = (arrays.x[0], arrays.y[0])
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
