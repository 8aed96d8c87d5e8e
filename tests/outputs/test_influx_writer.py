"""The InfluxDB sink alone, at the HTTP transport: line protocol, batches and gzip, the two write APIs and
their credentials, retries and backoff, and one clear error per failure mode, never with a secret."""

from __future__ import annotations

import base64
import gzip
import logging
import random

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.domain.secret import Secret
from octoscope.outputs.influx_writer import (
    InfluxAuthError,
    InfluxNotFound,
    InfluxRejected,
    InfluxServerError,
    InfluxTarget,
    InfluxUnreachable,
    InfluxWriter,
    Point,
    field_set,
    is_loopback,
    line,
    series_key,
)

PASSWORD = "pa55-word-never-shown"
TOKEN = "tok3n-never-shown"
V1 = InfluxTarget("http://influx.local:8086", 1, database="energy", username="me", password=Secret(PASSWORD))
V2 = InfluxTarget("https://cloud.example", 2, org="home", bucket="energy", token=Secret(TOKEN))


class Server:
    """Answers from a script, one per request, and keeps what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def lines(self, i: int = 0) -> list[str]:
        return gzip.decompress(self.requests[i].content).decode().split("\n")


class TopOfRange(random.Random):
    """Jitter pinned to the top of its range: each pause is the backoff's ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


def writer(server: Server, target: InfluxTarget = V1, **options: object) -> tuple[InfluxWriter, list[float]]:
    slept: list[float] = []
    made = InfluxWriter(
        target,
        clock=frozen("2026-11-21T09:00:00Z"),
        transport=httpx.MockTransport(server),
        sleep=slept.append,
        rng=TopOfRange(),
        **options,  # type: ignore[arg-type]
    )
    return made, slept


POINTS = [
    Point(
        "electricity_consumption",
        (("tariff_code", "E-1R-AGILE-24-10-01-C"), ("location", "My Home")),
        (("usage_kwh", 0.25),),
        1_790_000_000,
    ),
    Point(
        "electricity_consumption",
        (("location", "My Home"), ("tariff_code", "E-1R-AGILE-24-10-01-C")),
        (("usage_kwh", 1.0),),
        1_790_001_800,
    ),
]


def test_line_protocol_escapes_and_types() -> None:
    assert series_key("m e,x", [("b", "x y"), ("a", "1,2=3"), ("empty", "")]) == r"m\ e\,x,a=1\,2\=3,b=x\ y"
    assert field_set([("kwh", 1), ("ok", True), ("note", 'say "hi"\\'), ("none", None), ("nan", float("nan"))]) == (
        r'kwh=1.0,ok=true,note="say \"hi\"\\"'
    )
    assert line(POINTS[0]) == (
        "electricity_consumption,location=My\\ Home,tariff_code=E-1R-AGILE-24-10-01-C usage_kwh=0.25 1790000000"
    )
    assert line(Point("m", (), (("x", None),), 1)) is None  # nothing to write


def test_v1_writes_gzip_batches_with_basic_auth_and_no_secret_in_the_url() -> None:
    server = Server(httpx.Response(204))
    sink, slept = writer(server, batch_size=1)
    with sink:
        assert sink.write(POINTS) == 2
    assert len(server.requests) == 2
    request = server.requests[0]
    assert request.url.path == "/write"
    assert dict(request.url.params) == {"db": "energy", "precision": "s"}
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    assert PASSWORD not in str(request.url)
    assert server.lines(1) == [line(POINTS[1])]
    assert slept == []


def test_on_loopback_the_lines_go_plain() -> None:
    """gzip is CPU on both sides; between processes of one machine it saves no time."""
    assert [is_loopback(u) for u in ("http://127.0.0.1:8086", "http://localhost:8086", "http://[::1]:8086")] == [
        True,
        True,
        True,
    ]
    assert not is_loopback("http://influx.local:8086")
    assert not is_loopback("https://192.168.1.20:8086")
    server = Server(httpx.Response(204))
    here = InfluxTarget("http://127.0.0.1:8086", 1, database="energy")
    sink, _ = writer(server, here, batch_size=1)
    with sink:
        assert sink.write(POINTS) == 2
    assert "content-encoding" not in server.requests[0].headers
    assert server.requests[1].content.decode() == line(POINTS[1])


def test_with_two_senders_what_waits_runs_once_every_batch_before_it_is_written() -> None:
    server = Server(httpx.Response(204))
    sink, _ = writer(server, batch_size=1, senders=2)
    done: list[int] = []
    with sink:
        sink.send_lines([f"m a={i} {i}" for i in range(9)])
        sink.then(lambda: done.append(sink.batches))
        sink.flush()
    assert done == [9]
    assert sorted(line for i in range(9) for line in server.lines(i)) == sorted(f"m a={i} {i}" for i in range(9))


def test_v1_retention_policy_and_v2_token() -> None:
    server = Server(httpx.Response(204))
    with writer(server, InfluxTarget("http://h:8086", 1, database="db", retention_policy="year"))[0] as sink:
        sink.write(POINTS[:1])
    assert dict(server.requests[0].url.params) == {"db": "db", "precision": "s", "rp": "year"}
    assert "authorization" not in server.requests[0].headers  # no user configured: none sent
    server = Server(httpx.Response(204))
    with writer(server, V2)[0] as sink:
        sink.write(POINTS)
    request = server.requests[0]
    assert (request.url.path, dict(request.url.params)) == (
        "/api/v2/write",
        {"org": "home", "bucket": "energy", "precision": "s"},
    )
    assert request.headers["authorization"] == f"Token {TOKEN}"
    assert server.lines() == [line(p) for p in POINTS]


