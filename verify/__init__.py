"""verify: check LMA and UT cards at Swedish healthcare reception desks.

    >>> import verify
    >>> status = verify.check("https://…")      # QR text, typed token, LMA number or MRZ
    >>> status.validity.state, status.exit_code
"""

from verify.check import check
from verify.errors import ConfigError, ParseError, VerifyError
from verify.model import Decision, Document, Status, Step, Validity
from verify.version import __version__

__all__ = [
    "ConfigError", "Decision", "Document", "ParseError", "Status", "Step", "Validity",
    "VerifyError", "check", "__version__",
]
