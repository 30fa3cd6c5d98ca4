"""Custom Rasa 3.6 NLU components for Chinese POS-dispute messages (see config.yml `pipeline:`)."""
