"""The agency's lookup: the client, its profile (data), its settings, and a local stand-in.

    with LookupClient(Settings.from_env()) as client:
        validity = client.lookup(reference)

Fails closed: only a page the profile recognises gives `valid` or `not_valid`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.lookup.profile import LookupProfile, load_profile
from verify.lookup.settings import Settings

if TYPE_CHECKING:
    from verify.lookup.client import LookupClient


def __getattr__(name: str) -> Any:
    """`verify.lookup.LookupClient` on first use: the client brings requests, which a card
    read without a lookup (an MRZ, a photo of a UT card) never needs."""
    if name == "LookupClient":
        from verify.lookup.client import LookupClient

        return LookupClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["LookupClient", "LookupProfile", "Settings", "load_profile"]
