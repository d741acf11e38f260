"""Property (issue 16): any string or number given to a ``train`` option or a sweep-file value
ends with exit 0 and a valid run, or exit 2 and one stderr line; never a traceback, a hang or
another exit code.

Runs in this process with the fake trainer of ``sweep_fakes`` (the real one would spend
seconds compiling per example), so what is exercised is parsing, validation and the
command's own code around training.
"""

import contextlib
import io
import os
import tempfile
from dataclasses import fields
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coagentnet import config as config_module
from coagentnet.cli import main
from coagentnet.config import Config
from coagentnet.sweeps.backends import TRAINER_ENV
from conftest import assert_refusal

import sweep_fakes

pytestmark = pytest.mark.slow  # hundreds of examples

#: Every allowed value of every choice field (RULES, UNIT_TYPES ...), valid or not where used.
_TUPLES = [getattr(config_module, n) for n in dir(config_module) if n.isupper()]
CHOICES = sorted({v for t in _TUPLES if isinstance(t, tuple) for v in t if isinstance(v, str)})
#: Config fields that are options of ``train`` and take a value (bools are flags).
OPTIONS = [f for f in fields(Config) if str(f.type).split(" | ")[0] != "bool"]
OPTIONS = [f for f in OPTIONS if f.name != "eval_mode"]  # --greedy / --sampled

NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e400",
            "-1e400",
            "",
            " ",
            "0",
            "-0",
            "1,,2",
            "0x10",
            "1_000",
            "2,3",
            "1e-3",
            ".5",
            "4,",
            ",",
            "+7",
            "1e9",
        ]
    ),
)
VALUE_TEXT = st.one_of(NUMBER_TEXT, st.sampled_from(CHOICES), st.text(max_size=12))
TINY = ["--dataset", "digits", "--layers", "1", "--units", "4", "--epochs", "1"]


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's refusals
            code = exit.code
    return code, err.getvalue()


def _assert_clean(code: int, err: str, argv) -> None:
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        assert_refusal(code, err, "coagentnet ")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    option=st.sampled_from([f.name for f in OPTIONS] + ["seeds", "first_seed"]),
    value=VALUE_TEXT,
)
def test_train_option_values(option, value):
    argv = ["train", *TINY, "--seeds", "1", f"--{option.replace('_', '-')}={value}"]
    with mock.patch.dict(os.environ, {TRAINER_ENV: sweep_fakes.TRAINER}):
        code, err = _run(argv)
    _assert_clean(code, err, argv)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(CHOICES),
    st.text(max_size=12),
)
YAML_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(
        st.sampled_from(["pow2", "x"]), st.lists(st.integers(-1100, 1100), max_size=4), max_size=2
    ),
)
PLACES = ["base", "grid", "seeds", "population.max_size", "population.memory_mb"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    place=st.sampled_from(PLACES),
    key=st.sampled_from([f.name for f in fields(Config)] + ["bogus"]),
    value=YAML_VALUES,
)
def test_sweep_file_values(place, key, value):
    if place == "base":
        doc = {"base": {"units": 4, "epochs": 1, key: value}}
    elif place == "grid":
        doc = {"base": {"units": 4, "epochs": 1}, "grid": {key: value}}
    elif place == "seeds":
        doc = {"seeds": value}
    else:
        doc = {"population": {place.split(".")[1]: value}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        argv = ["sweep", str(path), "--dry-run", "--store", str(Path(tmp) / "st.sqlite")]
        code, err = _run(argv)
        _assert_clean(code, err, (argv, path.read_text()))
        assert not (Path(tmp) / "st.sqlite").exists()  # a dry run writes nothing
