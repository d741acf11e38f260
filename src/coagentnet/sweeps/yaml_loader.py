"""The YAML loader of sweep files: PyYAML's safe loader, with YAML 1.2 floats, no duplicate
keys, merge keys (``<<: *common``), and bounds: a file of at most ``MAX_BYTES`` read from a
regular file only, and aliases that expand to at most ``MAX_NODES`` nodes (an alias bomb is
refused after parsing, before anything walks it)."""

from __future__ import annotations

import os
import re
import reprlib
import stat
from pathlib import Path

import yaml

#: Sweep files are a few KB; anything past this is not one (``/dev/zero``, a data file).
MAX_BYTES = 2**20
#: The most nodes a sweep file may expand to once aliases are followed.
MAX_NODES = 1_000_000
MERGE = "tag:yaml.org,2002:merge"


def read_text(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ValueError (a short reason)
    for anything else: a FIFO, device or folder is never read (nor blocked on)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("not a regular file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 2**20} MiB: not a sweep file")
    return data


class SweepLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.2); PyYAML's 1.1 rules need
    ``1.0e-3`` and would hand us the string ``'1e-3'`` for a learning rate."""


SweepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _unique_keys(loader: SweepLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping whose keys are unique: YAML would silently keep the last of two ``lr``s."""
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE:  # '<<': merged keys may be overridden, by design
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:  # an unhashable key: the generic constructor reports it
            break
        if first is not key_node:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _single_node(loader: SweepLoader):
    """The document's node, refused if its aliases expand past ``MAX_NODES`` nodes."""
    node = yaml.SafeLoader.get_single_node(loader)
    if node is not None and _expanded(node, {}) > MAX_NODES:
        raise yaml.composer.ComposerError(
            None, None, f"aliases expand to more than {MAX_NODES} values", node.start_mark
        )
    return node


def _expanded(node, sizes: dict) -> int:
    """Nodes under ``node`` with every alias followed (memoised: linear in the file)."""
    if id(node) in sizes:
        return sizes[id(node)]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded(k, sizes) + _expanded(v, sizes) for k, v in node.value)
    sizes[id(node)] = total = min(total, MAX_NODES + 1)
    return total


SweepLoader.construct_mapping = _unique_keys
SweepLoader.get_single_node = _single_node


def show(value: object) -> str:
    """A value for an error message: its type and a short repr."""
    # reprlib: bounded work and size whatever the value (aliases can make it huge).
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict, short.maxstring = 3, 4, 4, 40
    text = short.repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
