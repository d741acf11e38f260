"""The memory pre-check counts every resource knob (issue 23; input audit 2, section 12): a
member tile, leave-one-out samples, gradient diagnostics, diagnose's samples and stream sizes
past what the machine holds are one-line errors before any compile, not JAX out-of-memory
tracebacks or an XLA abort."""

from __future__ import annotations

import pytest

from conftest import refused

CASES = [
    (["train", "--baseline", "loo", "--loo-samples", "1000000"], {}, "loo_samples"),
    (["train", "--grad-diagnostics", "1000000"], {}, "grad_diagnostics"),
    (["train"], {"COAGENTNET_MEMBER_TILE": "100000000000"}, "COAGENTNET_MEMBER_TILE"),
    (["train"], {"COAGENTNET_MEMBER_TILE": "many"}, "COAGENTNET_MEMBER_TILE"),
    (
        [
            "train",
            "--dataset",
            "correlated",
            "--num-means",
            "2000000000",
            "--batches-per-mean",
            "1000",
            "--num-evals",
            "1000",
        ],
        {},
        "num_means/batches_per_mean",
    ),
    (["diagnose", "--samples", "100000000000"], {}, "--samples"),
]


@pytest.mark.parametrize(
    "argv, env, needle", CASES, ids=[c[2] + str(i) for i, c in enumerate(CASES)]
)
def test_resource_knobs_are_checked_up_front(tmp_path, monkeypatch, capsys, argv, env, needle):
    monkeypatch.chdir(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    common = ["--units", "8", "--epochs", "1"] + (["--seeds", "1"] if argv[0] == "train" else [])
    refused(capsys, [*argv, *common], needle, tmp_path)
