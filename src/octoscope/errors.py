"""The one root of every error octoscope means a user to read.

    OctoscopeError              one line, safe to show; ``hint`` says what to fix; ``exit_code`` for the CLI
    ├── ConfigError             (config.py) a setting is wrong: which one, and what it should be
    ├── ClockError              (clock.py) --now / OCTOSCOPE_NOW cannot be read
    ├── OctopusError            (octopus/) the API refused, failed or answered nonsense
    ├── StoreError              (store/) the database cannot be opened, is damaged or is not ours
    ├── CostError / PriceError  (services/) the question cannot be answered as asked
    └── ExportError ...         (outputs/) a destination refused or is misconfigured

Anything else that escapes is a bug and shows as one, with a traceback in the log. This module imports nothing
of ours, so every layer may raise from it.
"""

from __future__ import annotations

__all__ = ["OctoscopeError"]


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
