"""Where the on-disk caches go (compiled programs, data splits): one folder per cache under the
user cache directory (``$XDG_CACHE_HOME/coagentnet/<name>`` or ``~/.cache/coagentnet/<name>``),
unless an environment variable names another folder or turns the cache off."""

from __future__ import annotations

import os
from pathlib import Path

#: Values of a cache's environment variable that turn it off.
OFF = ("0", "off", "false", "no")


def cache_dir(env: str, name: str) -> Path | None:
    """The folder of cache ``name``: ``$env`` if it names one, None if ``$env`` is one of
    :data:`OFF`, else ``<user cache>/coagentnet/<name>``."""
    value = os.environ.get(env, "").strip()
    if value.lower() in OFF:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "coagentnet" / name
