"""The user-facing error of configuration checks, at the bottom of the package so that every
layer (config, rules, training) can raise it without importing the others."""


class ConfigError(ValueError):
    """A user-facing configuration error; the message is one line naming the field."""


class OutputError(OSError):
    """An output file that cannot or must not be written (a link, a store, a full disk); the
    message is one line naming the option and the file. Nothing was changed on disk."""
