"""Where the tests find the documents kept beside the project: the source articles (`seeds/`) and
`docs/domain-facts.md` that every knowledge item cites.

They live in a `shared/` folder next to the clone (`../shared/seeds/`), or in any folder further
up (a git worktree one level deeper), or where `POS_SHARED_DIR` points. Under `make test`
(`POS_TESTS_STRICT=1`, set by scripts/test.sh) or in CI (`CI=true`), a test that needs them fails
when they are missing instead of being skipped, so a fresh clone never passes without checking
its sources.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import PROJECT_ROOT

SHARED_DIR_ENV = "POS_SHARED_DIR"
STRICT_ENV = "POS_TESTS_STRICT"


def strict() -> bool:
    """True under `make test` and in CI: missing prerequisites fail instead of skipping."""
    return os.environ.get(STRICT_ENV) == "1" or os.environ.get("CI", "").lower() == "true"


def find_shared_dir(start: Path = PROJECT_ROOT) -> Path | None:
    """`$POS_SHARED_DIR`, else the nearest `shared/` with a `seeds/` folder beside an ancestor."""
    override = os.environ.get(SHARED_DIR_ENV)
    if override:
        return Path(override)
    for folder in start.parents:
        if (folder / "shared" / "seeds").is_dir():
            return folder / "shared"
    return None


def shared_dir_or_skip() -> Path:
    """The shared folder; skips the test when it is missing, or fails it under `make test`/CI."""
    found = find_shared_dir()
    if found is not None and (found / "seeds").is_dir():
        return found
    problem = (
        f"the source documents are missing: no shared/seeds/ beside {PROJECT_ROOT} or above it"
        f" (or set {SHARED_DIR_ENV}; looked at {found})"
    )
    if strict():
        pytest.fail(problem)
    pytest.skip(problem)
