"""Makes user text safe to print on a staff member's terminal.

User text may carry terminal escape sequences (recolour, move the cursor, rewrite the title, hide
lines), other C0/C1 control characters (carriage return overwrites the line an agent reads) and
bidirectional overrides (make "13800000000 转账" read backwards). All of them are removed; newline
and tab are kept, except where a value must stay on one line.
"""

from __future__ import annotations

import re
import unicodedata

# Whole escape sequences go, so no "[31m" debris is left: CSI (ESC [ … final byte), OSC
# (ESC ] … BEL or ESC \), and any other two-character ESC sequence. Linear on any input: every
# alternative starts at an ESC/CSI byte, the parameter classes of CSI are disjoint, and the OSC
# body excludes its terminators.
_ESCAPE_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
# Bidirectional embeddings, overrides, isolates and marks (Trojan-Source style reordering).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_KEPT_CONTROLS = frozenset("\n\t")


def _is_removed(character: str) -> bool:
    if character in _KEPT_CONTROLS:
        return False
    if character in _BIDI_CONTROLS:
        return True
    # Cc: C0 (incl. CR, BS, BEL), DEL and C1; Zl/Zp: line/paragraph separators some terminals
    # honour.
    return unicodedata.category(character) in ("Cc", "Zl", "Zp")


def strip_control_characters(text: object, *, keep_newlines: bool = True) -> str:
    """`text` without escape sequences, control characters or bidi overrides.

    With `keep_newlines=False` newlines and tabs become spaces (for one-line fields).
    """
    cleaned = _ESCAPE_SEQUENCES.sub("", str(text))
    cleaned = "".join(character for character in cleaned if not _is_removed(character))
    if not keep_newlines:
        cleaned = cleaned.replace("\n", " ").replace("\t", " ")
    return cleaned
