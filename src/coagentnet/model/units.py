"""Coagent unit types: the policies of the hidden units (Gupta et al. 2021).

A layer of U units receives a pre-activation ``h = s_t @ w + b`` of shape ``[B, U * width]``
and turns it into a policy. A unit type is a :class:`Units`, the same pure functions for every
kind:

- ``width(units)``: pre-activations a layer of ``units`` units needs;
- ``head(h)``: reshape to the type's parameters (``[B, U]`` or ``[B, U, K]``);
- ``sample(key, z, std)``, ``greedy(z)``: a raw action (bit, index or pre-activation);
- ``log_prob(z, a, std)``, ``entropy(z, std)``: per unit, ``[B, U]``, in nats, computed from
  logits with stable formulas (never ``log(p + eps)``);
- ``value(a)``: what the unit passes on to the next layer, ``[B, U]`` float.

Raw actions are what log-probabilities are taken of: the bit for Bernoulli units, the index for
categorical units, the pre-activation for Gaussian units (whose activation is applied after
sampling, as in the authors' regression networks). Each kind is one constructor; a new kind is
one constructor and one line in :data:`UNIT_TYPES`, which is the one list of unit type names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

# log(2 pi) rounded to float32, as jnp.log would give it; computed without JAX so that importing
# this module initialises no JAX backend (the CLI must set the CPU device count first).
LOG_2PI = float(np.float32(math.log(2.0 * math.pi)))


class Units(NamedTuple):
    """One hidden layer's unit type: its name, its action count and its functions."""

    kind: str
    num_actions: int
    """K, the actions of a discrete unit (2 for the binary kinds; 0 for Gaussian units)."""
    width: Callable
    head: Callable
    sample: Callable
    greedy: Callable
    log_prob: Callable
    entropy: Callable
    value: Callable

    @property
    def is_discrete(self) -> bool:
        return self.num_actions > 0


def _identity(x: jax.Array) -> jax.Array:
    return x


def _same(units: int) -> int:  # one pre-activation per unit
    return units


def bernoulli(num_actions: int = 2, value_map: str = "", activation: str = "") -> Units:
    """One logit per unit, p(1) = sigmoid(z); values {0, 1}."""

    def sample(key, z, std):
        z = jax.lax.stop_gradient(z)
        return jax.random.bernoulli(key, jax.nn.sigmoid(z)).astype(z.dtype)

    def greedy(z):  # ties go to 0
        z = jax.lax.stop_gradient(z)
        return (z > 0).astype(z.dtype)

    def log_prob(z, a, std):
        # log sigmoid(z) for a = 1 and log sigmoid(-z) for a = 0.
        return -jax.nn.softplus(jnp.where(a > 0.5, -z, z))

    def entropy(z, std):
        # H is even in z; with e = exp(-|z|), p(less likely) = e / (1 + e) and
        # H = log(1 + e) + |z| e / (1 + e): one exp and one log1p, every term >= 0 (no
        # cancellation). Evaluation computes it for every unit and example, so it counts.
        e = jnp.exp(-jnp.abs(z))
        return jnp.log1p(e) + jnp.abs(z) * e / (1.0 + e)

    return Units("bernoulli", 2, _same, _identity, sample, greedy, log_prob, entropy, _identity)


def _softmax_units(kind: str, k: int, value: Callable) -> Units:
    """K logits per unit and a softmax (categorical units and the two-logit Bernoulli)."""

    def head(h):  # [B, U * K] -> [B, U, K]
        return h.reshape(h.shape[:-1] + (-1, k))

    def sample(key, z, std):
        return jax.random.categorical(key, jax.lax.stop_gradient(z), axis=-1)

    def greedy(z):  # argmax ties go to the lowest index
        return jnp.argmax(jax.lax.stop_gradient(z), axis=-1)

    def log_prob(z, a, std):
        logp = jax.nn.log_softmax(z, axis=-1)
        return jnp.take_along_axis(logp, a[..., None], axis=-1)[..., 0]

    def entropy(z, std):
        logp = jax.nn.log_softmax(z, axis=-1)
        return -jnp.sum(jnp.exp(logp) * logp, axis=-1)

    return Units(kind, k, lambda units: units * k, head, sample, greedy, log_prob, entropy, value)


def _index(a: jax.Array) -> jax.Array:
    return a.astype(jnp.float32)


def bernoulli2(num_actions: int = 2, value_map: str = "", activation: str = "") -> Units:
    """Two logits and a softmax, the authors' over-parameterised form; values {0, 1}."""
    return _softmax_units("bernoulli2", 2, _index)


def categorical(num_actions: int = 2, value_map: str = "symmetric", activation: str = "") -> Units:
    """K logits; the index k passes on as k (``index``), k / (K-1) (``unit``) or
    2k / (K-1) - 1 (``symmetric``, in [-1, 1])."""
    top = num_actions - 1

    def value(a):
        k = a.astype(jnp.float32)
        if value_map == "index":
            return k
        if value_map == "unit":
            return k / top
        return 2.0 * k / top - 1.0

    return _softmax_units("categorical", num_actions, value)


def gaussian(num_actions: int = 0, value_map: str = "", activation: str = "identity") -> Units:
    """Mean z, fixed std; the action (a pre-activation) passes on through ``activation``
    (identity or relu)."""

    def sample(key, z, std):
        z = jax.lax.stop_gradient(z)
        return z + std * jax.random.normal(key, z.shape, z.dtype)

    def log_prob(z, a, std):
        return -0.5 * jnp.square((a - z) / std) - jnp.log(std) - 0.5 * LOG_2PI

    def entropy(z, std):
        return jnp.broadcast_to(0.5 * (LOG_2PI + 1.0) + jnp.log(std), z.shape)

    greedy = jax.lax.stop_gradient  # the mean
    value = jax.nn.relu if activation == "relu" else _identity
    return Units("gaussian", 0, _same, _identity, sample, greedy, log_prob, entropy, value)


#: Unit type name -> its constructor ``(num_actions, value_map, activation) -> Units``.
UNIT_TYPES: dict[str, Callable[..., Units]] = {
    "bernoulli": bernoulli,
    "bernoulli2": bernoulli2,
    "categorical": categorical,
    "gaussian": gaussian,
}


def unit_type(
    kind: str = "bernoulli",
    num_actions: int = 2,
    value_map: str = "symmetric",
    activation: str = "identity",
) -> Units:
    """The :class:`Units` of ``kind``; ``num_actions`` and ``value_map`` apply to categorical
    units, ``activation`` to Gaussian units."""
    return UNIT_TYPES[kind](num_actions=num_actions, value_map=value_map, activation=activation)


def units_from_config(cfg) -> Units:
    """The :class:`Units` of a :class:`~coagentnet.config.Config`."""
    activation = cfg.activation if cfg.unit_type == "gaussian" else "identity"
    return unit_type(cfg.unit_type, cfg.num_actions, cfg.value_map, activation)
