"""Exceptions shared by every layer; the CLI maps them to exit codes."""

from __future__ import annotations


class LisflowError(Exception):
    """Base class of all lisflow errors."""


class InputError(LisflowError):
    """Bad user input (spec, table, option). The CLI prints one line and exits with code 2.

    ``field`` names the offending field (dotted path), ``allowed`` says what would be valid.
    """

    def __init__(self, field: str, message: str, allowed: str | None = None) -> None:
        self.field = field
        self.allowed = allowed
        text = f"{field}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class ParseError(LisflowError):
    """An engine output file is missing, truncated or corrupt; the message names the file."""

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class EngineError(LisflowError):
    """An engine run failed beyond what its error handlers could correct."""
