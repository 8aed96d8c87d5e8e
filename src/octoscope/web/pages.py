"""The dashboard: server-rendered pages (Jinja2) whose charts and tables fill in from the JSON API.

plotly.js comes from the installed ``plotly`` package (its bundled ``plotly.min.js``), served compressed by
``assets``: no CDN, works offline. Times are shown in UK local time; the pages follow the system's light or
dark theme and fit a phone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from octoscope import __version__
from octoscope.domain.uktime import from_epoch, local_date
from octoscope.web.assets import VENDOR

HERE = Path(__file__).parent
PLOTLY_JS = VENDOR["plotly.min.js"][0]
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

PAGES = (
    ("overview", "/", "Overview"),
    ("usage", "/usage", "Usage"),
    ("prices", "/prices", "Prices"),
    ("costs", "/costs", "Costs"),
    ("ev", "/ev", "EV"),
    ("live", "/live", "Live"),
    ("status", "/status", "Status"),
)


def _render(request: Request, page: str, **extra: Any) -> HTMLResponse:
    state = request.app.state
    now = from_epoch(state.clock())
    today = local_date(now)
    accounts: tuple[tuple[str, str | None], ...] = getattr(state, "accounts", ())
    number = state.settings.account
    name = dict(accounts).get(number)
    context = {
        "page": page,
        "pages": PAGES,
        "title": dict((p, t) for p, _, t in PAGES)[page],
        "base": getattr(state, "prefix", ""),  # /a/NUMBER under a switcher: every link stays in the account
        "accounts": accounts,
        "account_label": f"{number} · {name}" if name else number,
        "version": __version__,
        "now": now.isoformat(),  # the app's clock, which pages use rather than the browser's
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        **extra,
    }
    return templates.TemplateResponse(request, f"{page}.html", context)


def _page(page: str) -> Callable[[Request], HTMLResponse]:
    def show(request: Request) -> HTMLResponse:
        return _render(request, page)

    show.__name__ = f"{page}_page"
    return show


for _name, _href, _title in PAGES:  # one route per page, all rendered alike
    router.add_api_route(_href, _page(_name), response_class=HTMLResponse, summary=f"The {_title} page")


def switcher(request: Request) -> HTMLResponse:
    """``/`` of a server with several accounts: each account (number and name) a token may see."""
    state = request.app.state
    now = from_epoch(state.clock())
    allowed: str | None = getattr(request.state, "token_account", None)
    shown = [(n, name) for n, name in state.accounts if allowed is None or n == allowed]
    context = {
        "page": "accounts",
        "pages": (),
        "title": "Accounts",
        "base": "",
        "accounts": (),
        "switcher": shown,
        "version": __version__,
        "now": now.isoformat(),
        "today": local_date(now).isoformat(),
        "yesterday": (local_date(now) - timedelta(days=1)).isoformat(),
    }
    return templates.TemplateResponse(request, "accounts.html", context)
