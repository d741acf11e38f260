"""Value-based units: every hidden unit is an epsilon-greedy action-value learner.

Gupta et al. (2021), value-based coagents. Hidden unit u of layer t keeps action values
Q_u(s_t, k) for its K actions; one affine head per layer computes all of them at once, ``s_t
[B, D] -> [B, U, K]`` (unit u reads its K columns). In training each unit acts
epsilon-greedily, the exploration drawn independently per example and unit: with probability
epsilon a uniformly random action, else the arg-max. The target of Q_u(s_t, a_{t,u}) is the
episode's return r = -loss (Monte Carlo, no bootstrapping), the loss each unit's squared error;
the read-out is trained by the gradient of the task loss with respect to its own weights (no
error reaches the hidden layers). Evaluation is greedy (arg-max), or epsilon-greedy with the
configured epsilon when sampled.

epsilon is constant (``epsilon``, a population scalar) or follows the paper's schedule, from
1 down by 1e-4 per update to 0.01. Units are categorical (K actions, ``value_map``) or binary
(``bernoulli``/``bernoulli2``: K = 2 with values {0, 1}).

Unlike the authors' Q-learning/SARSA variants this does not bootstrap along the units of a
layer, so it avoids their defects (a broadcasting bug, a truncated epsilon, outputs never
written) of the authors' code.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from coagentnet.model.losses import task_loss
from coagentnet.model.network import init_network, layer_policy, linear
from coagentnet.model.units import Units, unit_type
from coagentnet.rules.base import Problem, Rule, RuleContext, RuleSettings, prediction_stats

#: The decaying schedule: epsilon_n = max(EPSILON_FINAL, EPSILON_START - EPSILON_STEP * n).
EPSILON_START, EPSILON_STEP, EPSILON_FINAL = 1.0, 1e-4, 0.01


def epsilon_at(schedule: str, epsilon, step) -> jax.Array:
    """epsilon of update ``step`` (0-based, may be traced): constant, or the decay schedule."""
    if schedule == "constant":
        return jnp.asarray(epsilon, jnp.float32)
    decayed = EPSILON_START - EPSILON_STEP * jnp.asarray(step, jnp.float32)
    return jnp.maximum(EPSILON_FINAL, decayed)


def epsilon_greedy(key: jax.Array, q: jax.Array, epsilon) -> jax.Array:
    """Actions ``[B, U]`` (int): per example and unit, uniform with probability epsilon, else
    the arg-max of ``q [B, U, K]`` (ties to the lowest index)."""
    k_explore, k_action = jax.random.split(key)
    explore = jax.random.bernoulli(k_explore, epsilon, q.shape[:-1])
    uniform = jax.random.randint(k_action, q.shape[:-1], 0, q.shape[-1])
    return jnp.where(explore, uniform, jnp.argmax(q, axis=-1))


def epsilon_greedy_entropy(epsilon, num_actions: int) -> jax.Array:
    """Entropy (nats) of an epsilon-greedy policy over K actions (0 when epsilon = 0)."""
    rest = epsilon / num_actions
    top = 1.0 - epsilon + rest
    return -(xlogy(top, top) + (num_actions - 1) * xlogy(rest, rest))


def value_unit(cfg: RuleSettings) -> Units:
    """The unit type whose head gives K action values per unit and whose values are passed on."""
    if cfg.unit_type == "categorical":
        return unit_type("categorical", cfg.num_actions, cfg.value_map)
    return unit_type("bernoulli2")  # two actions with values {0, 1}


def _rollout(params, x, key, unit: Units, epsilon, greedy: bool):
    """States ``(s_0..s_L)``; per layer actions, greedy actions (at the visited s_t) and the
    taken actions' values ``Q_u(s_t, a_{t,u})``, each ``[B, U]``."""
    keys = jax.random.split(key, len(params["hidden"]))
    s_t, states, actions, greedies, q_taken = x, [x], [], [], []
    for t, layer in enumerate(params["hidden"]):
        q = layer_policy(layer, s_t, unit)  # [B, U, K]
        g = jnp.argmax(q, axis=-1)
        a = g if greedy else epsilon_greedy(keys[t], q, epsilon)
        q_taken.append(jnp.take_along_axis(q, a[..., None], axis=-1)[..., 0])
        actions.append(a)
        greedies.append(g)
        s_t = jax.lax.stop_gradient(unit.value(a))  # no error flows between layers
        states.append(s_t)
    return tuple(states), tuple(actions), tuple(greedies), tuple(q_taken)


def value_based_rule(cfg: RuleSettings, problem: Problem) -> Rule:
    """Epsilon-greedy value-based hidden units with Monte Carlo targets; read-out by backprop.

    Loss: sum over layers t and units u of mean_b (Q_u(s_t, a_{t,u}) - r)^2 (each unit's own
    squared error, so a unit's gradient is that of its own regression), plus the read-out's
    mean task loss. Training metrics: ``q_loss`` per layer (mean over units) and ``epsilon``.
    """
    unit = value_unit(cfg)
    L, U = cfg.layers, cfg.units
    K = unit.num_actions

    def init(key):
        return init_network(key, problem.in_dim, problem.out_dim, L, U, unit), {}

    def loss(params, state, x, y, key, ctx: RuleContext):
        epsilon = epsilon_at(cfg.epsilon_schedule, ctx.hyper["epsilon"], ctx.step)
        states, _, _, q_taken = _rollout(params, x, key, unit, epsilon, greedy=False)
        output = linear(params["readout"], states[-1])
        per_example = task_loss(problem.task, output, y)
        r = -jax.lax.stop_gradient(per_example)  # the return of every layer, [B]
        errors = [jnp.square(q - r[:, None]) for q in q_taken]  # [B, U] per layer
        total = jnp.mean(per_example) + sum(jnp.mean(jnp.sum(e, axis=-1)) for e in errors)
        metrics = {
            "loss": jnp.mean(per_example),
            "reward": jnp.mean(r),
            "q_loss": jnp.stack([jnp.mean(e) for e in errors]),
            "epsilon": epsilon,
        }
        return total, (state, metrics)

    def evaluate(params, x, y, key, hyper, greedy):
        epsilon = jnp.zeros(()) if greedy else epsilon_at("constant", hyper["epsilon"], 0)
        states, actions, greedies, _ = _rollout(params, x, key, unit, epsilon, greedy)
        output = linear(params["readout"], states[-1])
        # Entropy of the policy being evaluated: 0 for greedy, epsilon-greedy's otherwise.
        entropy = jnp.broadcast_to(epsilon_greedy_entropy(epsilon, K), actions[0].shape)
        return {
            **prediction_stats(problem, output, y),
            "entropy": (entropy,) * L,
            "on": tuple(unit.value(g) for g in greedies),
        }

    return Rule(init, loss, evaluate)
