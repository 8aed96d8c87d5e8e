"""The test servers start on free ports even when a port picked free is taken before the server binds it, as
happens when CI runs several pytest runs at once (``make test-clocks``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from octoscope.simulator.threaded import free_port
from tests import servers


@pytest.fixture
def first_port_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The first port the servers pick is one another socket holds; the ports picked, in order."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    held = int(holder.getsockname()[1])
    picked: list[int] = []

    def pick(host: str = "127.0.0.1") -> int:
        port = held if not picked else free_port(host)
        picked.append(port)
        return port

    monkeypatch.setattr(servers, "free_port", pick)
    with holder:
        yield picked


def _started(start: Callable[[], AbstractContextManager[object]]) -> None:
    try:
        with start():
            pass
    except servers.ServerMissing as err:
        if servers.in_ci():
            pytest.fail(f"{err}; CI=true, so the test must run")
        pytest.skip(str(err))


def test_mosquitto_tries_other_ports(first_port_taken: list[int]) -> None:
    _started(servers.mosquitto)
    assert len(first_port_taken) == 2


def test_influxd_tries_other_ports(first_port_taken: list[int]) -> None:
    _started(servers.influx1)
    assert len(first_port_taken) >= 3  # two ports a try, the first try's HTTP port taken


def test_a_server_failing_otherwise_is_not_retried(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[int] = []

    def failing() -> AbstractContextManager[object]:
        tries.append(1)
        raise RuntimeError("the server exited with 1: bad config")

    with pytest.raises(RuntimeError, match="bad config"), servers._on_free_ports(failing):
        pass
    assert tries == [1]


def test_a_port_taken_every_time_fails_after_a_few_tries() -> None:
    tries: list[int] = []

    def taken() -> AbstractContextManager[object]:
        tries.append(1)
        raise servers.PortTaken("the server exited with 1: bind: address already in use")

    with pytest.raises(servers.PortTaken), servers._on_free_ports(taken):
        pass
    assert len(tries) == 5
