"""Live curves: the per-evaluation callback sees every evaluation in order, with the values the
result keeps; --tensorboard writes them as event files, and refuses a folder it cannot write."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from coagentnet.cli import main
from coagentnet.config import Config
from coagentnet.training.run import run_population
from conftest import refused

TINY = dict(dataset="digits", layers=1, units=4, batch_size=128, epochs=2)


@pytest.mark.slow  # two epochs of a population of two
def test_the_callback_sees_every_evaluation_in_order():
    configs = [Config(rule="reinforce", lr=lr, **TINY) for lr in (0.01, 0.02)]
    seen = []
    results = run_population(configs, [0, 1], on_evaluation=lambda s, m: seen.append((s, m)))
    steps = sorted({row[0] for row in results[0].metrics})
    assert [s for s, _ in seen] == steps and steps[0] == 0 and len(steps) == 3
    for i, res in enumerate(results):
        assert len(seen[-1][1]) == 2
        assert seen[-1][1][i] == res.final  # the last evaluation is the result's final values
        for step, members in seen:  # every callback value is one of the result's rows
            rows = {(sp, name, layer): v for st, sp, name, layer, v in res.metrics if st == step}
            for key, value in members[i].items():
                split, name, *layer = key.split("/")
                assert rows[(split, name, int(layer[0]) if layer else None)] == value


@pytest.mark.slow  # two programs: backprop, then the rule
def test_the_callback_spans_both_phases_of_pretraining():
    cfg = Config(rule="reinforce", pretrain_epochs=1, **TINY)
    seen = []
    (res,) = run_population([cfg], [0], on_evaluation=lambda s, m: seen.append(s))
    assert seen == sorted({row[0] for row in res.metrics})


def _scalars(event_file) -> list[tuple[str, int, float]]:
    """(tag, step, value) of every scalar in a TensorBoard event file (TFRecord framing:
    length u64, its CRC, the Event protobuf, its CRC)."""
    from tensorboardX.proto.event_pb2 import Event

    data, out, at = event_file.read_bytes(), [], 0
    while at < len(data):
        (n,) = struct.unpack("<Q", data[at : at + 8])
        event = Event.FromString(data[at + 12 : at + 12 + n])
        at += 16 + n
        out += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
    return out


def test_tensorboard_writes_every_metric(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    board = tmp_path / "tb"
    argv = ["train", "--units", "4", "--epochs", "2", "--batch-size", "128", "--seeds", "1",
            "--json", "--tensorboard", str(board)]  # fmt: skip
    assert main(argv) == 0
    files = [f for f in board.rglob("events.out.tfevents.*") if f.parent.name == "seed0"]
    assert len(files) == 1
    scalars = _scalars(files[0])
    # The run's hyperparameters for the HPARAMS tab, beside its curves.
    (hparams,) = (files[0].parent / "hparams").glob("events.out.tfevents.*")
    assert b"hparams" in hparams.read_bytes() and b"units" in hparams.read_bytes()
    accuracy = [(s, v) for tag, s, v in scalars if tag == "test/accuracy"]
    assert [s for s, _ in accuracy] == sorted({s for _, s, _ in scalars}) and len(accuracy) == 3
    final = json.loads(capsys.readouterr().out)["runs"][0]["final"]["test/accuracy"]
    assert np.isclose(accuracy[-1][1], final)


def test_tensorboard_into_an_unwritable_folder_is_one_line_before_training(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["train", "--tensorboard", str(blocker / "tb"), "--seeds", "1"]
    refused(capsys, argv, "coagentnet train: error: --tensorboard:", tmp_path)
