"""The standard benchmark cases and the configs and synthetic data that
one measurement of a case trains on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Examples in each synthetic validation and test split of the MNIST-shaped cases.
EVAL_EXAMPLES = 1024

#: Fewest updates per timed chunk (the scan's length), whatever P.
MIN_STEPS = 5

#: The correlated stream at paper scale (SPEC 5 and 7.5): M * S = 200 * 1600 updates per run.
STREAM_UPDATES = 200 * 1600


@dataclass(frozen=True)
class Case:
    """One standard architecture, measured with a coagent rule and with backprop.

    ``coagent`` and ``backprop`` are :class:`~coagentnet.config.Config` fields. ``steps`` is the
    default scan length at small P; ``budget`` caps the network-updates of one timed chunk, so
    that the scan shortens as P grows (``steps(P) = max(MIN_STEPS, min(steps, budget // P))``).
    """

    name: str
    description: str
    coagent: dict
    backprop: dict
    steps: int
    budget: int

    @property
    def is_stream(self) -> bool:
        return self.coagent.get("dataset") == "correlated"


_MNIST = dict(dataset="mnist", batch_size=32, units=64)
_STREAM = dict(dataset="correlated", batch_size=32, units=50)

#: The standard cases, by name. The first three are measured by default.
CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case(
            "mnist-1x64",
            "MNIST-shaped 784-64-10, Bernoulli REINFORCE, batch 32 (SPEC 7.1)",
            dict(_MNIST, layers=1, rule="reinforce"),
            dict(_MNIST, layers=1, rule="backprop"),
            steps=200,
            budget=20_000,
        ),
        Case(
            "mnist-3x64",
            "MNIST-shaped 784-64-64-64-10, off-policy, 1024-wide critics, batch 32 (SPEC 7.2)",
            dict(_MNIST, layers=3, rule="off_policy", critic_width=1024),
            dict(_MNIST, layers=3, rule="backprop"),
            steps=100,
            budget=5_000,
        ),
        # The exact greedy-continuation rules (no critics) and plain REINFORCE on the
        # same 3 x 64 network, each against backprop in the same measurement.
        *(
            Case(
                f"mnist-3x64-{rule}",
                f"MNIST-shaped 784-64-64-64-10, Bernoulli {rule}, batch 32",
                dict(_MNIST, layers=3, rule=rule),
                dict(_MNIST, layers=3, rule="backprop"),
                steps=100,
                budget=5_000,
            )
            for rule in ("reinforce", "greedy_return", "greedy_counterfactual")
        ),
        Case(
            "correlated-1x50",
            "correlated stream, 1x50 Gaussian ReLU REINFORCE + ema baseline, batch 32 (SPEC 7.5)",
            dict(_STREAM, layers=1, rule="reinforce", unit_type="gaussian", baseline="ema"),
            dict(_STREAM, layers=1, rule="backprop"),
            steps=1000,
            budget=200_000,
        ),
        Case(
            "correlated-3x50",
            "correlated stream, 3x50 Bernoulli off-policy, critics 2x32, batch 32 (SPEC 7.5)",
            dict(_STREAM, layers=3, rule="off_policy", critic_width=32, critic_depth=2),
            dict(_STREAM, layers=3, rule="backprop"),
            steps=500,
            budget=50_000,
        ),
    )
}
DEFAULT_CASES = ("mnist-1x64", "mnist-3x64", "correlated-1x50")
DEFAULT_POPULATIONS = {"cpu": (1, 10, 100, 200, 1000), "gpu": (1, 10, 100, 1000, 10_000, 100_000)}
#: The GPU is much faster per update: longer chunks keep dispatch overhead out of the timings.
GPU_BUDGET_FACTOR = 10


def steps_for(case: Case, population: int, steps: int | None = None, device: str = "cpu") -> int:
    """Updates per timed chunk: ``steps`` if given, else the case's default for this P."""
    if steps is not None:
        return steps
    budget = case.budget * (GPU_BUDGET_FACTOR if device == "gpu" else 1)
    return max(MIN_STEPS, min(case.steps, budget // population))


def synthetic_mnist(num_train: int, seed: int = 0):
    """A :class:`~coagentnet.data.Dataset` of MNIST's shapes and value range, random content.

    784 inputs uniform in [-1, 1] and labels uniform over 10 classes: for timing only.
    """
    from coagentnet.data import Dataset

    rng = np.random.default_rng(seed)

    def split(n: int):
        x = rng.uniform(-1.0, 1.0, (n, 784)).astype(np.float32)
        return x, rng.integers(0, 10, n).astype(np.int32)

    (xt, yt), (xv, yv), (xs, ys) = split(num_train), split(EVAL_EXAMPLES), split(EVAL_EXAMPLES)
    return Dataset("synthetic-mnist", "classification", xt, yt, xv, yv, xs, ys, 10)


def bench_config(case: Case, rule: str, steps: int, repeats: int):
    """The Config (and data, ``None`` for the stream) whose chunks are ``steps`` updates long.

    ``rule`` is ``"coagent"`` or ``"backprop"``. ``repeats + 1`` chunks run: one warm-up
    (which compiles) and ``repeats`` timed ones.
    """
    from coagentnet.config import Config

    fields = dict(case.coagent if rule == "coagent" else case.backprop)
    chunks = repeats + 1
    if case.is_stream:
        if STREAM_UPDATES % steps == 0:
            # The paper's stream (M = 200, S = 1600) cut into chunks of ``steps`` updates, of
            # which only the first few run: evaluation sets are then the paper's 102,400
            # examples each, so the per-example evaluation cost is measured at its real size.
            paper = dict(num_means=200, batches_per_mean=1600, num_evals=STREAM_UPDATES // steps)
            return Config(**fields, epochs=1, **paper), None
        # Otherwise one segment per chunk (the walk costs the same every step); evaluation
        # sets are 1% of this shorter stream.
        cfg = Config(**fields, epochs=1, num_means=chunks, batches_per_mean=steps, num_evals=chunks)
        return cfg, None
    cfg = Config(**fields, epochs=chunks)
    return cfg, synthetic_mnist(steps * cfg.batch_size)
