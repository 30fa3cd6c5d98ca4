"""Library code of the POS dispute assistant: NLU components, knowledge, case store, channels."""

import os
import sys

# In a process running Rasa's dialogue engine (the Rasa server, `rasa test`, `rasa shell`), which
# imports this package for our tracker store and NLU components: remove per-turn costs Rasa does
# not need (pos_assistant/rasa_patches.py). The action server and our tools never load it.
# POS_RASA_PATCHES=off keeps Rasa as shipped (`make bench` measures stock Rasa that way).
if "rasa.core.actions.action" in sys.modules and os.environ.get("POS_RASA_PATCHES") != "off":
    from pos_assistant import rasa_patches

    rasa_patches.install()

# There too: calls to the action server time out after a few seconds and the user gets an
# apology instead of silence (pos_assistant/action_timeouts.py). Behaviour, not speed: always on.
if "rasa.core.actions.action" in sys.modules:
    from pos_assistant import action_timeouts

    action_timeouts.install()

# There too: a bounded number of turns at once, each finished even if its client gave up
# (pos_assistant/turn_admission.py).
if "rasa.core.actions.action" in sys.modules:
    from pos_assistant import turn_admission

    turn_admission.install()
