"""The user errors: the exceptions the ``coagentnet`` command prints as one line on stderr with
exit code 2 (:data:`USER_ERRORS`), never as a traceback. They live here, at the bottom of the
package, so that every layer (config, data, rules, training, stores, commands) can raise them
without importing the others; the modules that first defined them re-export them."""


class ConfigError(ValueError):
    """A user-facing configuration error; the message is one line naming the field."""


class OutputError(OSError):
    """An output file that cannot or must not be written (a link, a store, a full disk); the
    message is one line naming the option and the file. Nothing was changed on disk."""


class DataError(ValueError):
    """Bad or missing data, or a bad data setting.

    The message is one line meant for a user: it names the file or field and says what was
    expected (and, for missing data, where we looked and how to get it). The CLI prints it
    without a traceback.
    """


class StoreError(RuntimeError):
    """The file is not a coagentnet store, is from a newer schema, is damaged, or cannot be
    written (a full disk); the message is one line naming the store."""


class UsageError(ValueError):
    """A user error detected by a command (exit code 2, one line)."""


#: What the command line reports as one line with exit code 2 (subclasses included, such as
#: :class:`coagentnet.sweeps.sweepfile.SweepError`).
USER_ERRORS = (ConfigError, DataError, OutputError, StoreError, UsageError)

__all__ = ["USER_ERRORS", "ConfigError", "DataError", "OutputError", "StoreError", "UsageError"]
