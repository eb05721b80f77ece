"""The vendor documents the dialects must honour, read from the seed files.

Seeds 000-002 embed an OpenAPI document in a Markdown fence (```` ````yaml <label> ````); it is
extracted here, unchanged, for schemathesis. The seeds are kept in tests/dialects/seeds/ (copies
of ../shared/seeds/, checked to be identical when that directory exists).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

SEEDS = Path(__file__).parent / "seeds"
SHARED_SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

_FENCE = re.compile(r"^````ya?ml[^\n]*\n(?P<body>.*?)^````\s*$", re.MULTILINE | re.DOTALL)


def seed_path(number: str) -> Path:
    """The seed file numbered `number` ('000' ... '004')."""
    matches = sorted(SEEDS.glob(f"{number}_*.txt"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one seed {number}_*.txt in {SEEDS}, found {len(matches)}")
    return matches[0]


def seed_text(number: str) -> str:
    return seed_path(number).read_text(encoding="utf-8")


def seed_openapi(number: str) -> dict[str, Any]:
    """The OpenAPI document embedded in seed `number`, parsed from its YAML fence."""
    found = _FENCE.search(seed_text(number))
    if found is None:
        raise ValueError(f"seed {number} embeds no ````yaml fence")
    document = yaml.safe_load(found.group("body"))
    if not isinstance(document, dict) or "openapi" not in document or "paths" not in document:
        raise ValueError(f"the fence of seed {number} is not an OpenAPI document")
    return document
