"""Each attack of docs/security.md as a test against the running servers (tests/e2e/stack.py)."""
