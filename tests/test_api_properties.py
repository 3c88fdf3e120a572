"""Property-based API tests with schemathesis over the server's own OpenAPI document, against a real
server process (`meeting serve --demo`): whatever an operation is sent, it answers without a server
error, with a status and a body its documentation describes."""

from __future__ import annotations

import itertools
import json
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.servers import demo_server_process

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis import Case

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A demo server's base URL and an administrator's token (every operation is open to them)."""
    with demo_server_process(tmp_path_factory.mktemp("schemathesis")) as base:
        login = json.dumps({"username": "admin", "password": "demo"}).encode()
        request = urllib.request.Request(
            f"{base}/api/auth/login", data=login, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            yield base, json.load(response)["access_token"]


@pytest.fixture(scope="module")
def api_schema(demo_api: tuple[str, str]) -> Any:
    base, _ = demo_api
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    # Logging out would spend the token the other cases use; it has its own tests.
    return schema.exclude(path="/api/auth/logout")


def test_every_operation_answers_within_its_documentation(api_schema: Any, demo_api: tuple[str, str]) -> None:
    base, token = demo_api
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 60  # the whole API, not an empty document

    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def answers_as_documented(case: Case) -> None:
            response = case.call(base_url=base, headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            answers_as_documented()
        except Unsatisfiable:
            continue  # nothing in the request to get wrong (GET /health, GET /api/users): no invalid data
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all failures reported
            failures.append(
                f"{operation.method.upper()} {operation.path} ({mode.value} data): {str(exc)[:600]}"
            )
    assert not failures, "\n\n".join(failures)
