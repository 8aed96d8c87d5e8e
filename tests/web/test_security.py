"""``octoscope serve`` on a home network, tried as an attacker would, over real sockets (issue 15): the login
form and its redirect stay on this server; a foreign Host (DNS rebinding) and a foreign Origin are refused;
no GET spends the Octopus budget; session cookies expire and can be revoked; tokens must be real secrets;
every answer carries the security headers; the API docs work offline. The browser's side of the same is in
``test_browser_security``; connection exhaustion in ``test_connections``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from octoscope.clock import ManualClock, frozen
from octoscope.config import Settings
from octoscope.domain.validation import BadValue
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from octoscope.web.auth import COOKIE, COOKIE_DAYS
from octoscope.web.compare import PER_CLIENT_HOUR, Jobs
from octoscope.web.security import check_token, session_secret
from tests.conftest import DEMO_ACCOUNT, DEMO_NOW, Cli

TOKEN = "a-long-secret-for-the-security-tests-5b8e"
NOW = frozen(DEMO_NOW)()


def keyless(cli: Cli) -> Settings:
    """The synced demo without an API key: a route that would spend budget answers 409 if it is reached."""
    return Settings(account=DEMO_ACCOUNT, db=cli.db, config_path=cli.home / "none.toml")


@pytest.fixture(scope="module")
def open_server(synced_demo: Cli) -> Iterator[str]:
    """The default server: no token, on loopback."""
    with serve_in_thread(create_app(keyless(synced_demo), clock=frozen(NOW))) as base:
        yield base


@pytest.fixture(scope="module")
def tokened(synced_demo: Cli) -> Iterator[str]:
    with serve_in_thread(create_app(keyless(synced_demo), token=TOKEN, clock=frozen(NOW))) as base:
        yield base


def raw(base: str, request: str) -> tuple[int, dict[str, str], str]:
    """One request as written, bytes on a socket (an HTTP client would clean ``//evil.example`` away)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# --- 1. the login form and its redirect ---------------------------------------------------------------


def test_the_login_form_never_posts_the_token_to_another_site(tokened: str) -> None:
    host = tokened.removeprefix("http://")
    status, _, page = raw(
        tokened, f"GET //evil.example/steal HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )
    assert status == 401
    assert 'action="/evil.example/steal"' in page  # a path on this server, not //evil.example (another site)
    assert 'action="//' not in page


def test_logging_in_never_redirects_to_another_site(tokened: str) -> None:
    host = tokened.removeprefix("http://")
    for path in ("//evil.example/x", "/\\evil.example/x", "///evil.example/x"):
        status, headers, _ = raw(
            tokened, f"GET {path}?token={TOKEN}&a=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        assert status == 303, path
        location = headers["location"]
        assert location.endswith("evil.example/x?a=1"), location  # a path on this server that reads like it
        assert httpx.URL(tokened).join(location).host == "127.0.0.1", location  # never another site
        assert not location.startswith(("//", "/\\")), location


# --- 2. Host and Origin -------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["open_server", "tokened"])
def test_a_foreign_host_name_gets_no_data(server: str, request: pytest.FixtureRequest) -> None:
    base: str = request.getfixturevalue(server)
    auth = {"Authorization": f"Bearer {TOKEN}"} if server == "tokened" else {}
    port = base.rsplit(":", 1)[1]
    rebound = httpx.get(f"{base}/api/overview", headers={"Host": f"evil.example:{port}", **auth}, timeout=30)
    assert rebound.status_code == 400
    detail = rebound.json()["detail"]
    assert "does not answer to the host name 'evil.example:" in detail
    assert "--allow-host evil.example" in detail
    assert "kwh" not in rebound.text
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"octoscope.localhost:{port}", socket.gethostname()):
        assert httpx.get(f"{base}/api/overview", headers={"Host": host, **auth}, timeout=30).status_code == 200, host


def test_a_host_name_given_is_answered(synced_demo: Cli) -> None:
    app = create_app(keyless(synced_demo), clock=frozen(NOW), allowed_hosts=["octo.example", ".home.arpa"])
    with serve_in_thread(app) as base:
        given = [
            httpx.get(f"{base}/api/status", headers={"Host": h}, timeout=30).status_code
            for h in ("octo.example", "OCTO.example:443", "pi.home.arpa", "home.arpa")
        ]
        other = httpx.get(f"{base}/api/status", headers={"Host": "octo.example.evil"}, timeout=30)
    assert given == [200, 200, 200, 200]
    assert other.status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port or a sibling name: not this server's pages
    ],
)
def test_a_cross_site_post_is_refused_before_it_runs(open_server: str, headers: dict[str, str]) -> None:
    """Keyless, a refresh that ran would answer 409; refused, it is a 403 that never reached it."""
    response = httpx.post(
        f"{open_server}/api/dispatches/refresh",
        content="x",
        headers={"Content-Type": "text/plain", **headers},
        timeout=30,
    )
    assert response.status_code == 403
    assert "refused" in response.json()["detail"]
    same = httpx.post(
        f"{open_server}/api/dispatches/refresh", headers={"Origin": open_server, "Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 409  # its own page reaches the route
    assert httpx.post(f"{open_server}/api/dispatches/refresh", timeout=30).status_code == 409  # curl, a script


def test_a_cookie_does_not_carry_a_cross_site_post(tokened: str) -> None:
    with httpx.Client(base_url=tokened, timeout=30) as browser:
        assert browser.get("/", params={"token": TOKEN}).status_code == 303
        assert COOKIE in browser.cookies
        foreign = browser.post("/api/dispatches/refresh", headers={"Origin": "http://evil.example"})
        own = browser.post("/api/dispatches/refresh", headers={"Origin": tokened})
        script = browser.get("/api/overview", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"})
        link = browser.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        api_link = browser.get(
            "/api/live/stream", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
        )
    assert foreign.status_code == 403
    assert own.status_code == 409
    assert script.status_code == 403  # another site's script cannot even ask the API
    assert link.status_code == 200  # following a link to the dashboard still works
    assert api_link.status_code == 403  # but not to the API (the live stream would start a poller)


# --- 3. no GET spends the budget ----------------------------------------------------------------------


def test_the_comparison_is_not_a_get(synced_demo: Cli) -> None:
    with serve_in_thread(create_app(synced_demo.settings(), clock=frozen(NOW))) as base:
        before = synced_demo.sim.requests_log()
        response = httpx.get(f"{base}/api/compare", params={"months": 36, "region": "A"}, timeout=30)
        after = synced_demo.sim.requests_log()
        missing = httpx.get(f"{base}/api/compare/0123456789abcdef", timeout=30)
    assert response.status_code == 405
    assert before == after  # Octopus was not asked
    assert missing.status_code == 404
    assert "no comparison '0123456789abcdef'" in missing.json()["detail"]
    operations = httpx_schema_operations(synced_demo)
    budget_spenders = {"/api/compare", "/api/dispatches/refresh"}
    assert all(method != "get" for path, method in operations if path in budget_spenders)


def httpx_schema_operations(cli: Cli) -> set[tuple[str, str]]:
    with serve_in_thread(create_app(keyless(cli), clock=frozen(NOW))) as base:
        schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return {(path, method) for path, item in schema["paths"].items() for method in item}


def test_comparisons_are_one_at_a_time_and_limited_per_client() -> None:
    jobs = Jobs()
    first = jobs.admit("10.0.0.2", (12, None, None), 1000.0)
    assert jobs.admit("10.0.0.3", (12, None, None), 1001.0) is first  # the same comparison: joined
    with pytest.raises(Exception, match="another comparison is running") as busy:
        jobs.admit("10.0.0.3", (36, None, "A"), 1002.0)
    assert busy.value.status_code == 429  # type: ignore[attr-defined]
    first.status = "done"
    for i in range(PER_CLIENT_HOUR - 1):
        jobs.admit("10.0.0.2", (i + 1, None, None), 1010.0 + i).status = "done"
    with pytest.raises(Exception, match=f"{PER_CLIENT_HOUR} comparisons an hour") as limited:
        jobs.admit("10.0.0.2", (3, None, None), 1100.0)
    assert limited.value.headers["Retry-After"] == str(3600 - 100 + 1)  # type: ignore[attr-defined]
    other = jobs.admit("10.0.0.9", (3, None, None), 1100.0)
    assert other.status == "running"  # another client still can
    other.status = "done"
    assert jobs.admit("10.0.0.2", (4, "gas", None), 1000.0 + 3601).client == "10.0.0.2"  # an hour on
    assert len(jobs.jobs) <= 8 + 1


# --- 8. headers, docs, tokens, sessions ---------------------------------------------------------------


def test_every_answer_carries_the_security_headers(open_server: str, tokened: str) -> None:
    answers = [
        httpx.get(f"{open_server}{path}", timeout=30) for path in ("/", "/api/status", "/static/app.js", "/docs")
    ]
    answers += [httpx.get(f"{tokened}/", headers={"Accept": "text/html"}, timeout=30)]  # the login page
    answers += [httpx.get(f"{open_server}/", headers={"Host": "evil.example"}, timeout=30)]  # a refusal
    for response in answers:
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'self'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self';" in answers[0].headers["content-security-policy"]  # no inline script on pages


def test_the_api_docs_load_nothing_from_another_site(open_server: str) -> None:
    for path in ("/docs", "/redoc"):
        page = httpx.get(f"{open_server}{path}", timeout=30)
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href|_url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert any(u.endswith(".js") for u in urls), (path, urls)
        for url in urls:
            assert url.startswith("/"), (path, url)  # this server's own files, installed with fastapi-offline
            assert httpx.get(f"{open_server}{url}", timeout=30).status_code == 200, url


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (" " * 20, "empty or only spaces"),
        ("\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t", "empty or only spaces"),
        ("a" * 40, "too easy to guess"),
        ("passwordpassword", "too easy to guess"),
        ("short-token", "16 characters or more (this one has 11)"),
        (" " + TOKEN, "spaces or control characters"),
    ],
)
def test_a_weak_token_is_refused(token: str, message: str) -> None:
    with pytest.raises(BadValue, match=re.escape(message)):
        check_token(token)


def test_a_weak_token_is_refused_by_serve_in_one_line(synced_demo: Cli) -> None:
    for token in (" " * 20, "a" * 40):
        done = synced_demo.run("serve", "--port", str(free_tcp_port()), "--token", token, timeout=60)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("Error: the access token is")
        assert "Traceback" not in done.stderr


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_session_cookie_expires(synced_demo: Cli) -> None:
    clock = ManualClock(NOW)
    app = create_app(keyless(synced_demo), token=TOKEN, clock=clock)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=30) as browser:
        login = browser.get("/api/status", params={"token": TOKEN})
        fresh = browser.get("/api/status")
        clock.set(NOW + COOKIE_DAYS * 86400 - 60)
        late = browser.get("/api/status")
        clock.set(NOW + COOKIE_DAYS * 86400 + 1)
        expired = browser.get("/api/status")
        forged = browser.get("/api/status", headers={"Cookie": f"{COOKIE}=9999999999.{'0' * 64}"})
    assert f"Max-Age={COOKIE_DAYS * 86400}" in login.headers["set-cookie"]
    assert TOKEN not in login.headers["set-cookie"]
    assert (fresh.status_code, late.status_code, expired.status_code, forged.status_code) == (200, 200, 401, 401)


