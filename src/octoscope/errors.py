"""The one root of every error octoscope means a user to read, and the kinds the web app answers by.

    OctoscopeError                      one line, safe to show; ``hint`` says what to fix; ``exit_code`` for the CLI
    ├── InputError (ValueError)         the question is wrong as asked: a date, a number, an option
    │   ├── ClockError                  (clock.py) --now / OCTOSCOPE_NOW / OCTOSCOPE_SPEED cannot be read
    │   ├── BadDate, BadValue, NoWindow (domain/) a date, a value or a window that cannot be
    │   └── PriceError                  (services/pricing.py) prices or windows cannot be given as asked
    ├── NotFoundError                   what the question is about is not there (yet)
    │   ├── NothingToCost               (services/costing.py) nothing stored to cost, or a unit not known
    │   ├── NothingToPrice              (services/pricing.py) no property, meter, tariff, readings or prices
    │   ├── NoIntelligentDevice         (sync/dispatches.py) no Intelligent Octopus device to ask about
    │   └── UnknownDevice (LookupError) (live/service.py) a device id that is not a smart meter on the account
    ├── ConflictError                   it cannot be answered as things stand: set something up first
    │   ├── ConfigError (ValueError)    (config.py) a setting is missing or wrong: which one, what to write
    │   └── CannotPrice                 (services/pricing.py) stored readings whose unit is not known
    ├── TooSoonError                    (sync/dispatches.py: RefreshTooSoon) over a limit: ask again later
    ├── UpstreamError                   a service octoscope talks to refused, failed or answered nonsense
    │   └── OctopusError                (octopus/errors.py) CredentialsRejected, GaveUp, BudgetExhausted...
    ├── StoreError                      (store/) the database cannot be opened, is damaged or is not ours
    ├── CostError (ValueError)          (services/costing.py) the base of the costing and pricing errors above
    │                                   (PriceError, NothingToPrice, CannotPrice are CostErrors too)
    ├── BackupError                     (store/backup.py) a backup or restore that cannot be done
    ├── ExportError, FileExportError,   (outputs/) an export is misconfigured or its destination refused
    │   BillsExportError, InfluxError
    └── UnitError, _LiveError           (cli/) a service unit that cannot be written; a live view that cannot go on

A class names its kind by subclassing it, and keeps ``ValueError`` or ``LookupError`` where callers catch
those. The web app maps kinds to HTTP statuses in one table (``web/errors.py``); the CLI prints
``Error: message (hint)`` and exits with ``exit_code`` (``cli/shell.py``). Anything else that escapes is a bug
and shows as one, with a traceback in the log. This module imports nothing of ours, so every layer may raise
from it.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "InputError",
    "NotFoundError",
    "OctoscopeError",
    "TooSoonError",
    "UpstreamError",
]


class OctoscopeError(Exception):
    """An error with a message a user can act on.

    ``hint`` is the fix, when the message alone does not say it; ``exit_code`` is what the CLI exits with
    (1 unless a subclass says otherwise).
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class InputError(OctoscopeError, ValueError):
    """The question is wrong as asked (a date, a number, an option); the message says what to write."""


class NotFoundError(OctoscopeError):
    """What the question is about is not there, or not yet (nothing synced, no such device)."""


class ConflictError(OctoscopeError):
    """The question cannot be answered as things stand (not configured, data a sync must put right)."""


class TooSoonError(OctoscopeError):
    """Over a limit octoscope keeps to; asking again later will do."""


class UpstreamError(OctoscopeError):
    """A service octoscope talks to (Octopus) refused, failed or answered nonsense."""
