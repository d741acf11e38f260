"""The one exception type of the data layer."""


class DataError(ValueError):
    """Bad or missing data, or a bad data setting.

    The message is one line meant for a user: it names the file or field and says what was
    expected (and, for missing data, where we looked and how to get it). The CLI prints it
    without a traceback.
    """
