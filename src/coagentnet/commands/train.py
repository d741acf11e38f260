"""``coagentnet train``: train one or more configurations, each over several seeds.

Every Config field is an option (``--unit-type``, ``--lr`` ...). An option may list several
comma-separated values; their product gives the configurations. Configurations that differ only
in population scalars (lr, unit_std, critic_ratio, ema_decay) are trained together with their
seeds as one population.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import fields

from coagentnet.cli import UsageError
from coagentnet.config import CRITIC_OPTIONS, STREAM, Config, check_critic_options, field_docs
from coagentnet.results import RunResult
from coagentnet.stats import mean_se
from coagentnet.validate import MAX_RUNS, check_seed_range
from coagentnet.validate import seed as seed_type

#: Flags that are spelled differently from their Config field.
_RENAMED = {"eval_mode": None}  # --greedy / --sampled instead


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train networks on a data set", description=__doc__)
    docs = field_docs()
    for f in fields(Config):
        if f.name in _RENAMED:
            continue
        kind = str(f.type).split(" | ")[0]
        if kind == "bool":
            p.add_argument(_option(f.name), action="store_true", default=None, help=docs[f.name])
        else:
            metavar = kind.upper() + "[,...]"
            p.add_argument(_option(f.name), default=None, metavar=metavar, help=docs[f.name])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--greedy",
        dest="eval_mode",
        action="store_const",
        const="greedy",
        help="evaluate with every unit's most likely action (default)",
    )
    mode.add_argument(
        "--sampled",
        dest="eval_mode",
        action="store_const",
        const="sampled",
        help="evaluate with sampled actions",
    )
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default 3)")
    p.add_argument("--first-seed", type=seed_type, default=0, help="first seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object with all results")


def _parse_values(name: str, text: str, kind: str) -> list:
    casts = {"int": int, "float": float, "str": str}
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            out.append(casts[kind](item))
        except ValueError:
            raise UsageError(f"{_option(name)}: expected {kind}, got {item!r}") from None
    return out


def configs_from_args(args) -> list[Config]:
    """All configurations the options describe (validated: bad values raise ConfigError)."""
    given: dict[str, list] = {}
    for f in fields(Config):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        kind = str(f.type).split(" | ")[0]
        given[f.name] = (
            [value]
            if kind == "bool" or f.name == "eval_mode"
            else _parse_values(f.name, value, kind)
        )
    names = list(given)
    count = 1
    for values in given.values():
        count *= len(values)
    if count > MAX_RUNS:  # counted before the product is built
        raise UsageError(f"options: {count} configurations exceed the limit of {MAX_RUNS}")
    combos = [dict(zip(names, c, strict=True)) for c in itertools.product(*given.values())]
    critic_given = set(names) & set(CRITIC_OPTIONS)
    if critic_given and not any(Config(**c).has_critics for c in combos):
        check_critic_options(Config(**combos[0]), critic_given)  # raises: no rule takes them
    configs: dict[Config, None] = {}  # ordered, without duplicates
    for combo in combos:
        if combo.get("dataset") == STREAM and "epochs" not in combo:
            combo["epochs"] = 1  # the stream is one pass
        cfg = Config(**combo)
        if not cfg.has_critics:  # critic options apply to the critic rules of a rule list
            cfg = Config(**{k: v for k, v in combo.items() if k not in CRITIC_OPTIONS})
        configs[cfg] = None
    return list(configs)


def _label(cfg: Config, varying: list[str]) -> str:
    return ", ".join(f"{n}={getattr(cfg, n)}" for n in varying) or cfg.rule


def _summary(results: list[RunResult]) -> dict:
    keys = sorted({k for r in results for k in r.final})
    out = {}
    for key in keys:
        mean, se = mean_se([r.final.get(key, float("nan")) for r in results])
        out[key] = {"mean": mean, "se": se}
    return out


def run(args: argparse.Namespace) -> int:
    from coagentnet.plan import check_fits
    from coagentnet.train import train_population

    if args.seeds <= 0:
        raise UsageError(f"--seeds: must be > 0, got {args.seeds}")
    check_seed_range("--seeds", args.first_seed, args.seeds, UsageError)
    configs = configs_from_args(args)
    if len(configs) * args.seeds > MAX_RUNS:
        raise UsageError(
            f"--seeds: {len(configs)} configurations x {args.seeds} seeds exceed the limit of "
            f"{MAX_RUNS} runs"
        )
    for cfg in configs:
        check_fits(cfg)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    varying = [f.name for f in fields(Config) if len({getattr(c, f.name) for c in configs}) > 1]
    groups: dict[tuple, list[Config]] = {}
    for cfg in configs:
        groups.setdefault(cfg.static_key(), []).append(cfg)

    results: dict[Config, list[RunResult]] = {}
    for g, members in enumerate(groups.values(), start=1):
        pop_configs = [c for c in members for _ in seeds]
        pop_seeds = [s for _ in members for s in seeds]
        progress = _Progress(
            f"[{g}/{len(groups)}] {members[0].rule}",
            members[0].epochs + members[0].pretrain_epochs,  # pretraining epochs come first
            len(pop_configs),
        )
        for res in train_population(pop_configs, pop_seeds, progress=progress):
            results.setdefault(res.config, []).append(res)
        print(file=sys.stderr)

    if args.json:
        _print_json(results, varying)
    else:
        _print_table(results, varying)
    return 0


class _Progress:
    """One stderr line per population: epoch and per-network updates/s after compilation."""

    def __init__(self, label: str, epochs: int, members: int):
        self.label, self.epochs, self.members = label, epochs, members
        self.epoch, self.updates, self.since = 0, 0, None

    def __call__(self, updates: int) -> None:
        self.epoch += 1
        now = time.perf_counter()
        if self.since is None:  # the first epoch includes compilation: time from its end
            self.since = now
        else:
            self.updates += updates * self.members
        rate = self.updates / (now - self.since) if self.updates else float("nan")
        print(
            f"\r{self.label}: epoch {self.epoch}/{self.epochs}, {rate:,.0f} updates/s",
            end="",
            file=sys.stderr,
            flush=True,
        )


def _print_json(results: dict[Config, list[RunResult]], varying: list[str]) -> None:
    out = {"runs": [], "summary": []}
    for cfg, runs in results.items():
        for r in runs:
            out["runs"].append(
                {
                    "config": cfg.to_dict(),
                    "seed": r.seed,
                    "diverged": r.diverged,
                    "updates": r.updates,
                    "final": r.final,
                }
            )
        out["summary"].append(
            {
                "label": _label(cfg, varying),
                "config": cfg.to_dict(),
                "seeds": len(runs),
                "diverged": sum(r.diverged for r in runs),
                "final": _summary(runs),
            }
        )
    print(json.dumps(out, allow_nan=True))


def _print_table(results: dict[Config, list[RunResult]], varying: list[str]) -> None:
    classification = any("test/accuracy" in r.final for runs in results.values() for r in runs)
    metric = "test/accuracy" if classification else "test/loss"
    title = "test accuracy" if classification else "test MSE"
    eval_mode = next(iter(results)).eval_mode
    rows = []
    for cfg, runs in results.items():
        mean, se = mean_se([r.final.get(metric, float("nan")) for r in runs])
        se_text = "n/a" if se != se else f"{se:.4f}"
        rows.append(
            (
                _label(cfg, varying),
                f"{mean:.4f} +/- {se_text}",
                str(len(runs)),
                str(sum(r.diverged for r in runs)),
            )
        )
    head = ("configuration", f"final {eval_mode} {title} (mean +/- SE)", "seeds", "diverged")
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    for row in (head, *rows):
        print("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