def test_signing_everyone_out_revokes_every_cookie(synced_demo: Cli, tmp_path: Path) -> None:
    path = tmp_path / "octoscope.web-session"
    first = session_secret(path)
    at = frozen(NOW)
    assert path.stat().st_mode & 0o777 == 0o600
    assert session_secret(path) == first  # kept across restarts: browsers stay signed in
    with serve_in_thread(create_app(keyless(synced_demo), token=TOKEN, clock=at, session_secret=first)) as base:
        login = httpx.get(f"{base}/", params={"token": TOKEN}, timeout=30)
        cookie = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}
        before = httpx.get(f"{base}/api/status", headers=cookie, timeout=30)
    rotated = session_secret(path, rotate=True)  # octoscope serve --sign-out-everyone
    assert rotated != first
    with serve_in_thread(create_app(keyless(synced_demo), token=TOKEN, clock=at, session_secret=rotated)) as base:
        after = httpx.get(f"{base}/api/status", headers=cookie, timeout=30)
    with serve_in_thread(
        create_app(keyless(synced_demo), token=TOKEN + "-new", clock=at, session_secret=first)
    ) as base:
        new_token = httpx.get(f"{base}/api/status", headers=cookie, timeout=30)
    assert (before.status_code, after.status_code, new_token.status_code) == (200, 401, 401)


