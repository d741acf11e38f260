"""Per-layer SNR, total variance, mean norm and cosine of each rule's update, measured at the
start of training and after given numbers of updates (issue 13; docs/RESULTS.md section 7).

Usage (the numbers in docs/RESULTS.md):

    python scripts/grad_diagnostics.py --setting digits --seeds 3 --samples 64 --pool 256 \
        --ref-rollouts 8 --ref-repeats 8 --out docs/results/grad-diagnostics-digits.json
    (the same with --setting correlated --out docs/results/grad-diagnostics-correlated.json)
    python scripts/grad_diagnostics.py --table --out docs/results/grad-diagnostics-digits.json

For each rule, seeds train as one population up to each checkpoint of ``--updates``, every
stretch continuing from the state the one before ended in (its data order restarts at epoch
0); the parameters and rule state at the start and at each checkpoint are diagnosed. Updates
come from minibatches of a pool (``--pool`` first training examples; the stream: of its
validation set), and the reference is a large-sample estimate of the expected loss's gradient
on that pool, :func:`coagentnet.diagnostics.references.sampled_reference`.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import POPULATION_SCALARS, Config
from coagentnet.data import load_dataset
from coagentnet.diagnostics.measure import diagnose_layers
from coagentnet.rules.base import RuleContext
from coagentnet.rules.registry import make_rule
from coagentnet.training.batches import training_data
from coagentnet.training.loop import train_population

#: Rule label -> Config fields.
RULES = {
    "reinforce": dict(rule="reinforce"),
    "reinforce+ema": dict(rule="reinforce", baseline="ema"),
    "actor_critic": dict(rule="actor_critic"),
    "off_policy": dict(rule="off_policy"),
    "loo": dict(rule="reinforce", baseline="loo", loo_samples=4),
}

SETTINGS = {
    "digits": dict(dataset="digits", layers=3, units=64, batch_size=32, lr=2.0**-6),
    "correlated": dict(
        dataset="correlated", difficulty=0.85, layers=3, units=64, batch_size=32, lr=2.0**-10
    ),
}


@functools.cache
def _digits():
    return load_dataset("digits")


def config_for(setting: str, fields: dict, updates: int) -> Config:
    base = dict(SETTINGS[setting], **fields)
    if setting == "correlated":
        per_mean = 100  # segments of 100 updates, one evaluation per segment
        means = max(1, updates // per_mean)
        return Config(**base, epochs=1, num_means=means, batches_per_mean=per_mean, num_evals=means)
    cfg = Config(**base, epochs=1)
    steps = training_data(cfg, _digits()).source.steps_per_chunk
    return cfg.replace(epochs=max(1, math.ceil(updates / steps)))


def pool_of(cfg: Config, size: int):
    """The first ``size`` examples of the training set (the stream: of its validation set)."""
    if cfg.is_stream:
        x, y = training_data(cfg).eval_splits["validation"]
    else:
        data = load_dataset(
            cfg.dataset, data_dir=cfg.data_dir, split_seed=cfg.split_seed, normalize=cfg.normalize
        )
        x, y = data.x_train, data.y_train
    return jnp.asarray(x[:size]), jnp.asarray(y[:size])


def member(tree, i):
    return jax.tree.map(lambda a: a[i], tree)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=tuple(SETTINGS), default="digits")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--updates", default="1000,10000", help="checkpoints, comma-separated")
    parser.add_argument("--samples", type=int, default=64, help="R estimates per diagnosis")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--pool", type=int, default=512, help="examples minibatches come from")
    parser.add_argument("--ref-rollouts", type=int, default=16, help="reference: K per example")
    parser.add_argument("--ref-repeats", type=int, default=16, help="reference: G estimates")
    parser.add_argument("--out", required=True)
    parser.add_argument("--table", action="store_true", help="only print the table of --out")
    args = parser.parse_args(argv)
    if args.table:
        with open(args.out) as f:
            saved = json.load(f)
        print_table(saved["rows"])
        return 0
    rows = []
    start = time.perf_counter()
    checkpoints = [int(u) for u in args.updates.split(",")]
    seeds = list(range(args.seeds))
    for label in args.rules.split(","):
        previous, done = None, 0  # each checkpoint continues the run from the one before
        for n_updates in checkpoints:
            cfg = config_for(args.setting, RULES[label], n_updates - done)
            data = None if cfg.is_stream else _digits()
            problem = training_data(cfg, data).problem
            if previous is None:  # one rule per label: its diagnosis compiles once
                rule = make_rule(cfg, problem)
            captured = {}

            def on_init(state, captured=captured, previous=previous):
                captured["start"] = state
                return state if previous is None else previous

            results = train_population(
                [cfg] * len(seeds),
                seeds,
                data=data,
                on_init=on_init,
                on_end=lambda s, captured=captured: captured.__setitem__("end", s),
            )
            hyper = {k: jnp.asarray(getattr(cfg, k), jnp.float32) for k in POPULATION_SCALARS}
            pool = pool_of(cfg, args.pool)
            points = [("end", done + results[0].updates)]
            if previous is None:
                points.insert(0, ("start", 0))
            previous, done = captured["end"], points[-1][1]
            for where, step in points:
                state = captured[where]
                for i, seed in enumerate(seeds):
                    ctx = RuleContext(hyper=hyper, epoch=0, step=step)
                    layers = diagnose_layers(
                        cfg,
                        problem,
                        rule,
                        member(state.params, i),
                        member(state.rule_state, i),
                        pool,
                        jax.random.PRNGKey(1000 + seed),
                        ctx,
                        args.samples,
                        ref_size=(args.ref_rollouts, args.ref_repeats),
                    )
                    key = "test/loss" if cfg.is_stream else "test/accuracy"
                    test = results[i].final.get(key) if step else None
                    rows.append(dict(rule=label, seed=seed, updates=step, test=test, layers=layers))
            print(
                f"{label} {done} updates done, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    with open(args.out, "w") as f:
        json.dump({"setting": args.setting, "samples": args.samples, "rows": rows}, f, indent=1)
    print_table(rows)
    return 0


def print_table(rows) -> None:
    """One row per rule and checkpoint; each cell lists the layers (hidden 0..L-1 / read-out),
    means over seeds."""
    keys = sorted({(r["rule"], r["updates"]) for r in rows})
    fields = ("snr", "cosine", "mean_norm", "variance", "reference_rel_se")
    print("| rule | updates | test | " + " | ".join(fields) + " |")
    print("|---" * (3 + len(fields)) + "|")
    for rule, updates in keys:
        group = [r for r in rows if r["rule"] == rule and r["updates"] == updates]
        tests = [r["test"] for r in group if r["test"] is not None]
        cells = [rule, str(updates), f"{np.mean(tests):.3f}" if tests else "-"]
        for field in fields:
            per_layer = np.mean([[x[field] for x in r["layers"]] for r in group], axis=0)
            fmt = ".2f" if field in ("cosine", "reference_rel_se") else ".2g"
            cells.append(" / ".join(f"{v:{fmt}}" for v in per_layer))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
