"""The seed copies the dialect tests read are the vendor documents, and their OpenAPI parses."""

from __future__ import annotations

import pytest
import schemathesis
from seed_openapi import SHARED_SEEDS, seed_openapi, seed_path


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_seed_copy_is_identical_to_the_shared_seed(number: str) -> None:
    original = SHARED_SEEDS / seed_path(number).name
    if not SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present in this checkout")
    assert seed_path(number).read_bytes() == original.read_bytes()


@pytest.mark.parametrize(
    ("number", "path", "statuses"),
    [
        ("000", "/v1/c/invoice", {"200", "201"}),
        ("001", "/invoices/generate_invoice", {"200", "422"}),
        ("002", "/v1/invoices", {"201", "400", "401", "403", "404", "500"}),
    ],
)
def test_embedded_openapi_is_extracted_and_loads(number: str, path: str, statuses: set[str]) -> None:
    document = seed_openapi(number)
    assert set(document["paths"]) == {path}
    assert set(document["paths"][path]["post"]["responses"]) == statuses
    operations = [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]
    assert [(op.method.upper(), op.path) for op in operations] == [("POST", path)]
