"""The fault server itself: it is bounded in time, so a test can never hang on it."""

from __future__ import annotations

import threading
import time

import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from tests.support import fault_server
from tests.support.fault_server import FaultServer, Reply, endless_stream, wait_until


def _stopped(server: FaultServer) -> bool:
    return server._thread is not None and not server._thread.is_alive()


def test_the_server_stops_by_itself_after_its_lifetime() -> None:
    server = FaultServer(lifetime=0.2).start()
    try:
        assert wait_until(lambda: _stopped(server), 3)
        with httpx.Client() as client, pytest.raises(httpx.ConnectError):
            client.get(server.url + "/models", timeout=1)
    finally:
        server.stop()


def test_an_answer_longer_than_the_cap_is_cut() -> None:
    with FaultServer(max_answer_seconds=0.3) as server:
        server.always(endless_stream())
        with (
            httpx.Client(timeout=5) as client,
            pytest.raises(httpx.RemoteProtocolError),  # a chunked body cut short
            client.stream("POST", server.url + "/completions", content=b"{}") as response,
        ):
            for _ in response.iter_raw():
                pass
        record = server.requests[0]
        assert record.ended is not None and 0.25 <= record.ended - record.started < 2


def test_stop_cuts_a_stalled_answer_at_once() -> None:
    server = FaultServer().start()
    server.always(Reply(200, b"{}", delay=30))
    start = time.monotonic()
    threading.Timer(0.2, server.stop).start()
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.HTTPError):
        client.get(server.url + "/models")
    assert time.monotonic() - start < 2
    assert wait_until(lambda: _stopped(server), 3)


def _listening_ports() -> set[int]:
    connections = psutil.Process().net_connections(kind="tcp")
    return {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}


def test_a_port_this_process_still_has_connections_to_is_passed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The leak tests count this process's sockets to the server's port: a stale pooled
    # connection to an earlier server on the same port number would be counted too.
    checks = 0

    def every_port_taken_three_times() -> set[int]:
        nonlocal checks
        checks += 1
        return set(range(65536)) if checks <= 3 else set()

    monkeypatch.setattr(fault_server, "_remote_ports_of_this_process", every_port_taken_three_times)
    before = _listening_ports()
    with FaultServer() as server:
        assert checks == 4
        assert _listening_ports() - before == {server.port}  # the three passed over are shut
        server.always(Reply(200, b"{}"))
        with httpx.Client() as client:
            assert client.get(server.url + "/models", timeout=5).status_code == 200
