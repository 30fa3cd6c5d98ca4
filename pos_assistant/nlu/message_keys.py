"""Keys under which the custom components leave data on a Rasa `Message`."""

# The user's original text and, per normalized character, its [start, end) in the original.
# Internal to the pipeline: not part of the parse result.
NORMALIZATION = "pos_normalization"
# Set by SafetyGuard and included in the parse result (tracker.latest_message["safety_guard"]),
# so actions can tell a forced scam warning from a classified intent.
SAFETY_GUARD = "safety_guard"
# Set by SafetyGuard when the user typed their own card/ID number, code or password (no scam asked
# for it): {"secrets": ["card_number", ...]}. The action server then asks them not to.
SENSITIVE_DATA = "sensitive_data"
# Set by LexicalIntentBlender only when its `report_sources` option is on (cross-validation):
# the full DIET and character n-gram distributions before blending.
INTENT_SOURCES = "intent_sources"
# Set by TokenWindow on a message longer than its window: the text of the kept tokens (head and
# tail joined by a space), which the LexicalIntentBlender classifies instead of the whole text.
# Internal to the pipeline.
WINDOWED_TEXT = "pos_windowed_text"
