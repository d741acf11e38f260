"""One diagnosis as plain numbers: the reference of a kind, then the per-layer statistics
(what ``coagentnet diagnose --json`` prints under ``layers`` and the study script records)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import Config
from coagentnet.diagnostics import references
from coagentnet.diagnostics.estimators import diagnose
from coagentnet.errors import ConfigError
from coagentnet.rules.base import Problem, Rule, RuleContext

#: Reference kinds: see :mod:`coagentnet.diagnostics.references` (``none``: no cosine).
REFERENCES = ("sampled", "exact", "none")

_diagnose = jax.jit(diagnose, static_argnums=(0, 7, 8))


def diagnose_layers(
    cfg: Config,
    problem: Problem,
    rule: Rule,
    params: dict,
    state,
    pool: tuple,
    key: jax.Array,
    ctx: RuleContext,
    samples: int,
    reference: str = "sampled",
    ref_size: tuple[int, int] = (16, 16),
) -> list[dict]:
    """Per layer (``"0".."L-1"``, ``"readout"``) a dict of the :class:`LayerStats` fields and,
    with a reference, ``reference_norm`` and ``reference_rel_se`` (|SE vector| / |reference|;
    0 for the exact one). Raises :class:`ConfigError` if the reference is unavailable."""
    if samples < 2:
        raise ConfigError(f"samples: R must be >= 2 estimates, got {samples}")
    if cfg.batch_size > pool[0].shape[0]:
        raise ConfigError(
            f"batch_size: {cfg.batch_size} exceeds the pool of {pool[0].shape[0]} examples"
        )
    if reference != "none" and not cfg.is_coagent:
        raise ConfigError(f"reference: {reference} needs a coagent network, not {cfg.rule!r}")
    k_ref, k_est = jax.random.split(key)
    ref = se = None
    if reference == "exact":
        why = references.exact_unavailable(cfg)
        if why is not None:
            raise ConfigError(f"reference: exact {why}")
        ref = references.exact_reference(cfg, problem, params, *pool)
        se = tuple(jnp.zeros_like(r) for r in ref)
    elif reference == "sampled":
        ref, se = references.sampled_reference(
            cfg, problem, params, *pool, k_ref, dict(ctx.hyper), *ref_size
        )
    stats = _diagnose(rule, params, state, *pool, k_est, ctx, samples, cfg.batch_size, ref)
    columns = {k: np.asarray(v, np.float64) for k, v in stats._asdict().items()}
    L = len(columns["snr"]) - 1
    layers = []
    for t in range(L + 1):
        row = {"layer": "readout" if t == L else str(t)}
        row |= {k: float(v[t]) for k, v in columns.items()}
        if ref is not None:
            norm = float(jnp.linalg.norm(ref[t]))
            row["reference_norm"] = norm
            row["reference_rel_se"] = float(jnp.linalg.norm(se[t])) / max(norm, 1e-30)
        else:
            row["cosine"] = None
        layers.append(row)
    return layers
