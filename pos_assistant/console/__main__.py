"""`python -m pos_assistant.console`: serve the agent console (see app.py)."""

from pos_assistant.console.app import main

main()
