"""Where a turn's time goes, from py-spy's collapsed stacks (`py-spy record -f raw`).

Each line of the input is `frame;frame;...;frame count`. A sample counts for a row when any frame
of its stack contains the row's pattern (inclusive time), so rows can overlap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# (what, frame patterns): a sample counts when one of its frames contains one of the patterns.
ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("whole message handling (`handle_message`)", ("handle_message (rasa/core/agent.py",)),
    ("NLU: `parse_message` (the whole pipeline)", ("parse_message (rasa/core/processor.py",)),
    ("policy prediction (`_predict_next_with_tracker`)", ("_predict_next_with_tracker",)),
    ("… of which TensorFlow", ("tensorflow/",)),
    ("custom action calls (`RemoteAction.run`)", ("run (rasa/core/actions/action.py:7",)),
    ("… validating the action server's answer (jsonschema)", ("jsonschema/",)),
    ("… tracker state sent to the action server (`current_state`)", ("current_state (rasa/",)),
    (
        "… domain sent to the action server (`Domain.as_dict`)",
        ("as_dict (rasa/shared/core/domain",),
    ),
    (
        "tracker store: load (`retrieve` / `get_or_create_tracker`)",
        ("retrieve (", "get_or_create_tracker"),
    ),
    (
        "tracker store: save",
        ("save (pos_assistant/tracker_store.py", "save (rasa/core/tracker_store"),
    ),
    ("… masking (`mask_event_data`)", ("mask_event_data",)),
    ("`action_validate_slot_mappings` / slot extraction", ("run_action_extract_slots",)),
]


def read_stacks(path: Path) -> list[tuple[str, int]]:
    stacks: list[tuple[str, int]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack, int(count)))
    return stacks


def shares(stacks: list[tuple[str, int]]) -> list[tuple[str, float]]:
    total = sum(count for _, count in stacks) or 1
    rows = []
    for label, patterns in ROWS:
        hits = sum(count for stack, count in stacks if any(p in stack for p in patterns))
        rows.append((label, round(100.0 * hits / total, 1)))
    return rows


def hottest_leaves(stacks: list[tuple[str, int]], limit: int = 15) -> list[tuple[str, float]]:
    """The functions most often on top of the stack (self time), idle excluded."""
    total = sum(count for _, count in stacks) or 1
    leaves: dict[str, int] = {}
    for stack, count in stacks:
        leaf = stack.rsplit(";", 1)[-1]
        leaves[leaf] = leaves.get(leaf, 0) + count
    ordered = sorted(leaves.items(), key=lambda item: -item[1])
    return [(leaf, round(100.0 * count / total, 1)) for leaf, count in ordered[:limit]]


def render(stacks: list[tuple[str, int]], title: str) -> str:
    total = sum(count for _, count in stacks)
    lines = [
        f"## {title}",
        "",
        f"{total} samples of the Rasa server's main thread (inclusive: rows overlap).",
        "",
        "| share of samples | what |",
        "|---:|---|",
    ]
    lines += [f"| {share} % | {label} |" for label, share in shares(stacks)]
    lines += ["", "Hottest functions (self time):", "", "| share | function |", "|---:|---|"]
    lines += [f"| {share} % | `{leaf}` |" for leaf, share in hottest_leaves(stacks)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--title", default="Where a turn's time goes")
    args = parser.parse_args()
    print(render(read_stacks(args.raw), args.title))


if __name__ == "__main__":
    main()
