"""The project's own exceptions: anything a user can cause ends as one of these (exit 2)."""

from __future__ import annotations


class VerifyError(Exception):
    """Base for errors a user can cause and fix; the CLI prints the message and exits 2."""


class ParseError(VerifyError, ValueError):
    """A text is not what it was taken for. `reason` is a stable code, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ConfigError(VerifyError):
    """Settings, profile or rule data that cannot be used."""
