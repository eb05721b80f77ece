"""The README's examples as a test: every ```sh block, in order, against a real faktur.

`faktur serve` (a real uvicorn process, from this code) runs on a fresh SQLite database and a free
port (FAKTUR_PORT, which the README's `$API` reads). Each block runs in bash with `set -euo
pipefail`, in a scratch directory whose `.venv` is this interpreter's environment; what a block
exports is carried into the next. curl runs with `--fail-with-body` (from a `.curlrc` in the
scratch HOME), so an HTTP error anywhere fails the test, `-o FILE` included. An exported value
that is empty or `null` (a `jq` that found nothing) fails too.

A comment `# -> ...` after commands states their answer: every `"key": value` in it must occur in
the last JSON document those commands printed (at any depth; `...` inside a string matches
anything; numbers compare as decimals), and a `[...]` answer must be a non-empty list. A leading
status code (`201`) is for the reader. Blocks fenced as ```sh no-run are not run (`scripts/run`
itself, synopses with placeholders, PostgreSQL-only workers); prose never matters. The ```python
verifier of the Webhooks section runs as written in tests/webhooks/test_readme_verifier.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import _free_port

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SHELLS = {"sh", "bash", "shell"}
EXPECTED = re.compile(r"^#\s*->\s?(?P<first>.*)$")
CONTINUATION = re.compile(r"^#\s{2,}(?P<more>.*)$")
PAIR = re.compile(r'"(?P<key>[^"]+)":\s*(?P<value>"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)')

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
    reason="bash, curl and jq are needed (scripts/bootstrap test installs them when apt-get can)",
)


@dataclass(frozen=True)
class Step:
    """Commands of a block up to a stated answer (or the block's end), and that answer."""

    block: int
    line: int
    commands: str
    expected: str | None


def runnable_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number, body) of every shell block not marked no-run, in order."""
    blocks = []
    for match in FENCE.finditer(markdown):
        info = match.group("info").split()
        if not info or info[0] not in SHELLS or "no-run" in info[1:]:
            continue
        blocks.append((markdown.count("\n", 0, match.start("body")) + 1, match.group("body")))
    return blocks


def steps(markdown: str) -> list[Step]:
    result = []
    for index, (first_line, body) in enumerate(runnable_blocks(markdown)):
        lines = body.splitlines()
        commands: list[str] = []
        start = first_line
        position = 0
        while position < len(lines):
            expected = EXPECTED.match(lines[position])
            if expected is None:
                commands.append(lines[position])
                position += 1
                continue
            answer = [expected.group("first")]
            position += 1
            while position < len(lines) and (more := CONTINUATION.match(lines[position])):
                answer.append(more.group("more"))
                position += 1
            result.append(Step(index, start, "\n".join(commands), " ".join(answer)))
            commands, start = [], first_line + position
        if any(line.strip() and not line.lstrip().startswith("#") for line in commands):
            result.append(Step(index, start, "\n".join(commands), None))
    return result


def json_documents(output: str) -> list[Any]:
    """Every JSON document printed one after another (curl -s prints no newline between them)."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    documents, position = [], 0
    while position < len(output):
        start = min(
            (i for i in (output.find("{", position), output.find("[", position)) if i >= 0), default=-1
        )
        if start < 0:
            break
        try:
            document, position = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        documents.append(document)
    return documents


def _values(document: Any, key: str) -> Iterator[Any]:
    if isinstance(document, dict):
        for name, value in document.items():
            if name == key:
                yield value
            yield from _values(value, key)
    elif isinstance(document, list):
        for item in document:
            yield from _values(item, key)


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return False
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        return re.fullmatch(pattern, actual, re.DOTALL) is not None
    if isinstance(expected, Decimal | int) and not isinstance(expected, bool):
        return (
            isinstance(actual, Decimal | int) and not isinstance(actual, bool) and Decimal(actual) == expected
        )
    return expected is actual or expected == actual


