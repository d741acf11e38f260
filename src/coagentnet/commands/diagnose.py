"""``coagentnet diagnose``: per-layer noise, size and aim of a rule's update.

At a network's parameters (its initialisation for ``--seed``, or with ``--trained`` after
training the config for its epochs), draws R = ``--samples`` independent minibatch updates in
one vmapped call and prints per layer the mean update's norm, the total variance (trace of
the covariance) with its standard error, the SNR |mean| / sqrt(variance / R) and the cosine
with a reference direction. The update is the gradient of the rule's surrogate loss (not the
optimiser's step). Config fields are options (``--rule``, ``--layers`` ...), one value each.
"""

from __future__ import annotations

import json
from dataclasses import fields

from coagentnet.commands.common import UsageError
from coagentnet.commands.options import FIELD_GROUPS, option_groups
from coagentnet.config import Config, field_docs, field_kinds

_CASTS = {"int": int, "float": float, "str": str}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("diagnose", help="per-layer update variance, SNR and cosine")
    p.description = __doc__
    docs = field_docs()
    groups = option_groups(p)
    for name, (kind, _) in field_kinds().items():
        option = "--" + name.replace("_", "-")
        group = groups[FIELD_GROUPS.get(name, "runs")]
        if kind == "bool":
            group.add_argument(option, action="store_true", default=None, help=docs[name])
        else:
            group.add_argument(option, type=_CASTS[kind], default=None, help=docs[name])
    p.add_argument("--seed", type=int, default=0, help="seed of the network (default 0)")
    p.add_argument("--trained", action="store_true", help="train for the config's epochs first")
    p.add_argument("--samples", type=int, default=64, help="R independent updates (>= 2)")
    p.add_argument(
        "--reference",
        choices=("sampled", "exact", "none"),
        default="sampled",
        help="sampled: large-sample REINFORCE estimate of the expected loss's gradient; exact: "
        "enumeration (Bernoulli, at most 8 units per layer); none: no cosine",
    )
    p.add_argument("--pool", type=int, default=512, help="examples minibatches come from")
    p.add_argument("--ref-rollouts", type=int, default=16, help="sampled reference: K per example")
    p.add_argument("--ref-repeats", type=int, default=16, help="sampled reference: G estimates")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    import jax
    import jax.numpy as jnp

    from coagentnet.config import POPULATION_SCALARS
    from coagentnet.diagnostics.measure import diagnose_layers
    from coagentnet.rules.base import RuleContext
    from coagentnet.rules.registry import make_rule
    from coagentnet.training.batches import training_data
    from coagentnet.training.data_cache import config_data
    from coagentnet.training.loop import train_phase
    from coagentnet.training.members import member_keys

    if args.samples < 2:
        raise UsageError(f"--samples: R must be >= 2, got {args.samples}")
    for name in ("pool", "ref_rollouts", "ref_repeats"):
        if getattr(args, name) < 2:
            raise UsageError(f"--{name.replace('_', '-')}: must be >= 2, got {getattr(args, name)}")
    given = {f.name: getattr(args, f.name) for f in fields(Config)}
    given = {k: v for k, v in given.items() if v is not None}
    if given.get("dataset") == "correlated":
        given.setdefault("epochs", 1)  # the stream is one pass
    cfg = Config(**given)
    from coagentnet.sweeps.plan import check_fits, physical_bytes
    from coagentnet.training.memory import samples_bytes

    check_fits(cfg)
    budget, need = physical_bytes(), samples_bytes(cfg, args.samples + args.ref_rollouts)
    if need > budget:
        raise UsageError(
            f"--samples: {args.samples} updates need about {need / 2**20:,.0f} MiB, more than "
            f"the {budget / 2**20:,.0f} MiB of this machine"
        )
    data = None if cfg.is_stream else config_data(cfg)  # training's load: same range and split
    prepared = training_data(cfg, data)
    rule = make_rule(cfg, prepared.problem)
    updates = 0
    if args.trained:
        result, end = train_phase([cfg], [args.seed], data=data)
        params, state = jax.tree.map(lambda a: a[0], (end.params, end.rule_state))
        updates = result[0].updates
    else:
        params, state = rule.init(member_keys(args.seed).init)
    split = "validation" if cfg.is_stream else "train"
    x, y = prepared.eval_splits[split]
    pool = (jnp.asarray(x[: args.pool]), jnp.asarray(y[: args.pool]))
    hyper = {k: jnp.asarray(getattr(cfg, k), jnp.float32) for k in POPULATION_SCALARS}
    ctx = RuleContext(hyper=hyper, epoch=0, step=updates)
    layers = diagnose_layers(
        cfg,
        prepared.problem,
        rule,
        params,
        state,
        pool,
        jax.random.PRNGKey(args.seed + 1),
        ctx,
        args.samples,
        args.reference,
        (args.ref_rollouts, args.ref_repeats),
    )
    out = {
        "config": cfg.to_dict(),
        "seed": args.seed,
        "updates": updates,
        "samples": args.samples,
        "batch_size": cfg.batch_size,
        "pool": f"{split}[:{pool[0].shape[0]}]",
        "reference": args.reference,
        "layers": layers,
    }
    if args.json:
        print(json.dumps(out, allow_nan=True))
        return 0
    print(
        f"{cfg.rule} (baseline {cfg.baseline}), {updates} updates, R = {args.samples}, "
        f"reference {args.reference}"
    )
    print("layer     mean norm   total variance (SE)      SNR   cosine  ref rel SE")
    for row in layers:
        cos = "-" if row["cosine"] is None else f"{row['cosine']:.3f}"
        rel = f"{row['reference_rel_se']:.2f}" if "reference_rel_se" in row else "-"
        print(
            f"{row['layer']:<8}  {row['mean_norm']:9.3g}  {row['variance']:9.3g} "
            f"({row['variance_se']:.2g})  {row['snr']:9.2f}  {cos:>6}  {rel:>10}"
        )
    return 0
