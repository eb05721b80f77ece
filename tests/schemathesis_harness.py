"""Schemathesis, two ways.

`run_contract`: contract tests of a dialect against its vendor's OpenAPI document. Each operation
of the seed's document is exercised with generated requests, valid and invalid ones, sent
in-process to the ASGI app under the dialect's prefix with a working API key in the vendor's
header. Every response must have a documented status code and content type and match the
documented schema, and none may be a server error.

`run_all_phases`: schemathesis's own runner (every phase: examples, coverage, fuzzing, stateful)
over faktur's whole OpenAPI document, against a server over HTTP; it checks for server errors.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


Steer = Callable[[Any, Callable[[st.SearchStrategy[Any]], Any]], None]


def run_contract(
    app: FastAPI,
    document: dict[str, Any],
    prefix: str,
    headers: dict[str, str],
    *,
    max_examples: int = 30,
    prepare: Steer | None = None,
    undocumented: frozenset[int] = frozenset(),
) -> list[int]:
    """Run every operation of `document` against `app` at `prefix`; return the statuses seen.

    `prepare(case, draw)` may steer some valid cases toward data the service accepts (known ids,
    consistent amounts), so that success responses are checked against their schema too;
    without it random data rarely gets past business validation. `undocumented` names error
    statuses the issue requires although the vendor's document omits them (Wingback documents
    only its successes); they are allowed, every other status must be documented.
    """
    schema = schemathesis.openapi.from_dict(document)
    seen: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            steer = prepare if mode is GenerationMode.POSITIVE else None
            strategy = operation.as_strategy(generation_mode=mode)
            _exercise(app, strategy, prefix, headers, max_examples, steer, seen, undocumented)
    return seen


def _exercise(
    app: FastAPI,
    strategy: st.SearchStrategy[Any],
    prefix: str,
    headers: dict[str, str],
    max_examples: int,
    steer: Steer | None,
    seen: list[int],
    undocumented: frozenset[int],
) -> None:
    @settings(
        max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy, data=st.data())
    def exercise(case: Any, data: st.DataObject) -> None:
        if steer is not None:
            steer(case, data.draw)
        response = case.call(base_url=f"http://testserver{prefix}", app=app, headers=headers)
        seen.append(response.status_code)
        if response.status_code in undocumented:
            return  # 4xx statuses the issue requires; the caller asserts none is a 500
        case.validate_response(response, checks=CHECKS, headers=headers)

    exercise()


@dataclass(frozen=True)
class RunResult:
    returncode: int
    output: str


def run_all_phases(schema_url: str, headers: dict[str, str], max_examples: int, workdir: Path) -> RunResult:
    """`st run` with every phase and at most `max_examples` cases per operation and phase; the
    `headers` go with every request. Failing cases are written as pytest reproductions to `workdir`."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        schema_url,
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={max_examples}",
        "--checks=not_a_server_error",
        "--request-timeout=120",
        "--generation-database=none",
        "--no-color",
        "--report=pytest",
        f"--report-dir={workdir}",
    ]
    for name, value in headers.items():
        command.append(f"--header={name}: {value}")
    # Run in `workdir`: schemathesis keeps a cache of what it found in .schemathesis/ of its cwd.
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=workdir)
    return RunResult(completed.returncode, completed.stdout + completed.stderr)
