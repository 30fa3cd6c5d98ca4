"""Every regex that reads user text runs in time linear in the text, on any input.

A pattern with nested or adjacent unbounded quantifiers over the same characters backtracks in n²
steps or worse: "SN" followed by 20,000 spaces kept the server busy for 40 s. Each pattern of the
text-handling modules is run over inputs built from its own labels and character classes (a label
followed by a long run of one character, a label repeated), first short to find each pattern's
slowest inputs, then those again at 20,000 characters, where n² steps take seconds and linear
work takes a few milliseconds.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sre_constants
import sre_parse
import time
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from types import ModuleType
from typing import Any

import pytest

import pos_assistant.nlu
from pos_assistant.nlu import project_files
from pos_assistant.nlu.normalization import TextNormalization

SHORT, LONG = 400, 20_000
# Linear work on 20,000 characters takes about a millisecond per pattern; n² takes seconds.
LONG_BUDGET_SECONDS = 0.1
SLOWEST_KEPT = 6
GENERIC_CHARS = (" ", "\t", "\n", "\u3000", "1", "１", "一", "十", "a", "X", "我", "-", ".", ":")
GENERIC_PAIRS = ("1 ", "1-", "1.", "a1", "is", "是 ", "1块", "十个")


def _modules() -> list[ModuleType]:
    names = [
        f"pos_assistant.nlu.{info.name}"
        for info in pkgutil.iter_modules(pos_assistant.nlu.__path__)
    ]
    names += [
        "pos_assistant.privacy",
        "pos_assistant.disclosed_secrets",
        "pos_assistant.cases.identifiers",
        "pos_assistant.knowledge.prefill",
    ]
    return [importlib.import_module(name) for name in names]


def _patterns_in(value: Any, seen: set[int]) -> Iterator[re.Pattern[str]]:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        if isinstance(value.pattern, str):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _patterns_in(item, seen)
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            yield from _patterns_in(getattr(value, field.name), seen)


def compiled_patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern of the modules, plus the normalization table's (built at runtime)."""
    found: dict[str, re.Pattern[str]] = {}
    seen: set[int] = set()
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern | dict | list | tuple) or (
                is_dataclass(value) and not isinstance(value, type)
            ):
                for index, pattern in enumerate(_patterns_in(value, seen)):
                    found[f"{module.__name__}.{name}[{index}]"] = pattern
    table = project_files.read_yaml("data/normalization.yml").get("replacements") or {}
    normalization = TextNormalization({str(key): str(item) for key, item in table.items()})
    found["normalization table"] = normalization._replacement_pattern
    return found


def _parts(parsed: sre_parse.SubPattern, labels: set[str], chars: set[str]) -> None:
    """Collects the literal strings (labels) and the characters a pattern can consume."""
    literal = ""
    for op, value in parsed:
        if op is sre_constants.LITERAL:
            literal += chr(value)
            chars.add(chr(value))
            continue
        if literal:
            labels.add(literal)
            literal = ""
        if op is sre_constants.IN:
            for item_op, item in value:
                if item_op is sre_constants.LITERAL:
                    chars.add(chr(item))
                elif item_op is sre_constants.RANGE:
                    chars.update(chr(code) for code in (item[0], (item[0] + item[1]) // 2, item[1]))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _parts(value[2], labels, chars)
        elif op is sre_constants.SUBPATTERN:
            _parts(value[3], labels, chars)
        elif op is sre_constants.BRANCH:
            for branch in value[1]:
                _parts(branch, labels, chars)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _parts(value[1], labels, chars)
    if literal:
        labels.add(literal)


Recipe = tuple[str, str, str]  # label, what is repeated after it, last character


def recipes(pattern: re.Pattern[str]) -> list[Recipe]:
    """Inputs shaped after the pattern: each label followed by a long run, each label repeated."""
    labels: set[str] = set()
    chars: set[str] = set()
    _parts(sre_parse.parse(pattern.pattern, pattern.flags), labels, chars)
    label_list = ["", *sorted(labels, key=lambda label: (len(label), label))[:40]]
    runs = sorted(chars)[:60] + list(GENERIC_CHARS) + list(GENERIC_PAIRS)
    result: list[Recipe] = []
    for label in label_list:
        result += [(label, run, end) for run in runs for end in ("!", "个")]
        if label:
            result += [("", label + joiner, "") for joiner in ("", " ", "1", "是")]
    return result


def build(recipe: Recipe, length: int) -> str:
    label, run, end = recipe
    return label + run * (length // len(run)) + end


def _duration(pattern: re.Pattern[str], text: str) -> float:
    start = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    return time.perf_counter() - start


def test_the_pattern_collection_finds_the_known_patterns() -> None:
    names = set(compiled_patterns())
    assert any(name.startswith("pos_assistant.nlu.id_patterns.ID_PATTERNS") for name in names)
    assert any(
        name.startswith("pos_assistant.disclosed_secrets._LABELLED_NUMBER") for name in names
    )
    assert any(name.startswith("pos_assistant.nlu.safety_guard.SCAM_TOPICS") for name in names)
    assert len(names) > 30


@pytest.mark.parametrize(("name", "pattern"), sorted(compiled_patterns().items()))
def test_pattern_is_linear_on_adversarial_input(name: str, pattern: re.Pattern[str]) -> None:
    # The slowest short inputs, made long: linear patterns stay fast, quadratic ones do not.
    timed = sorted(
        ((_duration(pattern, build(recipe, SHORT)), recipe) for recipe in recipes(pattern)),
        reverse=True,
    )
    for _, recipe in timed[:SLOWEST_KEPT]:
        text = build(recipe, LONG)
        elapsed = min(_duration(pattern, text) for _ in range(2))
        assert elapsed < LONG_BUDGET_SECONDS, (
            f"{name} took {elapsed:.2f} s on {len(text)} chars {text[:30]!r}…: {pattern.pattern!r}"
        )
