"""The one place the web app turns an error meant for users into an answer: ``{"detail": message}`` with the
status its kind has in :data:`STATUSES`. Routes raise; they do not catch and re-raise as HTTP errors.

A class not in the table takes its nearest ancestor's status (``type(err).__mro__`` in order), so a new
error only has to subclass its kind (see ``octoscope.errors``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from octoscope.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OctoscopeError,
    TooSoonError,
    UpstreamError,
)
from octoscope.store.errors import StoreError

__all__ = ["STATUSES", "detail_of", "install_error_handler", "status_of"]

STATUSES: dict[type[Exception], int] = {
    InputError: 400,  # the question is wrong as asked
    NotFoundError: 404,  # what it asks about is not there (yet): nothing synced, no such device
    ConflictError: 409,  # not as things stand: not configured, data a sync must put right
    TooSoonError: 429,  # over a limit octoscope keeps to
    UpstreamError: 502,  # Octopus refused, failed or answered nonsense
    StoreError: 503,  # the database cannot be used
    OctoscopeError: 500,  # a user's error of no kind yet: its message is still safe to show
}


def status_of(err: Exception) -> int:
    return next((STATUSES[kind] for kind in type(err).__mro__ if kind in STATUSES), 500)


def detail_of(err: Exception) -> str:
    """The message; a question's mistakes name the CLI's flags (``--from``), said here as query parameters."""
    message = str(err)
    return message.replace("--", "") if status_of(err) == STATUSES[InputError] else message  # its kind decides


async def _answer(request: Request, err: Exception) -> JSONResponse:
    return JSONResponse({"detail": detail_of(err)}, status_of(err))


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(OctoscopeError, _answer)
