"""The one place that says which numbers and addresses a user may give, shared by the CLI, the API and the
settings: a number must be finite and in its range, a URL must be a plain http(s) address.

Each check returns the value or raises :class:`BadValue` (a ``ValueError``) whose message is one line that
names what was given and what to write instead. Dates are checked where they are parsed
(:func:`octoscope.domain.uktime.parse_date`, within ``FIRST_DAY`` to ``LAST_DAY``).
"""

from __future__ import annotations

import ipaddress
import math
from urllib.parse import SplitResult, urlsplit

from octoscope.errors import InputError

LOOPBACK_NAMES = ("localhost",)
# The ranges a count of days may take, the same in the CLI's options and the API's queries.
MAX_DAYS = 7320  # twenty years, the longest range costed or listed
MAX_DISPATCH_DAYS = 3660


class BadValue(InputError):
    """A number or an address that cannot be used; the message names it and says what to give."""


def finite(name: str, value: float, low: float, high: float) -> float:
    """``value`` if it is a real number (not NaN, not infinite) from ``low`` to ``high``."""
    if not math.isfinite(value) or not low <= value <= high:
        raise BadValue(f"{name} {value!r} is out of range: give a number from {low:g} to {high:g}")
    return value


def is_loopback(host: str) -> bool:
    """``localhost`` or an address of this machine (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_url(name: str, text: str) -> SplitResult:
    """``text`` as an http(s) URL with a host and nothing that hides where it goes: no user name or password
    (``http://localhost:1@elsewhere/`` goes to ``elsewhere``), no spaces or control characters, a port that is
    a number. The parts come from the same parser the HTTP client uses, not from a pattern."""
    if not text or any(c.isspace() or ord(c) < 32 or c == "\\" for c in text):
        raise BadValue(f"{name} {text!r} is not an http(s) URL: it has spaces, control characters or backslashes")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadValue(f"{name} {text!r} is not an http(s) URL, like https://api.octopus.energy/v1")
    if "@" in parts.netloc:
        raise BadValue(f"{name} {text!r} holds a user name or password before '@': give the address alone")
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise BadValue(f"{name} {text!r} has a port that is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise BadValue(f"{name} {text!r} has no host name")
    if parts.fragment:
        raise BadValue(f"{name} {text!r} has a '#' part; give the address without it")
    return parts


def api_url(name: str, text: str) -> str:
    """An address the API key is sent to: https, or plain http to this machine only."""
    parts = parse_url(name, text)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise BadValue(f"{name} {text!r} would send the API key unencrypted: use https (http is for 127.0.0.1)")
    return text
