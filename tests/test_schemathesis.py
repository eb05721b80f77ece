"""Schemathesis over the whole OpenAPI document (native API and every dialect), all phases, against
a real uvicorn process on each database: no request may end in a server error.

Slow: about 3.5 CPU-minutes per database, 2-4 minutes on an idle two-core machine (figures in
docs/benchmarks.md). Run alone with `.venv/bin/pytest -n 0 tests/test_schemathesis.py -m slow`.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from conftest import Tenant
from live_server import uvicorn_process
from schemathesis_harness import run_all_phases

MAX_EXAMPLES = 200


@pytest.mark.slow
def test_no_generated_request_ends_in_a_server_error(
    database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    with uvicorn_process(database_url, tmp_path) as server:
        operations = [
            (method.upper(), path)
            for path, item in httpx.get(f"{server.base_url}/openapi.json").json()["paths"].items()
            for method in item
        ]
        headers = {
            # Every scheme the native API and the dialects authenticate with, one key behind all.
            "Authorization": f"Bearer {tenant.api_key}",
            "X-API-Key": tenant.api_key,
            "organisation": str(tenant.organisation_id),
            "wb-key": tenant.api_key,
            "accessToken": tenant.api_key,
        }
        result = run_all_phases(f"{server.base_url}/openapi.json", headers, MAX_EXAMPLES, tmp_path)
    log = (tmp_path / "uvicorn.log").read_text()
    assert result.returncode == 0, result.output[-20_000:]
    assert f"Tested: {len(operations)}" in result.output, result.output[-5_000:]
    assert ("POST", "/v1/billing-runs") in operations and '"POST /v1/billing-runs HTTP/1.1" 202' in log
    server_errors = re.findall(r'"[A-Z]+ [^"]*" 5\d\d [^\n]*', log)
    assert server_errors == [], server_errors[:20]
