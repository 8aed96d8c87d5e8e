"""Where a store lives, said without loading a backend: a SQLite file's path or a PostgreSQL URL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["SERVER_SCHEMES", "is_server_url", "redacted"]

SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database (``postgresql://`` or ``postgres://``) rather than a file."""
    return isinstance(location, str) and location.startswith(SERVER_SCHEMES)


def redacted(dsn: str) -> str:
    """The DSN as it may be shown: no password (in the URL or as a ``password=`` parameter)."""
    if "://" not in dsn:
        return " ".join(p for p in dsn.split() if not p.lower().startswith("password="))
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
