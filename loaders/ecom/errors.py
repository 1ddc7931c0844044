"""The project's exceptions. Library code raises these; only the command line turns them into
a message and an exit code (:class:`ecom.cli.EcomGroup`), so the same code serves the CLI,
the Lambda handlers, the orchestration and the tests.
"""

from __future__ import annotations


class EcomError(RuntimeError):
    """Something the user can act on: the message says what went wrong and what to do."""

    #: The exit code of ``ecom`` when this error ends a command.
    exit_code = 1


class ConfigurationError(EcomError):
    """A setting is missing or unusable (an environment variable, an option)."""


class AwsError(EcomError):
    """The AWS side (real or emulated) cannot be used as asked."""
