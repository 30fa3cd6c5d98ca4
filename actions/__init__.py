"""Custom actions served by the rasa_sdk action server (`python -m pos_assistant.action_server`)."""

from pos_assistant.log_masking import install_log_masking

# The action server's logging is set up before this package is imported: mask what it writes.
install_log_masking()
