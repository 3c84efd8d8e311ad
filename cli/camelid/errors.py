"""Errors that reach the user, each with its documented exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATAERR = 65  # sysexits EX_DATAERR: the input data was bad
EXIT_TEMPFAIL = 75  # sysexits EX_TEMPFAIL: try again later (server down, out of memory)

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 error, 2 usage (bad flags), 65 bad input data, "
    "75 temporary failure (retry later), 130 interrupted, 143 terminated."
)


class CamelidError(Exception):
    """An error the user can act on; the message is printed as is, without a traceback."""

    exit_code = EXIT_ERROR


class UsageError(CamelidError):
    exit_code = EXIT_USAGE


class BadInputError(CamelidError):
    """Malformed input data: names the file and line."""

    exit_code = EXIT_DATAERR

    def __init__(self, source: str, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


class TemporaryFailure(CamelidError):
    exit_code = EXIT_TEMPFAIL


class Interrupted(CamelidError):
    """Ctrl-C: what was finished is kept, the run ends with the conventional 130."""

    exit_code = 130


class Terminated(Interrupted):
    """SIGTERM (a scheduler or `kill`): like Ctrl-C, with the conventional 143."""

    exit_code = 143


class OutputClosed(Exception):
    """stdout's reader went away (`camelid ... | head`): not an error, the run just ends."""
