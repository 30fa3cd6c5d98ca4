"""Evidence photos users send (widget uploads, WeChat image messages), attached to their case."""
