"""Which XLA CPU operations give different bits under different settings (issue 23's
cross-CPU spread): prints a SHA-256 prefix of the bytes of each op's result on fixed inputs,
and of a few short real trainings, as JSON.

Run it twice, under the settings (or on the machines) to compare, and diff the outputs::

    python scripts/cpu_bits.py > a.json
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 python scripts/cpu_bits.py > b.json
    python scripts/cpu_bits.py --compare a.json b.json

See docs/REPRODUCIBILITY.md for what was found.
"""

from __future__ import annotations

import hashlib
import json
import sys


def _h(x) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(np.asarray(x)).tobytes()).hexdigest()[:16]


def ops() -> dict[str, str]:
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    rng = np.random.default_rng(0)
    f = lambda *s: jnp.asarray(rng.normal(size=s).astype(np.float32))  # noqa: E731
    out = {}
    for m, k, n in [(32, 64, 64), (32, 784, 64), (1000, 784, 64), (32, 64, 10), (8, 4096, 4096)]:
        a, b = f(m, k), f(k, n)
        out[f"dot {m}x{k}x{n}"] = _h(jax.jit(jnp.dot)(a, b))
    x = f(32, 64)
    for name, fn in {
        "exp": jnp.exp, "log": lambda v: jnp.log(jnp.abs(v) + 1e-3), "tanh": jnp.tanh,
        "sigmoid": jax.nn.sigmoid, "log_softmax": jax.nn.log_softmax,
        "softplus": jax.nn.softplus, "logsumexp": lambda v: jax.nn.logsumexp(v, axis=-1),
    }.items():  # fmt: skip
        out[name] = _h(jax.jit(fn)(x))
    out["sum 32x784 axis1"] = _h(jax.jit(lambda v: v.sum(1))(f(32, 784)))
    out["sum 100000"] = _h(jax.jit(jnp.sum)(f(100000)))
    out["mean 1000x64 axis0"] = _h(jax.jit(lambda v: v.mean(0))(f(1000, 64)))
    key = jax.random.PRNGKey(0)
    out["bernoulli"] = _h(jax.random.bernoulli(key, jax.nn.sigmoid(x)))
    out["normal"] = _h(jax.random.normal(key, (32, 64)))
    tx = optax.rmsprop(2.0**-6)
    p, g = f(64, 64), f(64, 64)
    upd, _ = jax.jit(tx.update)(g, tx.init(p), p)
    out["rmsprop update"] = _h(upd)
    return out


def trainings() -> dict[str, str]:
    from coagentnet.config import Config
    from coagentnet.training.run import run_population

    out = {}
    for name, cfg in {
        "reinforce 1x64 digits, 1 epoch": Config(units=64, epochs=1, lr=2.0**-6),
        "reinforce 3x64 digits, 1 epoch": Config(layers=3, units=64, epochs=1, lr=2.0**-6),
        "backprop 3x64 digits, 1 epoch": Config(rule="backprop", layers=3, units=64, epochs=1),
    }.items():
        (r,) = run_population([cfg], [0], keep_params=True)
        import jax

        leaves = jax.tree.leaves(r.params)
        out[name] = hashlib.sha256(
            b"".join(_h(x).encode() for x in leaves) + json.dumps(r.final, sort_keys=True).encode()
        ).hexdigest()[:16]
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compare"]:
        a, b = (json.load(open(p)) for p in argv[1:3])
        differ = sorted(k for k in a if a.get(k) != b.get(k))
        print("differ:", ", ".join(differ) if differ else "nothing (bitwise equal)")
        return 0
    result = ops()
    if "--ops-only" not in argv:
        result |= trainings()
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
