"""The ``[mqtt]`` and ``[notify]`` settings (Home Assistant through MQTT, notifications through Apprise),
parsed in the style of ``config``: every mistake is one line naming the setting; the MQTT password is a
:class:`Secret` and no message shows it, nor a notification URL (they hold tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from octoscope.domain.secret import Secret

TOPIC_PART = re.compile(r"^[A-Za-z0-9_-]+$")
NOTIFY_RULES = ("tomorrow_prices", "price_below", "dispatch_planned", "stale", "sync_failed")


@dataclass(frozen=True)
class MqttSettings:
    """Where ``serve`` (and ``octoscope mqtt publish --once``) publishes Home Assistant entities."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: Secret | None = None
    discovery_prefix: str = "homeassistant"  # Home Assistant's own default
    base_topic: str = "octoscope"  # states, availability and commands live under it
    client_id: str = "octoscope"
    interval_seconds: float = 60.0  # states are published this often (and after each scheduler run)
    cheapest_hours: float = 3.0  # the length of the "next cheapest window" entity
    live: bool = False  # Home Mini demand through MQTT: keeps the shared poller running, within its budget
    tls: bool = False


@dataclass(frozen=True)
class NotifySettings:
    """Apprise URLs and the rules turned on. Rules: ``tomorrow_prices``, ``price_below`` (with
    ``price_below_pence``; 0 for negative prices only), ``dispatch_planned``, ``stale`` (after
    ``stale_hours`` without new data), ``sync_failed``. ``bill_difference_pence``: when set, a closed statement's
    fuel that differs from octoscope's costs by more than that many pence (for a reason other than rounding)."""

    urls: tuple[Secret, ...]
    rules: tuple[str, ...] = ("tomorrow_prices", "dispatch_planned", "stale", "sync_failed")
    price_below_pence: float = 0.0
    stale_hours: float = 36.0
    max_per_hour: int = 10
    cheapest_hours: float = 3.0
    bill_difference_pence: int | None = None  # None: off


def _error(message: str) -> Exception:
    from octoscope.config import ConfigError  # noqa: PLC0415 (config imports this module)

    return ConfigError(message)


