"""A learning rule defined outside the package, registered, and trained beside ``reinforce``.

The rule: REINFORCE for coagent networks (Williams 1992; coagents: Thomas 2011, Kostas et al.
2020) with a per-unit running-average baseline. Unit u of hidden layer t learns from
``grad log pi(a_u | s_t) * (r - b_u(s_t))`` where ``b_u`` keeps two running averages of the
reward, one over the examples on which unit u's greedy action at its input is "on" and one over
those on which it is "off", and uses the one matching the current example. The greedy action
depends on the unit's input only, never on its sampled action, so the baseline is
action-independent and the gradient estimate stays unbiased; unlike one global average it
tracks how the reward differs between the two regions each unit splits its input into.

    python examples/custom_rule.py --tiny          # seconds: 1 seed, 1 epoch, 8 units
    python examples/custom_rule.py --out rule.png  # 3 seeds, 10 epochs, 64 units

Writes a PNG of test accuracy against updates for both rules (mean over seeds).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import pandas as pd

import coagentnet as cn
from coagentnet.model.losses import task_loss
from coagentnet.model.network import init_network, rollout
from coagentnet.model.units import units_from_config
from coagentnet.rules.base import trace_stats


def running_average_reinforce(cfg: cn.Config, problem: cn.Problem) -> cn.Rule:
    """The rule for one config: ``init``, ``loss`` and ``evaluate`` (see coagentnet.rules.base).

    State: ``avg [L, 2, U]``, the running average of the reward per layer, greedy action
    (off, on) and unit, decayed by ``cfg.ema_decay`` per update (a population scalar).
    """
    unit = units_from_config(cfg)
    L, U = cfg.layers, cfg.units

    def init(key):
        params = init_network(key, problem.in_dim, problem.out_dim, L, U, unit)
        return params, {"avg": jnp.zeros((L, 2, U))}

    def loss(params, state, x, y, key, ctx):
        trace = rollout(params, x, key, unit, ctx.hyper["unit_std"])
        per_example = task_loss(problem.task, trace.prediction, y)  # [B]
        r = -jax.lax.stop_gradient(per_example)
        total = jnp.mean(task_loss(problem.task, trace.output, y))  # read-out: its gradient
        decay = ctx.hyper["ema_decay"]
        new_avg = []
        for t in range(L):
            on = trace.greedy[t].astype(jnp.float32)  # [B, U], 1 where the greedy action is on
            b = on * state["avg"][t, 1] + (1.0 - on) * state["avg"][t, 0]  # [B, U]
            advantage = jax.lax.stop_gradient(r[:, None] - b)
            total += -jnp.mean(jnp.sum(trace.logp[t] * advantage, axis=-1))
            # Each average moves towards the mean reward of its examples (none: unchanged).
            n_on, n_off = on.sum(0), (1.0 - on).sum(0)
            mean_on = (on * r[:, None]).sum(0) / jnp.maximum(n_on, 1.0)
            mean_off = ((1.0 - on) * r[:, None]).sum(0) / jnp.maximum(n_off, 1.0)
            old_off, old_on = state["avg"][t]
            new_avg.append(jnp.stack([
                jnp.where(n_off > 0, decay * old_off + (1 - decay) * mean_off, old_off),
                jnp.where(n_on > 0, decay * old_on + (1 - decay) * mean_on, old_on),
            ]))  # fmt: skip
        metrics = {"loss": jnp.mean(per_example), "reward": jnp.mean(r)}
        return total, ({"avg": jnp.stack(new_avg)}, metrics)

    def evaluate(params, x, y, key, hyper, greedy):
        trace = rollout(params, x, key, unit, hyper["unit_std"], greedy=greedy)
        return trace_stats(problem, trace, y, unit)

    return cn.Rule(init, loss, evaluate)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="1 seed, 1 epoch, 8 units")
    parser.add_argument("--out", default="custom_rule.png", help="the figure (PNG)")
    args = parser.parse_args(argv)

    # Traits: a policy-gradient rule (the study options built on log-probabilities apply) with
    # its own baseline (so it takes baseline "none" only) and Bernoulli units (greedy on/off).
    if "avg_reinforce" not in cn.RULES:
        cn.register_rule("avg_reinforce", running_average_reinforce, policy_gradient=True,
                         baselines=("none",), unit_types=("bernoulli",))  # fmt: skip
    size = dict(units=8, epochs=1) if args.tiny else dict(units=64, epochs=10)
    seeds = [0] if args.tiny else [0, 1, 2]
    base = cn.Config(dataset="digits", layers=2, lr=2.0**-8, ema_decay=0.9, **size)
    methods = {
        "reinforce": base,
        "reinforce, ema baseline": base.replace(baseline="ema"),
        "avg_reinforce (per-unit)": base.replace(rule="avg_reinforce"),
    }
    curves = {}
    for label, cfg in methods.items():
        results = cn.train_population([cfg] * len(seeds), seeds)
        frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
        test = frame[(frame.split == "test") & (frame.metric == "accuracy")]
        curves[label] = test.groupby("step")["value"].mean()
        print(f"{label}: final test accuracy {curves[label].iloc[-1]:.3f} "
              f"(mean of {len(seeds)} seeds)")  # fmt: skip

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        ax.plot(curve.index, curve.values, label=label, marker="o" if args.tiny else None)
    ax.set(xlabel="updates", ylabel="test accuracy (greedy)", title="digits, 2 layers")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
