"""What every source is: an iterable of `Scan` that can be closed, used as a context manager."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qsl

from drivers.scan import Scan, SourceError


@dataclass(frozen=True)
class SourceURL:
    """`scheme:target?key=value&…`, split once so every handler reads it the same way."""

    url: str
    scheme: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> SourceURL:
        if not isinstance(url, str) or ":" not in url:
            raise SourceError(
                f"not a source URL (want SCHEME:TARGET, e.g. image:card.png): {url!r}"
            )
        scheme, _, rest = url.partition(":")
        scheme = scheme.strip().lower()
        if not scheme.isidentifier() and not scheme.replace("-", "").isalnum():
            raise SourceError(f"not a source scheme: {scheme!r}")
        target, _, query = rest.partition("?")
        try:
            params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
        except ValueError as exc:
            raise SourceError(f"bad options in source URL {url!r}: {exc}") from None
        return cls(url=url, scheme=scheme, target=target, params=params)

    def param(self, key: str, default: str | None = None) -> str | None:
        return self.params.get(key, default)


class Source:
    """Base for drivers. Subclasses implement `scans()`; closing makes iteration end."""

    def __init__(self, url: SourceURL) -> None:
        self.url = url
        self.closed = False

    def scans(self) -> Iterator[Scan]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[Scan]:
        return self.scans()

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
