"""Library code of the POS dispute assistant: NLU components, knowledge, case store, channels."""

import sys

# In a process running Rasa's dialogue engine (the Rasa server, `rasa test`, `rasa shell`), which
# imports this package for our tracker store and NLU components: remove per-turn costs Rasa does
# not need (pos_assistant/rasa_patches.py). The action server and our tools never load it.
if "rasa.core.actions.action" in sys.modules:
    from pos_assistant import rasa_patches

    rasa_patches.install()
