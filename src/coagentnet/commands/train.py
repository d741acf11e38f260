"""``coagentnet train``: train one or more configurations, each over several seeds.

Every Config field is an option (``--unit-type``, ``--lr`` ...). An option may list several
comma-separated values; their product gives the configurations. Configurations that differ only
in population scalars (lr, unit_std, critic_ratio, ema_decay) are trained together with their
seeds as one population.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

from coagentnet.commands.common import UsageError
from coagentnet.commands.options import FIELD_GROUPS, option_groups, parse_float
from coagentnet.commands.train_results import print_results
from coagentnet.config import (
    STREAM,
    Config,
    check_rule_options,
    field_docs,
    field_kinds,
    run_label,
    varying_fields,
)
from coagentnet.config.limits import MAX_RUNS, check_seed_range
from coagentnet.config.limits import seed as seed_type
from coagentnet.config.option_use import (
    NEEDS,
    check_unused_options,
    drop_foreign_rule_options,
    takes,
)
from coagentnet.rules.registry import options_of_some_rules

KINDS = field_kinds()
#: Flags that are spelled differently from their Config field.
_RENAMED = {"eval_mode": None}  # --greedy / --sampled instead


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train networks on a data set", description=__doc__)
    docs = field_docs()
    groups = option_groups(p)
    for f in fields(Config):
        if f.name in _RENAMED:
            continue
        kind = KINDS[f.name][0]
        group = groups[FIELD_GROUPS.get(f.name, "runs")]
        # default=None tells "not given" apart (critic options); the help shows Config's.
        text = f"{docs[f.name]} (default: {f.default})".replace("%", "%%")
        if kind == "bool":
            group.add_argument(_option(f.name), action="store_true", default=None, help=text)
        else:
            metavar = kind.upper() + "[,...]"
            group.add_argument(_option(f.name), default=None, metavar=metavar, help=text)
    mode = groups["evaluation"].add_mutually_exclusive_group()
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
    runs = groups["runs"]
    runs.add_argument("--seeds", type=int, default=3, help="seeds per configuration")
    runs.add_argument("--first-seed", type=seed_type, default=0, help="first seed")
    runs.add_argument("--json", action="store_true", help="print one JSON object with all results")
    runs.add_argument(
        "--store",
        help="record every run (curves included) in this results store, as 'sweep' does, so "
        "that 'report' and 'export' read it; runs already in it are not trained again "
        "(default: a temporary store, removed at the end)",
    )
    runs.add_argument(
        "--save-params",
        metavar="DIR",
        help="save each run's trained network in DIR as <configuration>-seed<N>.npz (arrays and "
        "config as JSON, no pickle; coagentnet.load reads it) (default: not saved)",
    )
    runs.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="write every metric as it is evaluated to TensorBoard event files under DIR, one "
        "folder per configuration and seed (needs the tensorboard extra; default: none)",
    )


def _parse_values(name: str, text: str, kind: str) -> list:
    casts = {"int": int, "float": parse_float, "str": str}
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            out.append(casts[kind](item))
        except ValueError as err:
            if kind == "float":  # parse_float's message names the value and what is wrong
                raise UsageError(f"{_option(name)}: {err}") from None
            raise UsageError(f"{_option(name)}: expected {kind}, got {item!r}") from None
    return out


def configs_from_args(args) -> list[Config]:
    """All configurations the options describe (validated: bad values raise ConfigError)."""
    given: dict[str, list] = {}
    for f in fields(Config):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        kind = KINDS[f.name][0]
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
    # An option only some rules take (a critic option, ...) applies to those of a rule list
    # and is refused where none of them is in it.
    for name in [o for o in options_of_some_rules() if o in names]:
        if not any(takes(c.get("rule", Config.rule), name) for c in combos):
            check_rule_options(Config(**combos[0]), {name: _option(name)})  # raises
    configs: dict[Config, None] = {}  # ordered, without duplicates
    for combo in combos:
        if combo.get("dataset") == STREAM and "epochs" not in combo:
            combo["epochs"] = 1  # the stream is one pass
        configs[Config(**drop_foreign_rule_options(combo))] = None
    # An option no configuration uses is refused; one that some use is left out of the rest
    # (it would change nothing but their run ids).
    check_unused_options(list(configs), {n: _option(n) for n in names})
    used = {}
    for cfg in configs:
        unused = {n: getattr(Config(), n) for n in names if n in NEEDS and not NEEDS[n][1](cfg)}
        used[cfg.replace(**unused) if unused else cfg] = None
    return list(used)


def run(args: argparse.Namespace) -> int:
    from coagentnet.commands.phases import mark
    from coagentnet.sweeps.plan import check_configs

    mark("imports")  # bench/startup.py: the process's phases

    if args.seeds <= 0:
        raise UsageError(f"--seeds: must be > 0, got {args.seeds}")
    check_seed_range("--seeds", args.first_seed, args.seeds, UsageError)
    configs = configs_from_args(args)
    if len(configs) * args.seeds > MAX_RUNS:
        raise UsageError(
            f"--seeds: {len(configs)} configurations x {args.seeds} seeds exceed the limit of "
            f"{MAX_RUNS} runs"
        )
    check_configs(configs)  # the data and memory, before the bar or the store
    mark("data load")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    varying = varying_fields(configs)
    warn_single_layer_critics(configs)
    tensorboard = getattr(args, "tensorboard", None)
    if tensorboard:
        from coagentnet.training.tensorboard import check_writable

        check_writable(tensorboard)  # before any training: a bad folder costs nothing
    save_dir = getattr(args, "save_params", None)
    # One pipeline: the runs go through the sweep driver into a results store, the one given
    # (kept, resumable) or a temporary one; TensorBoard and saved parameters ride along.
    with _store_path(getattr(args, "store", None)) as (path, kept):
        from coagentnet.commands.train_store import plan_runs, train_into_store

        runs = plan_runs(configs, seeds)  # ids computed once: the store and saved files share them
        params_dir = None if not save_dir else path.parent / f"{path.name}.train-params"
        results, failed = train_into_store(
            configs,
            seeds,
            path,
            tensorboard=tensorboard,
            label_fields=tuple(varying),
            params_dir=params_dir,
            announce=kept,
            runs=runs,
        )
        if save_dir:
            _save_params(params_dir, save_dir, runs, varying)
    compiled = sum(r.compile_time_s for rs in results.values() for r in rs)
    mark("training", compile_s=compiled)
    print_results(args, results, varying)
    sys.stdout.flush()
    mark("writing")
    return 1 if failed else 0


@contextlib.contextmanager
def _store_path(store: str | None):
    """``(path, kept)``: the store the user named, or one in a temporary folder removed after."""
    if store:
        yield Path(store), True
        return
    with tempfile.TemporaryDirectory(prefix="coagentnet-train-") as folder:
        yield Path(folder) / "train.sqlite", False


def _save_params(params_dir: Path, folder: str, runs, varying: list[str]) -> None:
    """Move each run's saved parameters (``<run id>.npz``) to ``folder/<label>-seed<seed>.npz``."""
    import re
    import shutil

    Path(folder).mkdir(parents=True, exist_ok=True)
    missing = 0
    for run in runs:
        name = re.sub(r"[^\w.=-]+", "_", run_label(run.config, varying))
        saved = params_dir / f"{run.id}.npz"
        if saved.is_file():
            shutil.move(saved, Path(folder) / f"{name}-seed{run.seed}.npz")
        else:
            missing += 1
    if missing:  # complete in the store before this command: nothing was trained to save
        logging.getLogger("coagentnet.train").warning(
            "warning: --save-params: %d runs were already complete in the store and have no "
            "saved parameters",
            missing,
        )
    shutil.rmtree(params_dir, ignore_errors=True)


def warn_single_layer_critics(configs: list[Config]) -> None:
    """With one hidden layer a critic rule has nothing to bootstrap from: the only critic's
    target is the reward itself, so actor_critic and off_policy (default actor signal) train
    exactly as reinforce does. Say so, once per rule."""
    for rule in dict.fromkeys(c.rule for c in configs if c.has_critics and c.layers == 1):
        logging.getLogger("coagentnet.train").warning(
            "warning: %s with --layers 1 has no later layer to bootstrap from (its critic's "
            "target is the reward), so with the default actor signal it trains as reinforce; "
            "use --layers 2 or more to see its critics at work",
            rule,
        )
