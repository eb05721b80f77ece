"""A webhook is sent to an address its URL's check resolved, never to one the host resolves to later
(DNS rebinding), with the host's name as Host header and TLS server name."""

from __future__ import annotations

import socket
import threading
import time

from webhook_receiver import Receiver, free_port

from faktur.webhooks import sender


class _Listener:
    """A loopback TCP server that keeps the first bytes of each connection and closes it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                self.received.append(connection.recv(4096))

    def close(self) -> None:
        self.sock.close()


def test_https_connects_to_the_checked_address_and_names_the_host_in_tls() -> None:
    """`hooks.invalid` never resolves (RFC 6761): the connection reaches the loopback listener only
    because the sender connects to the address the check resolved, and its TLS hello names the host."""
    listener = _Listener()
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    try:
        answer = sender.post(
            f"https://hooks.invalid:{listener.port}/hooks",
            b"{}",
            {},
            timeout=5,
            allow_private=True,
            resolver=resolver,
        )
    finally:
        listener.close()
    assert asked == ["hooks.invalid"]  # resolved once, for the check
    assert answer.status_code is None and answer.error  # the listener speaks no TLS
    [hello] = listener.received
    assert hello[:1] == b"\x16"  # a TLS handshake record
    assert b"hooks.invalid" in hello  # the server name (SNI)


def test_http_sends_the_host_name_as_host_header_over_the_checked_address() -> None:
    receiver = Receiver(free_port())
    receiver.start()
    try:
        answer = sender.post(
            f"http://localhost:{receiver.port}/hooks",
            b'{"id": "evt"}',
            {"webhook-id": "evt"},
            timeout=5,
            allow_private=True,
            resolver=lambda host, port: ["127.0.0.1"],
        )
        assert answer.status_code == 204, answer
        [request] = receiver.wait_for(1)
    finally:
        receiver.stop()
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.body == b'{"id": "evt"}'


def test_a_private_address_is_refused_at_the_send_without_connecting() -> None:
    listener = _Listener()
    try:
        answer = sender.post(
            f"https://hooks.invalid:{listener.port}/hooks",
            b"{}",
            {},
            timeout=5,
            allow_private=False,
            resolver=lambda host, port: ["127.0.0.1"],
        )
    finally:
        listener.close()
    assert answer.status_code is None and "127.0.0.1" in (answer.error or "")
    assert listener.received == []


class _Dripping:
    """A loopback server that reads the request, then sends `head` at once and after it one byte
    every 0.2 s, forever: each read of the sender gets something well within its socket timeout."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.sock.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(self.head)
                while not self.stopped.wait(0.2):
                    connection.sendall(b"x" if self.head else b"H")
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def _post_in_time(port: int) -> tuple[sender.Answer | None, float]:
    """Post with a 1 s timeout from a thread; the answer (None if it took over 5 s) and the seconds taken."""
    result: list[sender.Answer] = []
    started = time.monotonic()
    thread = threading.Thread(
        target=lambda: result.append(
            sender.post(f"http://localhost:{port}/hooks", b"{}", {}, timeout=1, allow_private=True)
        ),
        daemon=True,
    )
    thread.start()
    thread.join(5)
    return (result[0] if result else None), time.monotonic() - started


def _answer_of_dripping(head: bytes) -> sender.Answer:
    """What a 1 s send gets from a receiver that sends `head`, then drips; it must end in time."""
    dripping = _Dripping(head)
    try:
        answer, took = _post_in_time(dripping.port)
    finally:
        dripping.close()
    assert answer is not None and took < 2.5, f"the send outlived its timeout ({took:.1f} s)"
    return answer


def test_a_receiver_dripping_its_status_line_is_no_answer_within_the_timeout() -> None:
    answer = _answer_of_dripping(b"")
    assert (answer.status_code, answer.error) == (None, "no answer within 1 s")


def test_a_status_in_time_counts_even_if_the_body_drips_on() -> None:
    answer = _answer_of_dripping(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nok")
    assert answer.status_code == 200 and answer.succeeded


def test_a_host_that_does_not_resolve_is_an_attempt_that_failed() -> None:
    answer = sender.post(
        "https://hooks.invalid/hooks", b"{}", {}, timeout=5, allow_private=False, resolver=lambda h, p: []
    )
    assert (answer.status_code, answer.error) == (None, "hooks.invalid does not resolve")


def _unanswering(address: str) -> tuple[socket.socket, list[socket.socket]]:
    """A listener on `address` whose accept queue (of one) is full: a further connection's SYN
    is dropped, and connecting hangs until the caller's timeout."""
    listener = socket.socket()
    listener.bind((address, 0))
    listener.listen(0)
    queued = socket.create_connection(listener.getsockname(), timeout=1)
    return listener, [queued]


def test_a_host_whose_addresses_do_not_answer_takes_the_timeout_once_not_once_per_address() -> None:
    """Two addresses, neither accepting: the send gives up after its timeout, not after two."""
    first, held = _unanswering("127.0.0.2")
    port = first.getsockname()[1]
    second = socket.socket()
    second.bind(("127.0.0.3", port))
    second.listen(0)
    held.append(socket.create_connection(("127.0.0.3", port), timeout=1))
    started = time.monotonic()
    try:
        answer = sender.post(
            f"https://hooks.invalid:{port}/hooks",
            b"{}",
            {},
            timeout=1,
            allow_private=True,
            resolver=lambda host, _port: ["127.0.0.2", "127.0.0.3"],
        )
    finally:
        for sock in (first, second, *held):
            sock.close()
    took = time.monotonic() - started
    assert (answer.status_code, answer.error) == (None, "no answer within 1 s")
    assert took < 1.8, f"the send took {took:.1f} s for a timeout of 1 s"