def mismatches(expected: str, output: str) -> list[str]:
    """What the stated answer says that the last JSON document printed does not (empty: all holds)."""
    documents = json_documents(output)
    if not documents:
        return [f"no JSON answer to check against {expected!r}: {output[-500:]!r}"]
    answer = documents[-1]
    stated = re.sub(r"^\d{3}\s+", "", expected.strip())
    problems = []
    if stated.startswith("["):
        if not isinstance(answer, list) or not answer:
            problems.append(f"expected a non-empty list, got {answer!r}")
        else:
            for item in re.findall(r'"((?:[^"\\]|\\.)*)"', stated.split("]")[0]):
                if item != "..." and not any(_matches(item, value) for value in answer):
                    problems.append(f"no item like {item!r} in {answer!r}")
    pairs = list(PAIR.finditer(stated))
    if not pairs and not stated.startswith("["):
        problems.append(f'the stated answer {expected!r} names no "key": value to check')
    for pair in pairs:
        key = pair.group("key")
        value = json.loads(pair.group("value"), parse_float=Decimal)
        found = list(_values(answer, key))
        if not any(_matches(value, candidate) for candidate in found):
            problems.append(f'"{key}": {pair.group("value")} stated, answered {found or "nothing"}')
    return problems


def _environment(scratch: Path, database: Path, port: int) -> dict[str, str]:
    home = scratch / "home"
    home.mkdir()
    # Every HTTP error fails the command (and with it the test), body shown.
    (home / ".curlrc").write_text("fail-with-body\nshow-error\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("FAKTUR_")}
    env.update(
        HOME=str(home),
        FAKTUR_DATABASE_URL=f"sqlite:///{database}",
        FAKTUR_PORT=str(port),
        COLUMNS="200",
    )
    return env


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    # The README runs `.venv/bin/faktur`: the environment of this interpreter, so this code.
    (work / ".venv").symlink_to(Path(sys.prefix))
    return work


@pytest.fixture
def readme_env(scratch: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = _free_port()
    env = _environment(tmp_path, tmp_path / "readme.sqlite3", port)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(scratch / ".venv" / "bin" / "faktur"), "serve", "--port", str(port)],
        cwd=scratch,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "faktur serve did not answer within 60 s"
            time.sleep(0.2)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def run_step(step: Step, scratch: Path, env: dict[str, str], state: Path) -> subprocess.CompletedProcess[str]:
    script = "\n".join(
        [
            "set -euo pipefail",
            f"source {shlex.quote(str(state))}",
            step.commands,
            f"export -p > {shlex.quote(str(state))}",
        ]
    )
    return subprocess.run(
        ["bash", "-c", script], cwd=scratch, env=env, capture_output=True, text=True, timeout=300
    )


def exported(state: Path) -> dict[str, str]:
    found = re.findall(r'^declare -x (\w+)="(.*)"$', state.read_text(), re.MULTILINE)
    return dict(found)


def test_every_readme_example_runs_as_written(
    scratch: Path, readme_env: dict[str, str], tmp_path: Path
) -> None:
    all_steps = steps(README.read_text())
    assert len({step.block for step in all_steps}) >= 6, "the README's runnable blocks were not found"
    assert sum(step.expected is not None for step in all_steps) >= 10
    state = tmp_path / "state.sh"
    state.write_text("")
    for step in all_steps:
        before = exported(state)
        result = run_step(step, scratch, readme_env, state)
        where = f"README.md line {step.line}"
        assert result.returncode == 0, f"{where} failed:\n{step.commands}\n{result.stdout}\n{result.stderr}"
        for name, value in exported(state).items():
            if before.get(name) != value:
                assert value not in ("", "null"), (
                    f"{where}: {name} was exported as {value!r}\n{step.commands}"
                )
        if step.expected is not None:
            problems = mismatches(step.expected, result.stdout)
            assert problems == [], f"{where}: the README's answer does not hold:\n" + "\n".join(problems)


def test_a_stated_answer_that_does_not_hold_is_reported() -> None:
    printed = '{"id": "a1", "number": "INV-2026-00001", "total": "1838.29", "lines": [{"quantity": "3"}]}'
    assert mismatches('"number": "INV-...-00001", "total": "1838.29", "quantity": "3"', printed) == []
    assert mismatches('"total": "1838.30"', printed) != []
    assert mismatches('"number": "INV-...-00002"', printed) != []
    assert mismatches('"missing": true', printed) != []
    assert mismatches('201 ["Inv_..."]', '["Inv_0b5e"]') == []
    assert mismatches('201 ["Inv_..."]', "[]") != []
    assert mismatches('"amount": 100.00', '{"amount": 100}') == []
    assert mismatches('"amount": 100.00', '{"amount": "100.00"}') != []
