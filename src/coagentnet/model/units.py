"""Coagent unit types: the policies of the hidden units (SPEC.md section 2).

A layer of U units receives a pre-activation ``h = s_t @ w + b`` of shape ``[B, U * width]``
and turns it into a policy. Every unit type offers the same pure functions:

- ``head(h)``: reshape to the type's parameters (``[B, U]`` or ``[B, U, K]``);
- ``sample(key, z, std)``, ``greedy(z)``: a raw action (bit, index or pre-activation);
- ``log_prob(z, a, std)``, ``entropy(z, std)``: per unit, ``[B, U]``, in nats, computed from
  logits with stable formulas (never ``log(p + eps)``);
- ``value(a)``: what the unit passes on to the next layer, ``[B, U]`` float.

Raw actions are what log-probabilities are taken of: the bit for Bernoulli units, the index for
categorical units, the pre-activation for Gaussian units (whose activation is applied after
sampling, as in the authors' regression networks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

# log(2 pi) rounded to float32, as jnp.log would give it; computed without JAX so that importing
# this module initialises no JAX backend (the CLI must set the CPU device count first).
LOG_2PI = float(np.float32(math.log(2.0 * math.pi)))


@dataclass(frozen=True)
class Units:
    """Static description of one hidden layer's unit type.

    kind: "bernoulli" (one logit, p(1) = sigmoid(z)), "bernoulli2" (two logits and a softmax,
    the authors' over-parameterised form; values {0, 1}), "categorical" (K logits) or
    "gaussian" (mean z, fixed std). ``value_map`` applies to categorical units and
    ``activation`` (identity or relu) to Gaussian units.
    """

    kind: str = "bernoulli"
    num_actions: int = 2
    value_map: str = "symmetric"
    activation: str = "identity"

    @property
    def is_discrete(self) -> bool:
        return self.kind != "gaussian"

    @property
    def _categorical(self) -> bool:
        return self.kind in ("categorical", "bernoulli2")

    @property
    def _k(self) -> int:
        return 2 if self.kind == "bernoulli2" else self.num_actions

    def width(self, units: int) -> int:
        """Number of pre-activations a layer of ``units`` units needs."""
        return units * self._k if self._categorical else units

    def head(self, h: jax.Array) -> jax.Array:
        """``[B, U * width]`` -> ``[B, U, K]`` (categorical) or ``[B, U]``."""
        if self._categorical:
            return h.reshape(h.shape[:-1] + (-1, self._k))
        return h

    def sample(self, key: jax.Array, z: jax.Array, std) -> jax.Array:
        """Raw sampled action, no gradient: ``[B, U]``."""
        z = jax.lax.stop_gradient(z)
        if self.kind == "bernoulli":
            return jax.random.bernoulli(key, jax.nn.sigmoid(z)).astype(z.dtype)
        if self._categorical:
            return jax.random.categorical(key, z, axis=-1)
        return z + std * jax.random.normal(key, z.shape, z.dtype)

    def greedy(self, z: jax.Array) -> jax.Array:
        """Most likely raw action (Bernoulli ties go to 0; argmax ties to the lowest index)."""
        z = jax.lax.stop_gradient(z)
        if self.kind == "bernoulli":
            return (z > 0).astype(z.dtype)
        if self._categorical:
            return jnp.argmax(z, axis=-1)
        return z

    def log_prob(self, z: jax.Array, a: jax.Array, std) -> jax.Array:
        """log pi(a | s) per unit, ``[B, U]``; differentiable in ``z``."""
        if self.kind == "bernoulli":
            # log sigmoid(z) for a = 1 and log sigmoid(-z) for a = 0.
            return -jax.nn.softplus(jnp.where(a > 0.5, -z, z))
        if self._categorical:
            logp = jax.nn.log_softmax(z, axis=-1)
            return jnp.take_along_axis(logp, a[..., None], axis=-1)[..., 0]
        return -0.5 * jnp.square((a - z) / std) - jnp.log(std) - 0.5 * LOG_2PI

    def entropy(self, z: jax.Array, std) -> jax.Array:
        """Policy entropy per unit in nats, ``[B, U]`` (binary maximum ln 2)."""
        if self.kind == "bernoulli":
            # H is even in z; with e = exp(-|z|), p(less likely) = e / (1 + e) and
            # H = log(1 + e) + |z| e / (1 + e): one exp and one log1p, every term >= 0 (no
            # cancellation). Evaluation computes it for every unit and example, so it counts.
            e = jnp.exp(-jnp.abs(z))
            return jnp.log1p(e) + jnp.abs(z) * e / (1.0 + e)
        if self._categorical:
            logp = jax.nn.log_softmax(z, axis=-1)
            return -jnp.sum(jnp.exp(logp) * logp, axis=-1)
        return jnp.broadcast_to(0.5 * (LOG_2PI + 1.0) + jnp.log(std), z.shape)

    def value(self, a: jax.Array) -> jax.Array:
        """The value a raw action passes to the next layer, ``[B, U]`` float32."""
        if self._categorical:
            k = a.astype(jnp.float32)
            top = self._k - 1
            if self.kind == "bernoulli2" or self.value_map == "index":
                return k
            if self.value_map == "unit":
                return k / top
            return 2.0 * k / top - 1.0
        if self.kind == "gaussian" and self.activation == "relu":
            return jax.nn.relu(a)
        return a


def units_from_config(cfg) -> Units:
    """The :class:`Units` of a :class:`~coagentnet.config.Config`."""
    activation = cfg.activation if cfg.unit_type == "gaussian" else "identity"
    return Units(cfg.unit_type, cfg.num_actions, cfg.value_map, activation)
