"""The one exception type of the data layer, :class:`~coagentnet.errors.DataError` (defined with
the other user errors in :mod:`coagentnet.errors`)."""

from coagentnet.errors import DataError

__all__ = ["DataError"]
