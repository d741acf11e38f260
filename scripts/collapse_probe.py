"""The first-layer collapse, measured (issue 14, item 3): per layer, over the first updates,
how much the Bernoulli logits still vary across inputs and how much the units still explore.

For each input range (``symmetric`` [-1, 1], the paper's; ``unit`` [0, 1]) and depth L, REINFORCE
(RMSprop, batch 32, 64 units, the library's own rule and optimiser) trains for ``--updates``
updates; at a log-spaced set of update counts it records, on a fixed probe of validation images
(sampled rollout with a fixed key, so the states are those training sees):

- ``spread``: per unit, the standard deviation of its logit z over the probe inputs, averaged
  over the layer's units. A layer whose spread is small next to |z| gives every input the same
  firing probability: its output carries no information about the input;
- ``shift``: the mean |mean over inputs of z|, i.e. how far the layer is pushed to a constant;
- ``entropy``: mean Bernoulli entropy (nats, at most ln 2 = 0.693) of the layer's units;
- ``accuracy``: greedy accuracy of the whole network on the probe.

Output: one JSON line per (range, L, seed, update) on stdout and a Markdown table (means over
seeds) on stderr. Usage::

    python scripts/collapse_probe.py --dataset mnist-test10k --layers 1,2,3 --seeds 3 \\
        --updates 400 --lr 0.00048828125 > collapse.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import POPULATION_SCALARS, Config
from coagentnet.data import load_dataset
from coagentnet.model.network import layer_policy, rollout
from coagentnet.model.units import units_from_config
from coagentnet.rules.base import Problem, RuleContext
from coagentnet.rules.registry import make_rule
from coagentnet.training.optim import make_optimizer, scale_updates

PROBE = 512


def checkpoints(updates: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, 50, ... up to ``updates`` (always included)."""
    out, base = [0], 1
    while base <= updates:
        out += [m * base for m in (1, 2, 5) if m * base <= updates]
        base *= 10
    return sorted(set(out + [updates]))


def layer_stats(params, x, y, unit, cfg: Config) -> dict:
    """Per-layer spread, shift and entropy (lists over layers) and greedy accuracy on x."""
    trace = rollout(params, x, jax.random.PRNGKey(12345), unit, cfg.unit_std)
    spread, shift, entropy = [], [], []
    for t, layer in enumerate(params["hidden"]):
        z = layer_policy(layer, trace.states[t], unit)  # [N, U]
        spread.append(float(jnp.mean(jnp.std(z, axis=0))))
        shift.append(float(jnp.mean(jnp.abs(jnp.mean(z, axis=0)))))
        entropy.append(float(jnp.mean(trace.entropy[t])))
    greedy = rollout(params, x, jax.random.PRNGKey(0), unit, cfg.unit_std, greedy=True)
    acc = float(jnp.mean(jnp.argmax(greedy.output, -1) == y))
    return {"spread": spread, "shift": shift, "entropy": entropy, "accuracy": acc}


def run(cfg: Config, seed: int, updates: int):
    """Yield (update, stats) at :func:`checkpoints` for one network trained by ``cfg.rule``."""
    data = load_dataset(cfg.dataset, input_range=cfg.input_range)
    problem = Problem(data.x_train.shape[1], data.num_classes, "classification")
    rule, tx, unit = make_rule(cfg, problem), make_optimizer(cfg), units_from_config(cfg)
    hyper = {k: jnp.asarray(getattr(cfg, k), jnp.float32) for k in POPULATION_SCALARS}
    key = jax.random.PRNGKey(seed)
    params, state = rule.init(key)
    opt = tx.init(params)
    xs, ys = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    probe_x, probe_y = jnp.asarray(data.x_val[:PROBE]), jnp.asarray(data.y_val[:PROBE])
    rng = np.random.default_rng(seed)
    per_epoch = len(ys) // cfg.batch_size
    order = rng.permutation(len(ys))

    @jax.jit
    def update(params, state, opt, x, y, k, step):
        ctx = RuleContext(hyper=hyper, epoch=step // per_epoch, step=step)
        grads, (state, _) = jax.grad(rule.loss, has_aux=True)(params, state, x, y, k, ctx)
        directions, opt = tx.update(grads, opt, params)
        steps = scale_updates(directions, hyper, rule.step_scales)
        return jax.tree.map(jnp.add, params, steps), state, opt

    marks = set(checkpoints(updates))
    for step in range(updates + 1):
        if step in marks:
            yield step, layer_stats(params, probe_x, probe_y, unit, cfg)
        if step == updates:
            break
        i = step % per_epoch
        if i == 0 and step:
            order = rng.permutation(len(ys))
        idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
        k = jax.random.fold_in(key, step)
        params, state, opt = update(params, state, opt, xs[idx], ys[idx], k, step)


def _mean(sts: list[dict], name: str, t: int | None = None) -> float:
    """Mean over seeds of a stat (of layer ``t`` for per-layer stats)."""
    return float(np.mean([s[name] if t is None else s[name][t] for s in sts]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist-test10k")
    p.add_argument("--layers", default="1,2,3")
    p.add_argument("--ranges", default="symmetric,unit")
    p.add_argument("--rule", default="reinforce")
    p.add_argument("--lr", type=float, default=2.0**-11)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--updates", type=int, default=400)
    a = p.parse_args(argv)
    table: dict = {}
    for rng_name in a.ranges.split(","):
        for layers in (int(v) for v in a.layers.split(",")):
            cfg = Config(
                dataset=a.dataset, input_range=rng_name, layers=layers, rule=a.rule, lr=a.lr
            )
            for seed in range(a.seeds):
                for step, st in run(cfg, seed, a.updates):
                    row = {"range": rng_name, "layers": layers, "seed": seed, "update": step}
                    print(json.dumps({**row, **st}), flush=True)
                    table.setdefault((rng_name, layers, step), []).append(st)
    print(
        "| range | L | update | spread per layer | shift per layer | entropy per layer "
        "| accuracy |",
        file=sys.stderr,
    )
    print("|---|---|---|---|---|---|---|", file=sys.stderr)
    for (rng_name, layers, step), sts in table.items():
        cells = [
            " / ".join(f"{_mean(sts, n, t):.3g}" for t in range(layers))
            for n in ("spread", "shift", "entropy")
        ]
        acc = _mean(sts, "accuracy")
        print(
            f"| {rng_name} | {layers} | {step} | " + " | ".join(cells) + f" | {acc:.3f} |",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
