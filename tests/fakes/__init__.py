"""Local stand-ins for external services the tests must not call."""
