"""Errors a user can fix. The CLI maps them to exit code 2 and prints their one-line message."""


class TfbenchError(Exception):
    """A user error: bad suite, bad Setup value, bad command-line input, bad data file.

    The message is one line that names the bad value and says what would be accepted.
    """


class SuiteError(TfbenchError):
    """A suite file or a Suite definition is invalid."""


class DataError(TfbenchError):
    """A dataset name or a user's data file is invalid."""