# --- 5 and 7. addresses, numbers and dates ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://localhost:1@127.0.0.5:19230/v1/graphql/", "holds a user name or password"),
        ("https://user:pw@api.octopus.energy/v1/graphql/", "holds a user name or password"),
        ("http://192.168.1.5/v1/graphql/", "would send the API key unencrypted"),
        ("http://localhost.evil.example/v1/graphql/", "would send the API key unencrypted"),
        ("https://api.octopus.energy:99999/v1/graphql/", "port that is not a number"),
        ("https://api.octopus.energy /v1/graphql/", "spaces"),
        ("ftp://api.octopus.energy/v1/graphql/", "is not an http(s) URL"),
    ],
)
def test_an_api_url_that_hides_where_it_goes_is_refused(synced_demo: Cli, url: str, message: str) -> None:
    done = synced_demo.run("status", env={"OCTOSCOPE_GRAPHQL_URL": url}, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: graphql_url"), done.stderr
    assert message in done.stderr
    assert done.stderr.count("\n") == 1


def test_loopback_over_plain_http_is_still_fine(synced_demo: Cli) -> None:
    done = synced_demo.run("status", env={"OCTOSCOPE_GRAPHQL_URL": "http://127.0.0.5:1/v1/graphql/"}, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/api/cheapest", {"hours": "2", "max_price": "nan"}, "max-price nan is out of range"),
        ("/api/cheapest", {"hours": "2", "max_price": "inf"}, "max-price inf is out of range"),
        ("/api/cheapest", {"hours": "2", "max_price": "-1e308"}, "max-price -1e+308 is out of range"),
        ("/api/prices", {"from": "9999-12-30", "to": "9999-12-31"}, "from 9999-12-30 is out of range"),
        ("/api/prices", {"from": "0001-01-01"}, "from 0001-01-01 is out of range"),
        ("/api/sessions", {"from": "9999-12-30", "to": "9999-12-31"}, "out of range"),
        ("/api/sessions", {"from": "0001-01-01", "to": "0001-01-02"}, "out of range"),
        ("/api/costs", {"period": "9999-12"}, "period 9999-12-01 is out of range"),
        ("/api/costs", {"period": "0001"}, "period 0001-01-01 is out of range"),
        ("/api/usage", {"from": "9999-12-30", "to": "9999-12-31"}, "out of range"),
    ],
)
def test_extreme_numbers_and_dates_are_one_line_4xx(
    open_server: str, path: str, params: dict[str, str], expected: str
) -> None:
    response = httpx.get(f"{open_server}{path}", params=params, timeout=60)
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail
    assert expected in detail


