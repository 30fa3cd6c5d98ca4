"""What staff work with: the command-line tool, the agent's view of a conversation (transcript,
recommended steps) and the calls to the Rasa server. Run `python -m pos_assistant.staff --help`."""