def test_5xx_and_429_are_retried_with_backoff_and_retry_after() -> None:
    server = Server(
        httpx.Response(503, text="<html>busy</html>"),
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.ConnectError("refused"),
        httpx.Response(204),
    )
    sink, slept = writer(server, base_seconds=0.5, cap_seconds=15)
    with sink:
        sink.write(POINTS)
    assert slept == [0.5, 7.0, 2.0]  # 0.5 x 2^n (jitter 1 here), at least the Retry-After
    assert sink.retries == 3
    assert len(server.requests) == 4
    assert server.lines(3) == server.lines(0)  # the same batch again


def test_5xx_still_after_the_retries_is_one_line() -> None:
    server = Server(httpx.Response(500, json={"error": "timeout\n waiting for\tshard"}))
    sink, slept = writer(server, attempts=3)
    with sink, pytest.raises(InfluxServerError) as caught:
        sink.write(POINTS)
    assert str(caught.value) == (
        "InfluxDB at http://influx.local:8086 (database energy) answered 500 (timeout waiting for shard) 3 times:"
        " try again later; nothing is lost, the next export writes it"
    )
    assert len(slept) == 2


def test_down_is_unreachable_after_the_retries() -> None:
    sink, slept = writer(Server(httpx.ConnectError("[Errno 111] Connection refused")), attempts=4)
    with sink, pytest.raises(InfluxUnreachable) as caught:
        sink.write(POINTS)
    assert str(caught.value) == (
        "cannot reach InfluxDB at http://influx.local:8086 (database energy) (ConnectError) after 4 tries:"
        " is it running? check [influx] url"
    )
    assert len(slept) == 3


@pytest.mark.parametrize(
    ("target", "answer", "error", "message"),
    [
        (
            V1,
            httpx.Response(401, json={"error": "authorization failed"}),
            InfluxAuthError,
            "InfluxDB at http://influx.local:8086 (database energy) refused to let us write (401: authorization"
            " failed): check [influx] username (me) and OCTOSCOPE_INFLUX_PASSWORD, and that the user may write",
        ),
        (
            InfluxTarget("http://h:8086", 1, database="energy"),
            httpx.Response(401, json={"error": "unable to parse authentication credentials"}),
            InfluxAuthError,
            "InfluxDB at http://h:8086 (database energy) refused to let us write (401: unable to parse authentication"
            " credentials): it asks for a user: set [influx] username, and the password in OCTOSCOPE_INFLUX_PASSWORD",
        ),
        (
            V2,
            httpx.Response(401, json={"code": "unauthorized", "message": "unauthorized access"}),
            InfluxAuthError,
            "InfluxDB at https://cloud.example (org home, bucket energy) refused to let us write (401: unauthorized"
            " access): check OCTOSCOPE_INFLUX_TOKEN (a token allowed to write to bucket energy of org home)",
        ),
        (
            V2,
            httpx.Response(404, json={"code": "not found", "message": 'bucket "energy" not found'}),
            InfluxNotFound,
            'InfluxDB at https://cloud.example (org home, bucket energy): bucket "energy" not found; check [influx]'
            " org and bucket",
        ),
        (
            V1,
            httpx.Response(400, json={"error": "unable to parse 'x v=': missing field value"}),
            InfluxRejected,
            "InfluxDB at http://influx.local:8086 (database energy) refused a batch of 2 points (400: unable to"
            " parse 'x v=': missing field value)",
        ),
        (
            V1,
            httpx.Response(413, text="too large"),
            InfluxRejected,
            "InfluxDB at http://influx.local:8086 (database energy) would not take 2 points at once (413): lower"
            " [influx] batch_size",
        ),
    ],
)
def test_each_refusal_is_one_line_naming_the_fix_without_retrying(
    target: InfluxTarget,
    answer: httpx.Response,
    error: type[Exception],
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server(answer)
    sink, slept = writer(server, target)
    with caplog.at_level(logging.DEBUG), sink, pytest.raises(error) as caught:
        sink.write(POINTS)
    assert str(caught.value) == message
    assert (len(server.requests), slept) == (1, [])
    for secret in (PASSWORD, TOKEN):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_what_waits_for_lines_sent_runs_once_they_are_written_and_never_after_a_failure() -> None:
    server = Server(httpx.Response(204))
    sink, _ = writer(server, batch_size=2, queue_batches=1)
    done: list[tuple[str, int]] = []
    with sink:
        assert sink.send_lines(["m a=1 1", "m a=2 2", "m a=3 3"]) == 3  # the last batch may still travel
        sink.then(lambda: done.append(("first", len(server.requests))))
        sink.send_lines(["m a=4 4"])
        sink.then(lambda: done.append(("second", len(server.requests))))
        sink.flush()
    assert done == [("first", 2), ("second", 3)]  # the first ran while the third batch was made
    assert [server.lines(i) for i in range(3)] == [["m a=1 1", "m a=2 2"], ["m a=3 3"], ["m a=4 4"]]

    failing = Server(httpx.Response(204), httpx.Response(400, json={"error": "unable to parse"}))
    sink, _ = writer(failing, batch_size=1)  # the default queue: batches wait while the caller goes on
    names: list[str] = []
    with sink:
        sink.send_lines(["m a=1 1"])
        sink.then(lambda: names.append("first"))
        sink.send_lines(["m a=2 2", "m a=3 3"])
        sink.then(lambda: names.append("second"))  # its batch is refused: it never runs
        with pytest.raises(InfluxRejected):
            sink.flush()
    assert names == ["first"]
    assert len(failing.requests) == 2  # nothing sent after the refusal
    idle, _ = writer(Server(httpx.Response(204)))
    with idle:
        idle.then(lambda: names.append("nothing travelling: at once"))
    assert names == ["first", "nothing travelling: at once"]
