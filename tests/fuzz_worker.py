"""The body of ``test_fuzz_inputs``: hypothesis properties run in a child process under a
memory limit (``resource.setrlimit``), so a blow-up is a failed test, not a frozen machine.

``python -c "import fuzz_worker; fuzz_worker.main(kind, examples, limit_mb)"`` exits 0 if every
example ended in a valid result or a one-line user error, else prints the failing example.
"""

from __future__ import annotations

import resource
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALARS = [
    "1",
    "0",
    "-1",
    "8",
    "1e-3",
    "0.01",
    ".nan",
    ".inf",
    "-.inf",
    "1e309",
    "0x10",
    "0o7",
    "~",
    "true",
    "no",
    "''",
    "'a b'",
    "x",
    "reinforce",
    "digits",
    "backprop",
    "!!binary aGk=",
    "!!python/object:os.system {}",
    "!!set {a}",
    "!!str 3",
    "!!float 1",
    "2**40",
    "[]",
    "{}",
    "4294967296",
    "-4294967297",
    "1_000",
    "2001-01-01",
    "'<img>'",
    '"\\u0000"',
]
KEYS = [
    "name",
    "base",
    "grid",
    "seeds",
    "population",
    "presets",
    "description",
    "units",
    "lr",
    "epochs",
    "layers",
    "rule",
    "dataset",
    "baseline",
    "max_size",
    "memory_mb",
    "quick",
    "ema_decay",
    "unit_std",
    "x",
    "<<",
    "1",
    "null",
]


def _yaml_value(draw, depth: int, anchors: list[str]) -> str:
    kinds = ["scalar", "list", "map", "anchor", "alias", "merge"] if depth < 6 else ["scalar"]
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar" or (kind in ("alias", "merge") and not anchors):
        return draw(st.sampled_from(SCALARS))
    if kind == "alias":
        return "*" + draw(st.sampled_from(anchors))
    if kind == "anchor":
        name = f"a{len(anchors)}"
        value = _yaml_value(draw, depth + 1, anchors)
        anchors.append(name)
        return f"&{name} {value}"
    n = draw(st.integers(0, 4))
    if kind == "list":
        return "[" + ", ".join(_yaml_value(draw, depth + 1, anchors) for _ in range(n)) + "]"
    items = []
    if kind == "merge":
        items.append("<<: *" + draw(st.sampled_from(anchors)))
    for _ in range(n):
        key = draw(st.sampled_from(KEYS))
        items.append(f"{key}: {_yaml_value(draw, depth + 1, anchors)}")
    return "{" + ", ".join(items) + "}"


@st.composite
def sweep_texts(draw) -> str:
    anchors: list[str] = []
    lines = ["name: fz"] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.sampled_from(KEYS))
        lines.append(f"{key}: {_yaml_value(draw, 0, anchors)}")
    extra = draw(st.sampled_from(["", "deep", "bomb", "tab", "dup"]))
    if extra == "deep":
        n = draw(st.integers(50, 20000))
        lines.append("description: " + "[" * n + "]" * n)
    elif extra == "bomb":
        lines.append("base:\n  units:\n    - &b0 [x, x, x, x, x, x, x, x, x, x]")
        for i in range(1, draw(st.integers(2, 9))):
            lines.append(f"    - &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]")
    elif extra == "tab":
        lines.append("\tbase: 1")
    elif extra == "dup":
        lines.extend(["seeds: 1", "seeds: 2"])
    return "\n".join(lines) + "\n"


def _one_line(err: BaseException) -> None:
    text = str(err)
    assert "\n" not in text and 0 < len(text) < 1000, repr(text[:2000])


def check_yaml(examples: int) -> None:
    from coagentnet.errors import ConfigError
    from coagentnet.sweeps import sweepfile

    folder = Path(tempfile.mkdtemp())

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(sweep_texts())
    def prop(text):
        path = folder / "fz.yaml"
        path.write_text(text)
        try:
            sweep = sweepfile.load(path)
        except ConfigError as err:
            _one_line(err)
        else:
            assert len(sweep.runs) >= 1

    prop()


def check_api(examples: int) -> None:
    import numpy as np
    from hypothesis.extra import numpy as hnp

    import coagentnet as cn
    from coagentnet.data import DataError
    from coagentnet.errors import ConfigError

    floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
    names = iter(range(10**9))
    cfg = cn.Config(dataset="digits", layers=1, units=4, epochs=1, batch_size=64)

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        n=st.integers(0, 40),
        d=st.integers(0, 3),
        dy=st.integers(-2, 2),
        regression=st.booleans(),
        data=st.data(),
        seed=st.one_of(
            st.integers(-(2**41), 2**41),
            st.floats(),
            st.booleans(),
            st.text(max_size=3),
            st.none(),
            st.sampled_from([0, 1, 2**32 - 1, np.int64(3), np.float32(1)]),
        ),
    )
    def prop(n, d, dy, regression, data, seed):
        x = data.draw(hnp.arrays(np.float32, (n, d), elements=floats))
        ny = max(0, n + dy)
        elements = floats if regression else st.integers(-1, 4)
        y = data.draw(hnp.arrays(np.float32 if regression else np.int64, (ny,), elements=elements))
        try:
            cn.register_dataset(f"fz{next(names)}", x, y)
        except (DataError, ConfigError) as err:
            _one_line(err)
        except ValueError as err:  # noqa: F841 (a scikit-learn split refusal is a bug)
            raise AssertionError(f"not a DataError: {err!r}") from None
        try:
            result = cn.train(cfg, seed=seed)
        except ConfigError as err:
            _one_line(err)
        else:
            assert result.seed == seed and isinstance(seed, int | np.integer)

    prop()


def main(kind: str, examples: int, limit_mb: int) -> None:
    limit = limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        {"yaml": check_yaml, "api": check_api}[kind](examples)
    except MemoryError:
        print("FUZZ: memory blow-up (MemoryError under the limit)", file=sys.stderr)
        raise SystemExit(3) from None
    print("FUZZ OK")
