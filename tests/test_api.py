"""The public API: the names import lazily, a rule from outside the package registers once and
trains with every baseline it declares, your own arrays train under your own name, and a
run's metrics come back as a DataFrame."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import coagentnet
from coagentnet.rules import registry
from coagentnet.rules.coagent import coagent_rule

SRC = Path(coagentnet.__file__).parent
TINY = dict(dataset="digits", layers=1, units=4, batch_size=128, epochs=1)


def test_every_public_name_imports():
    for name in coagentnet.__all__:
        assert getattr(coagentnet, name) is not None, name
    assert coagentnet.train_population is coagentnet.training.run.run_population
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        coagentnet.nope  # noqa: B018


#: The public API, documented here so that a name added or dropped is a deliberate change.
PUBLIC = [
    "Config", "ConfigError", "DataError", "Dataset", "Problem", "RULES", "Rule", "RuleEntry",
    "RuleTraits", "RunResult", "frame", "grid", "load", "load_dataset", "metrics_frame",
    "open_store", "register_dataset", "register_rule", "runs_frame", "save", "train",
    "train_into_store", "train_population", "use_cpu_cores",
]  # fmt: skip


def test_dir_shows_the_public_api_and_nothing_else():
    import coagentnet.training.run  # noqa: F401  (a subpackage bound on the package stays out)

    assert coagentnet.__all__ == sorted(PUBLIC)
    assert [n for n in dir(coagentnet) if not n.startswith("_")] == coagentnet.__all__
    code = "import coagentnet; print([n for n in dir(coagentnet) if not n.startswith('_')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == repr(coagentnet.__all__)


def test_import_coagentnet_does_not_import_jax_or_matplotlib():
    code = "import sys, coagentnet; print(sorted({'jax', 'matplotlib'} & sys.modules.keys()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_help_of_every_verb_imports_neither_jax_nor_pandas_nor_matplotlib():
    code = (
        "import sys, contextlib, io\n"
        "from coagentnet.cli import VERBS, main\n"
        "for argv in [['--help']] + [[verb, '--help'] for verb in VERBS]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(argv)\n"
        "print(sorted({'jax', 'pandas', 'scipy', 'matplotlib'} & sys.modules.keys()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_light_name_lists_match_what_they_name():
    from coagentnet.model import baselines, kinds, units
    from coagentnet.reproduce import names, studies

    assert kinds.UNIT_KINDS == tuple(units.UNIT_TYPES)
    assert kinds.BASELINE_KINDS == tuple(baselines.BASELINES)
    discrete = tuple(k for k, make in units.UNIT_TYPES.items() if make().is_discrete)
    assert kinds.DISCRETE_UNIT_KINDS == discrete
    assert names.STUDY_NAMES == tuple(s.name for s in studies.STUDIES)


def _my_reinforce(cfg, problem):
    """REINFORCE under another name (what a notebook would define)."""
    return coagent_rule(cfg, problem, bootstrap=None)


@pytest.fixture
def my_rule():
    entry = coagentnet.register_rule("test_reinforce", _my_reinforce, policy_gradient=True,
                                     baselines=None)  # fmt: skip
    yield entry
    registry.unregister_rule(entry.name)


@pytest.mark.slow  # one compilation per baseline kind, twice
def test_a_rule_from_a_test_module_trains_with_every_baseline_it_declares(my_rule):
    assert coagentnet.RULES["test_reinforce"] is my_rule
    kinds = registry.baselines_of("test_reinforce")
    assert set(kinds) == set(coagentnet.model.baselines.BASELINES)
    for kind in kinds:
        cfg = coagentnet.Config(rule="test_reinforce", baseline=kind, **TINY)
        ours = coagentnet.train(cfg, seed=3)
        theirs = coagentnet.train(cfg.replace(rule="reinforce"), seed=3)
        # Same constructor, same seed: the registered rule is the built-in one, bitwise.
        assert ours.final == theirs.final, kind
        assert np.isfinite(ours.final["test/accuracy"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(name="reinforce", policy_gradient=True, baselines=None), "already registered"),
        (dict(name="x1", critics=True), "critics=True needs policy_gradient=True"),
        (dict(name="x2", baselines=("ema",)), "only policy-gradient rules take a baseline"),
        (dict(name="x3", policy_gradient=True, baselines=("nope",)), "unknown baselines"),
        (dict(name="x4", baselines=None), "baselines=None .* needs policy_gradient=True"),
        (dict(name="x5", unit_types=("sine",)), "unknown unit types"),
        (dict(name="not a name"), "must be an identifier"),
    ],
)
def test_register_rule_refuses_taken_names_and_contradictory_traits(kwargs, message):
    before = registry.rule_names()
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=message) as info:
        coagentnet.register_rule(name, _my_reinforce, **kwargs)
    assert "\n" not in str(info.value)
    assert registry.rule_names() == before


def test_built_in_traits_are_consistent():
    for entry in registry.BUILTIN:
        registry.check_traits(entry.name, entry.traits)


def _string_tuples(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(items) == len(node.elts) and all(isinstance(i, str) for i in items):
                yield node.lineno, items


#: Modules that name particular rules as the subject of a measurement, not as a list of the
#: rules there are: claim 2 is a statement about three named rules, and the benchmark cases
#: time the rules they name. Validation, the CLI and the planner must read the registry.
NAMED_SUBJECTS = {"analysis/claim2.py", "bench/cases.py"}


def test_the_registry_is_the_only_list_of_rule_names():
    names = set(registry.rule_names())
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "registry.py" or str(path.relative_to(SRC)) in NAMED_SUBJECTS:
            continue
        for line, items in _string_tuples(ast.parse(path.read_text())):
            if len(names & set(items)) >= 2:
                found.append(f"{path.relative_to(SRC)}:{line} {items}")
    assert not found, "rule names listed outside rules/registry.py:\n" + "\n".join(found)


def test_own_arrays_train_under_their_own_name():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = (x[:, 0] > 0).astype(int)
    coagentnet.register_dataset("halfspace", x, y)
    try:
        data = coagentnet.load_dataset("halfspace")
        assert (data.task, data.num_classes, data.in_dim) == ("classification", 2, 5)
        assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 300
        cfg = coagentnet.Config(dataset="halfspace", rule="backprop", units=8, epochs=3, lr=0.01)
        result = coagentnet.train(cfg)
        assert result.final["test/accuracy"] > 0.8  # a half-space: backprop learns it at once
        with pytest.raises(coagentnet.DataError, match="taken"):
            coagentnet.register_dataset("digits", x, y)
    finally:
        coagentnet.data.unregister_dataset("halfspace")
    with pytest.raises(coagentnet.ConfigError, match="dataset: unknown value 'halfspace'"):
        coagentnet.Config(dataset="halfspace")


def test_run_result_to_frame():
    result = coagentnet.train(coagentnet.Config(rule="backprop", **TINY))
    frame = result.to_frame()
    assert list(frame.columns) == ["seed", "step", "split", "metric", "layer", "value"]
    assert len(frame) == len(result.metrics)
    last = frame[(frame.split == "test") & (frame.metric == "accuracy")].iloc[-1]
    assert last.value == result.final["test/accuracy"]
