"""A systemd unit that keeps ``octoscope serve`` running across reboots: pure text, written by the CLI.

The unit names the config file and the database; it never holds the API key (unit files are readable by
every user: the key stays in the config file, mode 0600). A system unit runs as the user who installs it,
with the file system read-only but for the database's directory; a user unit gets the hardening a user's
service manager can apply without privileges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octoscope.errors import OctoscopeError

UNIT_NAME = "octoscope.service"


class UnitError(OctoscopeError):
    """A value that cannot go into a unit file; the message says which."""


@dataclass(frozen=True)
class ServiceSpec:
    command: tuple[str, ...]  # the octoscope executable (or python -m octoscope), absolute
    config: Path
    db: Path
    host: str
    port: int
    user: str | None  # for a system unit: who runs it; None in a user unit
    env_file: Path | None = None  # more environment, e.g. OCTOSCOPE_WEB_TOKEN, kept out of the unit


def quote(value: str) -> str:
    """One word for a unit file: double-quoted, with systemd's specifiers (%) and variables ($) escaped."""
    if any(ch in value for ch in "\n\r\0"):
        raise UnitError(f"{value!r} holds a line break: a unit file cannot carry it")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _setting(value: str) -> str:
    """A path in a setting that takes no quotes (ReadWritePaths=, EnvironmentFile=)."""
    if any(ch.isspace() for ch in value) or any(ch in value for ch in "\"'\\"):
        raise UnitError(f"{value!r}: systemd cannot take this path here; use one without spaces or quotes")
    return value.replace("%", "%%")


SYSTEM_HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
    "UMask=0077",
)
# A user manager has no privileges to set up namespaces with (ProtectSystem= and friends would need
# unprivileged user namespaces, off on some kernels): only what any process may ask of its children.
USER_HARDENING = (
    "NoNewPrivileges=yes",
    "RestrictRealtime=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "UMask=0077",
)


def render(spec: ServiceSpec) -> str:
    system = spec.user is not None
    exec_start = " ".join(
        quote(word) for word in (*spec.command, "serve", "--host", spec.host, "--port", str(spec.port))
    )
    lines = [
        "# Written by `octoscope service install`; `octoscope service uninstall` removes it.",
        "[Unit]",
        "Description=octoscope: Octopus Energy dashboard, API and scheduled sync",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=exec",
        f"ExecStart={exec_start}",
        f"Environment={quote(f'OCTOSCOPE_CONFIG={spec.config}')}",
        f"Environment={quote(f'OCTOSCOPE_DB={spec.db}')}",
    ]
    if spec.env_file is not None:
        lines.append(f"EnvironmentFile={_setting(str(spec.env_file))}")
    if system:
        lines.append(f"User={spec.user}")
    lines += [
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStopSec=15",
        *(SYSTEM_HARDENING if system else USER_HARDENING),
    ]
    if system:
        lines.append(f"ReadWritePaths={_setting(str(spec.db.parent))}")
    lines += ["", "[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}", ""]
    return "\n".join(lines)
