"""The agency's lookup: the client, its profile (data), its settings, and a local stand-in.

    with LookupClient(Settings.from_env()) as client:
        validity = client.lookup(reference)

Fails closed: only a page the profile recognises gives `valid` or `not_valid`.
"""

from __future__ import annotations

from verify.lookup.client import LookupClient
from verify.lookup.profile import LookupProfile, load_profile
from verify.lookup.settings import Settings

__all__ = ["LookupClient", "LookupProfile", "Settings", "load_profile"]
