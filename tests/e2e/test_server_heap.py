"""The Rasa server freezes what it loaded at start-up (pos_assistant/channels/heap.py)."""

from __future__ import annotations

import re

from tests.e2e.stack import RasaStack

MODEL_LOADED = "Rasa server is up and running."  # logged by Rasa once load_agent_on_start is done
FROZE = re.compile(r"Froze (\d+) objects loaded at start-up")


def test_the_server_freezes_its_heap_after_the_model_has_loaded(rasa_stack: RasaStack) -> None:
    rasa_stack.texts("heap-check", "你好")  # the server is up and answering
    log = (rasa_stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    freezes = list(FROZE.finditer(log))
    assert len(freezes) == 3  # one listener per channel in credentials.yml
    # Frozen before the model had loaded, the model's objects would still be scanned.
    assert log.index(MODEL_LOADED) < freezes[0].start()
    assert all(int(freeze.group(1)) > 100_000 for freeze in freezes)
