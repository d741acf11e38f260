"""The off-policy rule with exact critics follows its greedy-continuation objective.

With critics equal to the exact Q_t^greedy (the return when downstream layers act greedily),
the update the rule forms for layer t must match the exact gradient of
J_t = E_{s_t}[sum_a pi_t(a|s_t) Q_t^greedy(s_t, a)] (Gupta et al. 2021), and, as documented,
not the gradient of the expected loss: the rule is biased for it by design.
"""

import jax
import numpy as np
import pytest

from coagentnet.model import exact
from coagentnet.model.losses import score_function_surrogate, task_loss
from coagentnet.model.network import rollout
from coagentnet.model.units import unit_type
from coagentnet.rules.coagent import critic_signals

from tiny import PROBLEM, flat, network_part, tiny_batch, tiny_rule
from ztest import critical_z, passes

N = 40_000
LAYERS = 3
UNIT = unit_type("bernoulli")


def layer_estimates(t: int):
    """N estimates of layer t's off-policy update with exact critics, and two exact targets."""
    x, y = tiny_batch()
    _, _, params, _ = tiny_rule(layers=LAYERS, rule="off_policy")
    net = network_part(params)

    def exact_q(k, s_k, a_value):
        return exact.greedy_return(net, a_value, k, y, PROBLEM.task)

    def surrogate(layer_t, key):
        p = {**net, "hidden": net["hidden"][:t] + (layer_t,) + net["hidden"][t + 1 :]}
        trace = rollout(p, x, key, UNIT, 1.0)
        r = -task_loss(PROBLEM.task, trace.output, y)
        signals, _, _ = critic_signals(exact_q, trace, r, UNIT, "greedy", "target")
        return score_function_surrogate(trace.logp[t], signals[t])

    keys = jax.random.split(jax.random.PRNGKey(7 + t), N)
    samples = jax.jit(jax.vmap(lambda k: flat(jax.grad(surrogate)(net["hidden"][t], k))))(keys)
    # The surrogate is minimised, J_t maximised: the update estimates -grad J_t.
    greedy_grad = jax.grad(
        lambda layer: (
            -exact.greedy_objective(
                {**net, "hidden": net["hidden"][:t] + (layer,) + net["hidden"][t + 1 :]},
                x,
                y,
                t,
                PROBLEM.task,
            )
        )
    )(net["hidden"][t])
    loss_grad = jax.grad(exact.expected_loss)(net, x, y, PROBLEM.task)["hidden"][t]
    return np.asarray(samples), np.asarray(flat(greedy_grad)), np.asarray(flat(loss_grad))


@pytest.fixture(scope="module")
def estimates():
    return [layer_estimates(t) for t in range(LAYERS)]


@pytest.mark.parametrize("t", range(LAYERS))
def test_update_matches_greedy_continuation_gradient(estimates, t):
    samples, greedy_grad, _ = estimates[t]
    ok, zmax = passes(samples, greedy_grad)
    assert ok, f"layer {t}: max |z| = {zmax:.2f} >= {critical_z(len(greedy_grad)):.2f}"


def test_last_layer_is_unbiased_for_the_expected_loss(estimates):
    # Nothing is downstream of the last hidden layer but the deterministic read-out.
    samples, _, loss_grad = estimates[-1]
    assert passes(samples, loss_grad)[0]


def test_earlier_layers_are_biased_for_the_expected_loss(estimates):
    # Downstream layers sample in training but the critics assume they act greedily; on this
    # network the bias of layer 1 is many standard errors wide (layer 0's is smaller).
    zmax = [passes(samples, loss_grad)[1] for samples, _, loss_grad in estimates[:-1]]
    assert max(zmax) > critical_z(len(estimates[0][1])), zmax
