"""The project's own exceptions: anything a user can cause ends as one of these (exit 2).

A message is an English template with named placeholders (`"unknown region {region}"`,
`region="x"`): `str(exc)` is the English text (logs, JSON), and `verify.locale.localise(exc)`
looks the template up in the catalogue, so the words a person reads follow `--lang`.
"""

from __future__ import annotations

from typing import Any


class VerifyError(Exception):
    """Base for errors a user can cause and fix; the CLI prints the message and exits 2."""

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.template = message
        self.params = params
        super().__init__(message.format(**params) if params else message)


class ParseError(VerifyError, ValueError):
    """A text is not what it was taken for. `reason` is a stable code, the message is for people."""

    def __init__(self, reason: str, message: str, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.reason = reason
        self.message = str(self)


class ConfigError(VerifyError):
    """Settings, profile or rule data that cannot be used."""
