"""The request body limit: refused with 413 before the body is read, authentication included."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import Tenant
from faktur.app import create_app
from faktur.config import Settings
from live_server import uvicorn_process

BIG = 400 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A real uvicorn process serving faktur with the default settings: (port, pid)."""
    with uvicorn_process(database_url, tmp_path) as process:
        yield int(process.base_url.rsplit(":", 1)[1]), process.pid


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    peak_kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(peak_kb) / 1024


def _post_huge_body(port: int, chunked: bool) -> bytes:
    """POST 400 MB to /v1/customers without an API key; returns the response head and body seen."""
    head = [b"POST /v1/customers HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: application/json"]
    head.append(b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}".encode())
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"\r\n".join(head) + b"\r\n\r\n")

    def send_body() -> None:
        # The server may answer and close long before the body is sent: stop at the first refusal.
        try:
            for _ in range(BIG // len(CHUNK)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK)
        except OSError:
            pass

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    answer = b""
    sock.settimeout(60)
    try:
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    finally:
        sock.close()
        sender.join(timeout=60)
    return answer


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content_length", "chunked"])
def test_400_mb_body_without_key_is_refused_with_413_and_server_memory_stays_bounded(
    server: tuple[int, int], chunked: bool
) -> None:
    port, pid = server
    answer = _post_huge_body(port, chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"payload_too_large"' in answer
    assert _peak_rss_mb(pid) < 300
    # The server is still serving.
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200


@pytest.fixture
def small_limit_client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url, create_demo_organisation=False, max_request_body_bytes=1000
    )
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield client


def _assert_payload_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "1000 bytes" in error["message"]


def test_declared_length_above_the_setting_is_refused_before_authentication(
    small_limit_client: TestClient,
) -> None:
    response = small_limit_client.post(
        "/v1/customers",
        content=b'{"name": "' + b"x" * 2000 + b'"}',
        headers={"content-type": "application/json"},
    )
    _assert_payload_too_large(response)


def test_chunked_body_above_the_setting_is_refused_once_it_passes_the_limit(
    small_limit_client: TestClient, tenant: Tenant
) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    response = small_limit_client.post(
        "/v1/customers", content=body(), headers={**tenant.headers, "content-type": "application/json"}
    )
    _assert_payload_too_large(response)
    assert small_limit_client.get("/v1/customers", headers=tenant.headers).json()["data"] == []


def test_body_within_the_setting_is_served(small_limit_client: TestClient, tenant: Tenant) -> None:
    response = small_limit_client.post(
        "/v1/customers",
        json={"name": "x" * 200, "address_line1": "y" * 200, "city": "z" * 100, "metadata": {"k": "v" * 300}},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("prefix", ["/compat/zenskar", "/compat/iw-erp", "/compat/wingback"])
def test_dialects_refuse_it_with_413_in_their_error_shape(
    small_limit_client: TestClient, prefix: str
) -> None:
    response = small_limit_client.post(
        f"{prefix}/v1/invoices", content=b"x" * 2000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "1000 bytes" in response.text
    assert "error" not in response.json()  # the vendor's shape, not faktur's
