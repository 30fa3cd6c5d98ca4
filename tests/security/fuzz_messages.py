"""Seeded random and adversarial user messages for the parse fuzz test (no network, no files)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

MAX_LENGTH = 1000

# Labels that patterns react to: a label followed by a long run is what made regexes quadratic.
LABELS = (
    "SN", "S/N", "sn码", "机身号", "机身编号", "序列号", "编号", "终端号", "验证码", "校验码",
    "动态码", "短信码", "code", "verification code", "密码", "password", "押金", "CS", "cs ",
    "sf ", "JD", "单号", "运单号", "快递号", "卡号", "身份证", "手机", "+86", "是", "为", ":",
    "：", "is",
)  # fmt: skip
WHITESPACE = (" ", "\t", "\n", "\r", "\u3000", "\xa0", "\u2003", "\u200b", "\ufeff")
DIGITS = "0123456789０１２３４５６７８９零〇一二三四五六七八九幺两十百千万亿壹贰叁"
SEPARATORS = (" ", "-", ".", "－", "—", "·", "．", "\t", "  ", " - ")
CJK = "你好我想退押金机器没激活对方让我报验证码快递到付拒收礼品没寄工单状态怎么办谢谢人工客服的了是"
SCRIPTS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "가나다라마바사아자차카타파하",
    "กขคงจฉชซฌญฎฏฐ",
    "αβγδεζηθικλμνξοπρστυφχψω",
    "ｱｲｳｴｵｶｷｸｹｺＡＢＣＤＥＦａｂｃ！？（）",
    "機器沒激活對方讓我報驗證碼請問",
    "ÀÉÎÕÜçñß",
    "\u0301\u0308\u0332",  # combining marks
)
EMOJI = (
    "😀", "👍🏽", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "🇨🇳", "❤️", "🙏", "😡", "💳",
    "📱", "🤬", "\U0001f9d1\u200d\U0001f4bb",
)  # fmt: skip
CONTROL = tuple(chr(code) for code in [*range(0, 32), 127, 0x85, 0x200E, 0x202E, 0x2066, 0xFFFD])


def _run(rng: random.Random, pieces: str | tuple[str, ...], length: int) -> str:
    return "".join(rng.choice(pieces) for _ in range(length))


def _cut(text: str, rng: random.Random) -> str:
    if len(text) <= MAX_LENGTH:
        return text
    return text[:MAX_LENGTH] if rng.random() < 0.5 else text[-MAX_LENGTH:]


def _length(rng: random.Random) -> int:
    # A third at the limit: the longest allowed message is the one that must still be fast.
    return MAX_LENGTH if rng.random() < 0.33 else rng.randint(1, MAX_LENGTH)


def label_then_run(rng: random.Random) -> str:
    run = rng.choice([WHITESPACE, DIGITS, SEPARATORS, CJK, ("是",), ("is",), ("十",), ("1",)])
    return _cut(rng.choice(LABELS) + _run(rng, run, _length(rng)), rng)


def repeated_labels(rng: random.Random) -> str:
    joiner = rng.choice(["", " ", "是", ":", "1", "一", "\n"])
    label = rng.choice(LABELS)
    return _cut(joiner.join([label] * (_length(rng) // max(1, len(label)) + 1)), rng)


def digit_runs(rng: random.Random) -> str:
    length = _length(rng)
    if rng.random() < 0.5:
        return _cut(_run(rng, DIGITS, length), rng)
    groups = []
    while sum(map(len, groups)) < length:
        groups.append(_run(rng, DIGITS, rng.randint(1, 6)))
        groups.append(rng.choice(SEPARATORS))
    return _cut("".join(groups), rng)


def whitespace_runs(rng: random.Random) -> str:
    return _cut(_run(rng, WHITESPACE, _length(rng)) + rng.choice(["", "SN", "你好", "1"]), rng)


def mixed_scripts(rng: random.Random) -> str:
    alphabet = "".join(rng.sample(SCRIPTS, 3)) + CJK + DIGITS[:10] + " "
    return _run(rng, alphabet, _length(rng))


def emoji_and_controls(rng: random.Random) -> str:
    pieces = (*EMOJI, *CONTROL, *WHITESPACE, *CJK[:10], "1", "SN")
    return _cut(_run(rng, pieces, _length(rng)), rng)


def noisy_sentence(rng: random.Random) -> str:
    sentence = rng.choice(
        [
            "我的手机13812345678，卡号6222 0212 3456 7890 123",
            "对方让我报验证码 483920 说是售后",
            "SN 8800123456789012 的机器没激活，押金299元能退吗",
            "工单CS2611220007现在什么状态",
            "快递 SF1234567890123 到付我拒收了",
            "密码是abc12345 身份证110101199003071234",
            "一三八一二三四五六七八 是我电话",
        ]
    )
    text = sentence
    while len(text) < _length(rng):
        text += rng.choice([sentence, _run(rng, WHITESPACE + SEPARATORS, 20), rng.choice(EMOJI)])
    return _cut(text, rng)


def random_unicode(rng: random.Random) -> str:
    chars = []
    for _ in range(_length(rng)):
        code = rng.randint(0x20, 0x2FFFF)
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be sent as text
            code = 0x4E00
        chars.append(chr(code))
    return "".join(chars)


GENERATORS: tuple[Callable[[random.Random], str], ...] = (
    label_then_run,
    repeated_labels,
    digit_runs,
    whitespace_runs,
    mixed_scripts,
    emoji_and_controls,
    noisy_sentence,
    random_unicode,
)


def fuzz_messages(count: int, seed: int = 2612) -> Iterator[str]:
    """`count` messages of 1..MAX_LENGTH characters, every generator in turn."""
    rng = random.Random(seed)
    for index in range(count):
        text = GENERATORS[index % len(GENERATORS)](rng)
        yield text or "?"
