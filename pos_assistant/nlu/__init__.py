"""Custom Rasa 3.6 NLU components for Chinese POS-dispute messages (see config.yml `pipeline:`)."""

from pos_assistant.nlu import jieba_viterbi

# Every component module imports this package first, so jieba is linear before any message.
jieba_viterbi.install()
