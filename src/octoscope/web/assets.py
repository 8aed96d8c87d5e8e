"""The dashboard's files (its CSS and JavaScript, plotly.js, the API docs' bundles), served gzipped and cached.

Each file is read and compressed once per process (plotly.min.js is 4.8 MB, about 1.4 MB gzipped), again only
if it changes on disk. Every answer carries a strong ETag and a Cache-Control: a browser that has a file asks
again with If-None-Match and gets a 304 with no body. The files come from installed packages or from this
package (never a CDN), so the dashboard and the docs work with no outside network.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

STATIC = Path(__file__).parent / "static"
# Files of installed packages change only with an upgrade: a browser keeps them a day without asking.
VENDOR_CACHE = "public, max-age=86400"
# Our own files change with octoscope: the browser asks each time, and a 304 answers if nothing changed.
OWN_CACHE = "no-cache"
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = find_spec(name)
    return None if spec is None or spec.origin is None else Path(spec.origin).parent


def _vendor_files() -> dict[str, tuple[Path | None, str]]:
    plotly, docs = _package_dir("plotly"), _package_dir("fastapi_offline")
    return {
        "plotly.min.js": (plotly and plotly / "package_data" / "plotly.min.js", "plotly"),
        "swagger-ui-bundle.js": (docs and docs / "static" / "swagger-ui-bundle.js", "fastapi-offline"),
        "swagger-ui.css": (docs and docs / "static" / "swagger-ui.css", "fastapi-offline"),
        "redoc.standalone.js": (docs and docs / "static" / "redoc.standalone.js", "fastapi-offline"),
        "docs-favicon.png": (docs and docs / "static" / "favicon.png", "fastapi-offline"),
    }


VENDOR = _vendor_files()


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gzipped: bytes
    etag: str  # of the raw bytes; the gzipped answer's is this with "-gz", as a strong ETag must differ

    @classmethod
    def of(cls, raw: bytes) -> Asset:
        # mtime=0: the same file always compresses to the same bytes (an ETag must not change per process).
        return cls(raw, gzip.compress(raw, compresslevel=9, mtime=0), hashlib.sha256(raw).hexdigest()[:32])


_lock = threading.Lock()
_loaded: dict[Path, tuple[tuple[int, int], Asset]] = {}


def load(path: Path) -> Asset:
    """The file, compressed: from memory while its size and modification time stay the same."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:  # two first requests at once compress once
        held = _loaded.get(path)
        if held is None or held[0] != stamp:
            held = _loaded[path] = (stamp, Asset.of(path.read_bytes()))
        return held[1]


def warm() -> None:
    """Compress plotly.js and our own files ahead of the first page that needs them (half a second of work
    for plotly.js), in a thread of its own; each process does it once."""

    def run() -> None:
        paths = [VENDOR["plotly.min.js"][0], STATIC / "app.js", STATIC / "app.css"]
        for path in paths:
            if path is not None and path.is_file():
                load(path)

    threading.Thread(target=run, name="octoscope-assets", daemon=True).start()


def answer(request: Request, path: Path, cache_control: str) -> Response:
    """``path`` gzipped if the browser takes gzip, or 304 if it already holds this version."""
    asset = load(path)
    gzipped = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = f'"{asset.etag}-gz"' if gzipped else f'"{asset.etag}"'
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    held = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    media_type = TYPES.get(path.suffix, "application/octet-stream")
    return Response(asset.gzipped if gzipped else asset.raw, media_type=media_type, headers=headers)


router = APIRouter(include_in_schema=False)


@router.get("/vendor/{name}")
def vendor(name: str, request: Request) -> Response:
    """A file of an installed package (plotly.js, the API docs' Swagger UI and ReDoc)."""
    if name not in VENDOR:
        raise HTTPException(404, "no such file")
    path, package = VENDOR[name]
    if path is None or not path.is_file():
        raise HTTPException(404, f"{name} is missing from the installed {package} package; reinstall {package}")
    return answer(request, path, VENDOR_CACHE)


@router.get("/static/{name}")
def static(name: str, request: Request) -> Response:
    """The dashboard's own CSS and JavaScript (a flat folder: no name with a slash reaches this route)."""
    path = STATIC / name
    if name.startswith(".") or not path.is_file():
        raise HTTPException(404, "no such file")
    return answer(request, path, OWN_CACHE)