@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "--from", "9999-12-30", "--to", "9999-12-31"],
        ["sessions", "--from", "0001-01-01", "--to", "0001-01-02"],
        ["costs", "--period", "9999-12"],
        ["costs", "--from", "9999-12-30"],
        ["cheapest", "--hours", "2", "--max-price", "nan"],
        ["export", "csv", "--from", "9999-12-30", "--to", "9999-12-31"],
    ],
)
def test_extreme_cli_values_are_one_line(synced_demo: Cli, args: list[str]) -> None:
    done = synced_demo.run(*args, timeout=60)
    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith("Error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_allowed_hosts_from_the_config_file_and_the_command_line(synced_demo: Cli, tmp_path: Path) -> None:
    from octoscope.config import ConfigError, settings_from

    parsed = settings_from({"web": {"allowed_hosts": ["Octo.Example", ".home.arpa"]}}, {}, tmp_path / "c.toml")
    assert parsed.web.allowed_hosts == ("octo.example", ".home.arpa")
    with serve_in_thread(create_app(replace(keyless(synced_demo), web=parsed.web), clock=frozen(NOW))) as base:
        assert httpx.get(f"{base}/api/status", headers={"Host": "octo.example"}, timeout=30).status_code == 200
        assert httpx.get(f"{base}/api/status", headers={"Host": "pi.home.arpa"}, timeout=30).status_code == 200
    for bad in (["octo.example:8000"], "octo.example", [""], ["evil example"]):
        with pytest.raises(ConfigError, match=r"^\[web\] allowed_hosts"):
            settings_from({"web": {"allowed_hosts": bad}}, {}, tmp_path / "c.toml")
    done = synced_demo.run("serve", "--port", str(free_tcp_port()), "--allow-host", "evil.example:80", timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: allowed host 'evil.example:80' is not a host name")
    assert done.stderr.count("\n") == 1


def test_a_new_token_is_random_and_strong(synced_demo: Cli) -> None:
    first, second = (synced_demo.ok("serve", "--new-token", timeout=60).strip() for _ in range(2))
    assert first != second
    assert check_token(first) == first
    assert len(first) >= 40
