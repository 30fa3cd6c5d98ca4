"""The human-handoff queue: conversations waiting for, or taken by, a human agent."""
