"""JAX's persistent compilation cache, on by default, so a repeated command or notebook call
loads its compiled programs from disk instead of compiling them again.

The cache lives under the user cache directory (``$XDG_CACHE_HOME/coagentnet/jax`` or
``~/.cache/coagentnet/jax``); ``COAGENTNET_COMPILE_CACHE`` names another folder, or ``0`` /
``off`` turns it off. Programs that compile in under
:data:`MIN_COMPILE_SECONDS` are not written (they cost more to read back than to compile).
A cache folder that cannot be created is skipped silently: caching is an optimisation only.
"""

from __future__ import annotations

from pathlib import Path

from coagentnet import cache_dirs

ENV = "COAGENTNET_COMPILE_CACHE"
MIN_COMPILE_SECONDS = 0.5
_enabled: Path | None = None


def cache_dir() -> Path | None:
    """Where the cache goes, or None when it is turned off."""
    return cache_dirs.cache_dir(ENV, "jax")


def enable_compile_cache() -> Path | None:
    """Point JAX's persistent cache at :func:`cache_dir` (once per process); return it.

    Leaves a cache directory the user already configured for JAX alone."""
    global _enabled
    if _enabled is not None:
        return _enabled
    import jax

    if jax.config.jax_compilation_cache_dir:  # set by the user (JAX_COMPILATION_CACHE_DIR)
        _enabled = Path(jax.config.jax_compilation_cache_dir)
        return _enabled
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _enabled = path
    return path
