"""Shared fixtures. End-to-end tests share one real Rasa server + action server per session."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from tests.e2e.stack import RasaStack, running_stack

# Throwaway PostgreSQL and Redis servers, for the store tests and the scale-out test.
pytest_plugins = ["tests.pg", "tests.redis_server"]

_sender_counter = itertools.count(1)


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as stack:
        yield stack


@pytest.fixture
def sender(request: pytest.FixtureRequest) -> str:
    """A fresh conversation id per test, readable in logs."""
    # Rasa's HTTP API does not percent-decode conversation ids: keep them to URL-safe characters.
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name[:40])
    return f"{readable}-{next(_sender_counter)}"
