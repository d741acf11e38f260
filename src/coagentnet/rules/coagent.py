"""The coagent rules: REINFORCE and the per-layer critic rules (Gupta et al. 2021).

Every hidden unit is an agent whose action is its output; hidden layer t learns from its own
policy-gradient term ``grad log pi_t(a_t|s_t) * (signal_t - b_t)`` (see :func:`coagent_rule`).
The registry (:mod:`coagentnet.rules.registry`) names the six rules built from it: REINFORCE,
the three critic rules and the two exact greedy-continuation rules of :mod:`.greedy`.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from coagentnet.errors import ConfigError
from coagentnet.model import baselines, critics, partition
from coagentnet.model.losses import regression_loss, score_function_surrogate, task_loss
from coagentnet.model.network import Trace, init_network, rollout
from coagentnet.model.units import Units, units_from_config
from coagentnet.rules import critic_metrics, exploration, greedy, staged
from coagentnet.rules.base import Problem, Rule, RuleContext, RuleSettings, trace_stats


def _critic_q(
    critic_params: tuple, input_norm: bool, t: int, s_t: jax.Array, a_value: jax.Array
) -> jax.Array:
    return critics.q_value(critic_params[t], s_t, a_value, input_norm)


def critic_signals(
    q_fn, trace: Trace, r, unit: Units, bootstrap: str, actor_signal: str, target_fn=None
):
    """Actor signals, critic targets and critic values of a critic rule.

    ``q_fn(t, s_t, a_value) -> [B]`` evaluates Q_t (the learned critic, or an exact one in
    tests); ``target_fn``, of the same form, the critics bootstrapped from (target critics;
    None: ``q_fn``). Returns ``(signals, targets, q)``, tuples of L arrays ``[B]``: ``targets``
    are the critic targets y_t of :func:`coagentnet.model.critics.targets`; ``signals`` are
    y_t, or Q_t(s_t, a_t) for ``mc_critic`` and ``actor_signal="q"``; ``q`` keeps its gradient.
    """
    L = len(trace.actions)
    target_fn = target_fn or q_fn
    values = [unit.value(a) for a in trace.actions]
    q = tuple(q_fn(t, trace.states[t], values[t]) for t in range(L))
    # Bootstrap from the sampled next action (on-policy) or the greedy one (off-policy).
    nxt = [unit.value(g) for g in trace.greedy] if bootstrap == "greedy" else values
    q_next = tuple(target_fn(t + 1, trace.states[t + 1], nxt[t + 1]) for t in range(L - 1))
    y_t = critics.targets(bootstrap, r, q_next)
    if bootstrap == "monte_carlo" or actor_signal == "q":
        signals = tuple(jax.lax.stop_gradient(qt) for qt in q)
    else:
        signals = y_t
    return signals, y_t, q


def coagent_rule(
    cfg: RuleSettings, problem: Problem, bootstrap: str | None, continuation: str | None = None
) -> Rule:
    """REINFORCE (``bootstrap=None``), a critic rule (``sampled``, ``greedy``, ``monte_carlo``)
    or an exact greedy-continuation rule (``continuation`` ``return`` or ``counterfactual``).

    Hidden layer t learns from ``grad log pi_t(a_t|s_t) * (signal_t - b_t)``:

    - ``reinforce`` (Williams 1992; coagents: Thomas 2011, Kostas et al. 2020): signal_t = r.
      Unbiased for the gradient of the expected reward with any action-independent baseline,
      the ``loo`` one included (each example then rolled out S times, the update averaging
      over all S x B rollouts).
    - ``actor_critic`` (bootstrap ``sampled``) and ``off_policy`` (bootstrap ``greedy``,
      Gupta et al. 2021): signal_t = y_t, the critic target (the authors' choice: the last
      hidden layer is then plain REINFORCE), or Q_t(s_t, a_t) with ``actor_signal="q"``.
      ``off_policy`` is *biased for the expected loss by design*: with exact critics layer t
      follows the gradient of its greedy-continuation objective
      E_{s_t}[sum_a pi_t(a|s_t) Q_t^greedy(s_t, a)], the return when all downstream layers act
      greedily, which is how the network is evaluated. No importance ratio is used.
    - ``mc_critic`` (bootstrap ``monte_carlo``): critics regressed to r; signal_t = Q_t.
    - ``greedy_return`` (``continuation="return"``): signal_t = G_t, the exact
      return of the greedy continuation from the sampled s_{t+1}
      (:func:`coagentnet.rules.greedy.continuation_returns`): the off-policy signal with exact
      critics, no critic learned. Any baseline.
    - ``greedy_counterfactual`` (``continuation="counterfactual"``): per unit,
      sum_k grad pi_i(k) G_t(a with a_i = k) (:mod:`coagentnet.rules.greedy`); the sum over a
      unit's actions makes a baseline cancel exactly, so the rule takes none.

    Critic rules also log per-layer diagnostics against the exact greedy return
    (:mod:`coagentnet.rules.critic_metrics`).

    With ``warm_start_epochs = N`` critic rules use signal r for the first N epochs while their
    critics already learn. Two critic options go beyond the paper (off by default):
    ``critic_target = tau`` bootstraps from target critics, moved after each step by ``tau``
    towards the critics as they were at its start (:func:`coagentnet.model.critics.polyak`);
    ``critic_input_norm`` layer-normalises each critic's input. The read-out is trained by its
    own gradient only (or, with a stochastic read-out, by REINFORCE).

    Study options (Gupta et al. 2021): with an exploration subset (``explore_units``) or staged
    training (``staged``) only some units sample; the others act greedily and their
    log-probabilities are masked out of the surrogate, so they get no policy-gradient term
    (:mod:`coagentnet.rules.exploration`, :mod:`coagentnet.rules.staged`). A ``partition``
    layout mixes deterministic layers in, with gradients inside blocks
    (:mod:`coagentnet.model.partition`).
    """
    unit = units_from_config(cfg)
    baseline = baselines.baseline(cfg.baseline, cfg.loo_samples)
    S = baseline.samples  # rollouts per example (loo: S forward passes)
    L, U = cfg.layers, cfg.units
    state_dims = (problem.in_dim,) + (U,) * L
    sr = cfg.stochastic_readout
    forward = partial(partition.rollout, layout=cfg.partition) if cfg.partition else rollout
    if sr and problem.task != "regression":
        raise ConfigError(f"stochastic_readout: needs a regression data set, not {cfg.dataset!r}")

    def init(key):
        k_net, k_critic = jax.random.split(key)
        params = init_network(k_net, problem.in_dim, problem.out_dim, L, U, unit)
        b_params, b_state = baseline.init(state_dims)
        params["baseline"] = b_params
        state = {"baseline": b_state, **exploration.init_state(cfg, key)}
        if bootstrap is not None:
            params["critics"] = critics.init(
                k_critic, state_dims[:L], U, cfg.critic_width, cfg.critic_depth
            )
            if cfg.critic_target:  # target critics start as copies of the critics
                state["critic_target"] = params["critics"]
        return params, state

    def loss(params, state, x, y, key, ctx: RuleContext):
        hyper = ctx.hyper
        masks = exploration.training_masks(cfg, state, key, ctx.epoch)  # None: all sample
        if S > 1:  # rollout j of example i is row i * S + j; means below average over all
            x, y = jnp.repeat(x, S, axis=0), jnp.repeat(y, S, axis=0)
        trace = forward(
            params, x, key, unit, hyper["unit_std"], stochastic_readout=sr, sample_mask=masks
        )
        per_example = task_loss(problem.task, trace.prediction, y)
        r = -jax.lax.stop_gradient(per_example)
        total = jnp.zeros(())
        if not sr:  # a deterministic read-out follows its own gradient
            total += jnp.mean(task_loss(problem.task, trace.output, y))
        signals = (r,) * L
        metrics = {"loss": jnp.mean(per_example), "reward": jnp.mean(r)}
        if continuation == "return":
            signals = greedy.continuation_returns(params, trace, r, y, unit, problem.task)
        if bootstrap is not None:
            q_fn = partial(_critic_q, params["critics"], cfg.critic_input_norm)
            target_fn = None
            if cfg.critic_target:
                target_fn = partial(_critic_q, state["critic_target"], cfg.critic_input_norm)
            critic_sig, y_t, q = critic_signals(
                q_fn, trace, r, unit, bootstrap, cfg.actor_signal, target_fn
            )
            critic_losses = jnp.stack([regression_loss(q[t], y_t[t]) for t in range(L)])
            warm = ctx.epoch < cfg.warm_start_epochs
            signals = tuple(jnp.where(warm, r, s) for s in critic_sig)
            total += jnp.sum(critic_losses)
            metrics["critic_loss"] = critic_losses
            g_t = greedy.continuation_returns(params, trace, r, y, unit, problem.task)
            metrics |= critic_metrics.layer_metrics(q, y_t, signals, g_t)
        b_args = (params["baseline"], state["baseline"], trace)
        if S > 1:
            b_args += (r.reshape(-1, S),)
        elif baseline.greedy_returns:
            b_args += (greedy.self_critical_returns(params, trace, y, unit, problem.task),)
        b = baseline.values(*b_args)
        for t in range(L):
            # Units acting greedily (outside the exploration subset, frozen) get no PG term.
            if continuation == "counterfactual":
                g_ik = greedy.counterfactual_returns(params, trace, t, y, unit, problem.task)
                probs = greedy.action_probs(params, trace, t, unit)
                mask = None if masks is None else masks[t]
                total += greedy.counterfactual_surrogate(probs, g_ik, mask)
                continue
            logp_t = trace.logp[t] if masks is None else trace.logp[t] * masks[t]
            total += score_function_surrogate(logp_t, signals[t] - b[t])
        if cfg.staged:
            metrics["frozen"] = staged.frozen_layers(ctx.epoch, L, cfg.epochs).astype(float)
        if sr:
            total += score_function_surrogate(trace.readout_logp, r - b[L])
        total += baseline.loss(params["baseline"], trace, r)
        new_state = {
            **state,
            "baseline": baseline.update(state["baseline"], r, hyper["ema_decay"]),
        }
        if "critic_target" in state:
            new_state["critic_target"] = critics.polyak(
                state["critic_target"], params["critics"], cfg.critic_target
            )
        return total, (new_state, metrics)

    def evaluate(params, x, y, key, hyper, greedy):
        masks = None if greedy else exploration.evaluation_masks(cfg, key)
        trace = forward(
            params,
            x,
            key,
            unit,
            hyper["unit_std"],
            greedy=greedy,
            stochastic_readout=sr,
            sample_mask=masks,
        )
        return trace_stats(problem, trace, y, unit)

    mask_steps = staged.step_mask(L, cfg.epochs) if cfg.staged else None
    # The critics learn at critic_ratio times the network's step size (the authors' setting).
    step_scales = (("critics", "critic_ratio"),) if bootstrap is not None else ()
    return Rule(init, loss, evaluate, mask_steps, step_scales)
