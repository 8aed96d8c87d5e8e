"""The one error the store raises: whatever the backend's driver said, translated at the store's boundary so
that no caller needs to know which database is underneath (nothing outside store/ imports sqlite3)."""

from __future__ import annotations

from octoscope.errors import OctoscopeError

__all__ = ["StoreError"]


class StoreError(OctoscopeError):
    """The database cannot be opened, is damaged, is busy or is not ours; one line saying which file and why."""
