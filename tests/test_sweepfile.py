"""Sweep files: expansion, the pow2 shorthand, and one-line errors naming the key path."""

import pytest

from coagentnet.config import Config
from coagentnet.sweeps.plan import run_id
from coagentnet.sweeps.sweepfile import SweepError, load, parse


def test_expands_grid_times_seeds_in_file_order():
    sweep = parse(
        {
            "base": {"dataset": "digits", "units": 8},
            "grid": {"rule": ["reinforce", "backprop"], "lr": {"pow2": [-12, -10]}},
            "seeds": 2,
        }
    )
    assert len(sweep.runs) == 2 * 3 * 2
    first = sweep.runs[0]
    assert (first.config.rule, first.config.lr, first.seed) == ("reinforce", 2.0**-12, 0)
    assert [r.config.lr for r in sweep.runs[:6:2]] == [2.0**-12, 2.0**-11, 2.0**-10]
    assert {r.config.units for r in sweep.runs} == {8}
    assert first.id == run_id(first.config, 0)
    assert len({r.id for r in sweep.runs}) == len(sweep.runs)


def test_pow2_step_and_explicit_seeds():
    sweep = parse({"grid": {"lr": {"pow2": [-14, -8, 3]}}, "seeds": [5, 9]})
    assert sorted({r.config.lr for r in sweep.runs}) == [2.0**-14, 2.0**-11, 2.0**-8]
    assert {r.seed for r in sweep.runs} == {5, 9}


def test_list_of_grids_is_a_union_and_duplicates_merge():
    sweep = parse(
        {
            "grid": [
                {"rule": ["backprop"]},
                {"rule": ["reinforce"], "baseline": ["none", "ema"]},
                {"rule": ["reinforce"]},  # same as baseline none: merged
            ]
        }
    )
    assert [(r.config.rule, r.config.baseline) for r in sweep.runs] == [
        ("backprop", "none"),
        ("reinforce", "none"),
        ("reinforce", "ema"),
    ]
    assert sweep.duplicates == 1


def test_int_for_float_gives_the_same_run_id():
    a = parse({"base": {"unit_std": 1}}).runs[0]
    b = parse({"base": {"unit_std": 1.0}}).runs[0]
    assert a.id == b.id and isinstance(a.config.unit_std, float)


def test_yaml_exponent_floats_and_name(tmp_path):
    path = tmp_path / "my-sweep.yaml"
    path.write_text(
        "base:\n  lr: 1e-3\n  unit_type: gaussian\ngrid:\n  unit_std: [2e-1, .5]\n"
        "population:\n  max_size: 4\n"
    )
    sweep = load(path)
    assert sweep.name == "my-sweep" and sweep.max_population == 4
    assert [r.config.unit_std for r in sweep.runs] == [0.2, 0.5]
    assert sweep.runs[0].config.lr == 1e-3


def test_no_grid_is_one_run_per_seed():
    assert len(parse({"seeds": 3}).runs) == 3
    assert len(parse({"base": None, "grid": None, "population": None}).runs) == 1
    assert parse({}).runs[0].config == Config()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grid": {"lr": [0.1, 0.2, "abc"]}}, "grid.lr[2]: expected float, got str 'abc'"),
        ({"base": {"units": "8"}}, "base.units: expected int, got str '8'"),
        ({"base": {"units": 8.0}}, "base.units: expected int, got float 8.0"),
        ({"base": {"normalize": 1}}, "base.normalize: expected bool, got int 1"),
        ({"base": {"lr": [0.1]}}, "base.lr: expected float, got list [0.1] (lists of values go"),
        ({"base": []}, "base: expected a mapping, got list []"),
        ({"population": []}, "population: expected a mapping, got list []"),
        ({"base": {"unitz": 8}}, "base.unitz: unknown key; did you mean 'units'?"),
        ({"base": {"seed": 1}}, "base.seed: unknown key; seeds are given by"),
        ({"grid": [{"lr": [1.0]}, {"bogus_field": [1]}]}, "grid[1].bogus_field: unknown key"),
        ({"grids": {}}, "grids: unknown key; did you mean 'grid'?"),
        ({"grid": {"lr": []}}, "grid.lr: empty axis"),
        ({"grid": []}, "grid: empty list of grids"),
        ({"grid": {"lr": 0.1}}, "grid.lr: expected a list of values"),
        ({"grid": {"lr": {"pow2": [-7, -14]}}}, "grid.lr.pow2: empty range"),
        ({"grid": {"lr": {"pow2": [-7, "x"]}}}, "grid.lr.pow2[1]: expected int exponent"),
        ({"grid": {"lr": {"range": [1, 2]}}}, "grid.lr.range: unknown key"),
        ({"grid": {"rule": ["reinforce", "magic"]}}, "grid.rule[1]: unknown value 'magic'"),
        ({"base": {"lr": -1}}, "base.lr: must be > 0"),
        ({"seeds": 0}, "seeds: need at least 1 seed"),
        ({"seeds": []}, "seeds: empty list"),
        ({"seeds": [1, 1]}, "seeds: seed 1 is listed twice"),
        ({"population": {"max_size": 0}}, "population.max_size: expected an int >= 1"),
        (
            {"base": {"critic_width": 128}, "grid": {"rule": ["off_policy", "reinforce"]}},
            "base.critic_width: only actor_critic, off_policy, mc_critic take it",
        ),
        (
            {"grid": {"rule": ["reinforce", "backprop"], "baseline": ["ema"]}},
            "grid.baseline[0]: only policy-gradient rules",
        ),
        ([1, 2], "sweep: expected a mapping at the top level"),
    ],
)
def test_bad_sweeps_fail_with_one_line(data, message):
    with pytest.raises(SweepError) as err:
        parse(data)
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_base_value_rejected_by_a_grid_point_names_both():
    with pytest.raises(SweepError) as err:
        parse({"base": {"layers": 0}, "grid": {"rule": ["backprop", "reinforce"]}})
    assert str(err.value) == (
        "base.layers: reinforce needs at least one stochastic hidden layer "
        "(at grid.rule[1]='reinforce')"
    )


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(SweepError, match="cannot read sweep file"):
        load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: {lr: [1, 2\n")
    with pytest.raises(SweepError, match=r"bad.yaml: line \d+ invalid YAML"):
        load(bad)