def _number(section: str, raw: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise _error(f"[{section}] {key} must be a number from {lo:g} to {hi:g}, not {value!r}")
    return float(value)


def _string(section: str, raw: dict[str, Any], key: str, default: str | None, secret: bool = False) -> str | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        shown = "" if secret else f", not {value!r}"
        raise _error(f"[{section}] {key} must be a non-empty string{shown}")
    return value.strip()


def _bool(section: str, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _error(f"[{section}] {key} must be true or false, not {value!r}")
    return value


def _known(section: str, raw: object, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _error(f"[{section}] must be a table")
    for key in raw:
        if key not in known:
            raise _error(f"[{section}] has an unknown setting {key!r}; known: {', '.join(known)}")
    return dict(raw)


MQTT_KEYS = (
    "host",
    "port",
    "username",
    "password",
    "discovery_prefix",
    "base_topic",
    "client_id",
    "interval_seconds",
    "cheapest_hours",
    "live",
    "tls",
)


def mqtt_section(raw: object, env: dict[str, str]) -> MqttSettings | None:
    """``[mqtt]`` with ``OCTOSCOPE_MQTT_<KEY>`` over it (the password is best given that way). No section and
    no ``OCTOSCOPE_MQTT_HOST``: MQTT is off."""
    values = _known("mqtt", {} if raw is None else raw, MQTT_KEYS)
    for key in ("host", "port", "username", "password"):
        from_env = env.get(f"OCTOSCOPE_MQTT_{key.upper()}")
        if from_env:
            values[key] = int(from_env) if key == "port" and from_env.isdigit() else from_env
    if not values:
        return None
    host = _string("mqtt", values, "host", "127.0.0.1")
    assert host is not None
    if any(c in host for c in "/@: ") and not host.startswith("["):
        raise _error(f"[mqtt] host {host!r} must be a name or an address, like 127.0.0.1 (the port is `port`)")
    port = _number("mqtt", values, "port", 1883, 1, 65535)
    if port != int(port):
        raise _error(f"[mqtt] port must be a whole number, not {values['port']!r}")
    username = _string("mqtt", values, "username", None)
    password = _string("mqtt", values, "password", None, secret=True)
    if password is not None and username is None:
        raise _error("[mqtt] password is set without username: set both (the password in OCTOSCOPE_MQTT_PASSWORD)")
    parts = {}
    for key, default in (
        ("discovery_prefix", "homeassistant"),
        ("base_topic", "octoscope"),
        ("client_id", "octoscope"),
    ):
        text = _string("mqtt", values, key, default)
        assert text is not None
        if not TOPIC_PART.match(text):
            raise _error(f"[mqtt] {key} {text!r}: letters, digits, _ and - only")
        parts[key] = text
    return MqttSettings(
        host=host,
        port=int(port),
        username=username,
        password=None if password is None else Secret(password),
        interval_seconds=_number("mqtt", values, "interval_seconds", 60.0, 1, 3600),
        cheapest_hours=_number("mqtt", values, "cheapest_hours", 3.0, 0.5, 24),
        live=_bool("mqtt", values, "live", False),
        tls=_bool("mqtt", values, "tls", False),
        **parts,
    )


NOTIFY_KEYS = (
    "urls",
    "rules",
    "price_below_pence",
    "stale_hours",
    "max_per_hour",
    "cheapest_hours",
    "bill_difference_pence",
)
MAX_BILL_DIFFERENCE = 100_000  # pence: £1,000


def notify_section(raw: object, env: dict[str, str]) -> NotifySettings | None:
    """``[notify]``; ``OCTOSCOPE_NOTIFY_URLS`` (space-separated) replaces its ``urls``."""
    values = _known("notify", {} if raw is None else raw, NOTIFY_KEYS)
    if env.get("OCTOSCOPE_NOTIFY_URLS"):
        values["urls"] = env["OCTOSCOPE_NOTIFY_URLS"].split()
    if not values:
        return None
    urls = values.get("urls")
    if not isinstance(urls, list) or not urls:
        raise _error('[notify] urls must be a list of Apprise URLs, like urls = ["ntfy://my-topic"]')
    for i, url in enumerate(urls):
        if not isinstance(url, str) or "://" not in url:
            raise _error(f"[notify] urls[{i}] is not an Apprise URL (scheme://...); see the Apprise wiki")
    rules = values.get("rules", list(NotifySettings.rules))
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise _error(f"[notify] rules must be a list of names from: {', '.join(NOTIFY_RULES)}")
    for rule in rules:
        if rule not in NOTIFY_RULES:
            raise _error(f"[notify] rules: {rule!r} is not a rule; known: {', '.join(NOTIFY_RULES)}")
    per_hour = _number("notify", values, "max_per_hour", 10, 1, 1000)
    if per_hour != int(per_hour):
        raise _error(f"[notify] max_per_hour must be a whole number, not {values['max_per_hour']!r}")
    bill = values.get("bill_difference_pence")
    if bill is not None and (
        isinstance(bill, bool) or not isinstance(bill, int) or not 0 <= bill <= MAX_BILL_DIFFERENCE
    ):
        raise _error(
            f"[notify] bill_difference_pence must be a whole number of pence from 0 to {MAX_BILL_DIFFERENCE},"
            f" not {bill!r}"
        )
    return NotifySettings(
        urls=tuple(Secret(u.strip()) for u in urls),
        rules=tuple(dict.fromkeys(rules)),
        price_below_pence=_number("notify", values, "price_below_pence", 0.0, -100, 100),
        stale_hours=_number("notify", values, "stale_hours", 36.0, 1, 24 * 14),
        max_per_hour=int(per_hour),
        cheapest_hours=_number("notify", values, "cheapest_hours", 3.0, 0.5, 24),
        bill_difference_pence=bill,
    )
