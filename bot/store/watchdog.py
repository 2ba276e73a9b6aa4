"""A bound on how long a PostgreSQL connection may stay checked out.

Server-side timeouts (statement_timeout) and TCP timeouts cover a server that errs or a route
that drops packets; they do not cover a server that accepts bytes and never answers (a hung
process, a proxy that holds the stream): the calling thread then waits forever. This watchdog
severs the socket of a connection checked out for longer than its bound, so the waiting call
fails (the pool discards the connection) and its thread is free again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, bound: float) -> None:
        self.bound = bound
        self._heap: list[tuple[float, int, Any]] = []
        self._active: dict[int, Any] = {}  # id(dbapi connection) -> token of its checkout
        self._tokens = itertools.count()
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
        self._thread.start()
        self.severed = 0

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        token = next(self._tokens)
        with self._wake:
            self._active[id(dbapi_connection)] = token
            heapq.heappush(self._heap, (time.monotonic() + self.bound, token, dbapi_connection))
            self._wake.notify()

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        with self._wake:
            self._active.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                deadline, token, connection = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                overdue = self._active.get(id(connection)) == token
            if overdue:
                self._sever(connection)

    def _sever(self, connection: Any) -> None:
        """Shut the socket down under the waiting call: it fails at once."""
        try:
            fd = connection.pgconn.socket
            probe = socket.socket(fileno=socket.dup(fd))
            try:
                probe.shutdown(socket.SHUT_RDWR)
            finally:
                probe.close()
            self.severed += 1
            log.warning("database: a connection held over %.0f s was cut", self.bound)
        except Exception:  # already closed, or not a socket we know
            log.debug("database: could not cut an overdue connection", exc_info=True)
