"""The user-facing error of configuration checks, at the bottom of the package so that every
layer (config, rules, training) can raise it without importing the others."""


class ConfigError(ValueError):
    """A user-facing configuration error; the message is one line naming the field."""
