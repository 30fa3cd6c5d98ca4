"""Personal numbers written every way people type them, inside realistic Chinese sentences.

Used by the masking property test (tracker store on SQLite) and the end-to-end masking test. The
leak check is written independently of pos_assistant.privacy: it reduces any string to the digits
it spells (any Unicode digit, Chinese numerals) and looks for the secret's digits in order.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

_CHINESE = "零一二三四五六七八九"
_CHINESE_VARIANTS = {"0": "零〇", "1": "一幺壹", "2": "二两贰", "3": "三叁", "4": "四肆",
                     "5": "五伍", "6": "六陆", "7": "七柒", "8": "八捌", "9": "九玖"}  # fmt: skip
_READ_AS_DIGIT = {char: digit for digit, chars in _CHINESE_VARIANTS.items() for char in chars}
SEPARATORS = (" ", "-", ".", "\u3000", "－", "—", " - ", "·", "  ", "．", "\u200b")

SENTENCES = (
    "我的手机号是{n}，麻烦尽快联系我",
    "电话{n}",
    "{n} 这是我的联系方式",
    "联系方式：{n}。下午三点后打",
    "办机的时候留的号码是{n}，现在老是接到骚扰电话",
    "你们打{n}找我就行，谢谢",
    "卡号{n}被扣了299元押金",
    "身份证号码 {n} 对方让我报的",
    "我叫王小明，{n}，机器SN 8800123456没激活",
    "（{n}）",
    "他说是售后，问我要了{n}和验证码",
)
CODE_SENTENCES = (
    "验证码是{c}，要填哪里",
    "短信验证码：{c}，别告诉别人",
    "刚收到的动态码 {c} 对方一直催",
    "my verification code is {c}",
)
PASSWORD_SENTENCES = ("我的密码是{p}", "支付密码：{p}，他让我说的", "password: {p}")


@dataclass(frozen=True)
class Written:
    """A sentence giving away `secret` (its digits, or a password as typed)."""

    kind: str
    secret: str
    text: str
    raw: str  # the number or value exactly as written in the sentence


def _digit(rng: random.Random, digit: str, style: str) -> str:
    if style == "mixed":
        style = rng.choice(["ascii", "full", "chinese", "variant"])
    if style == "full":
        return chr(ord("０") + int(digit))
    if style == "chinese":
        return _CHINESE[int(digit)]
    if style == "variant":
        return rng.choice(_CHINESE_VARIANTS[digit])
    return digit


def render_digits(rng: random.Random, digits: str) -> str:
    """`digits` in a random style, grouped at random with random separators."""
    style = rng.choice(["ascii", "full", "chinese", "variant", "mixed"])
    chars = [_digit(rng, d, style) if d.isdigit() else rng.choice(["X", "x", "Ｘ"]) for d in digits]
    grouping = rng.choice(["none", "random", "3-4-4", "4s"])
    if grouping == "none":
        return "".join(chars)
    if grouping == "3-4-4":
        sizes = [3, 4, 4, 4, 4, 4]
    elif grouping == "4s":
        sizes = [4] * 6
    else:
        sizes = [rng.randint(1, 5) for _ in chars]
    separator = rng.choice(SEPARATORS)
    groups, position = [], 0
    for size in sizes:
        if position >= len(chars):
            break
        groups.append("".join(chars[position : position + size]))
        position += size
    if position < len(chars):
        groups.append("".join(chars[position:]))
    return separator.join(groups)


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def id_number(rng: random.Random) -> str:
    body = str(rng.randint(110000, 659999)) + f"{rng.randint(1950, 2008)}"
    body += f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + rng.choice("0123456789X")


def card_number(rng: random.Random) -> str:
    prefix = rng.choice(["62", "4", "5", "35"])
    length = rng.randint(16, 19)
    return prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))


def written_numbers(count: int, seed: int) -> list[Written]:
    """`count` sentences, each giving away one phone, ID or card number, code or password."""
    rng = random.Random(seed)
    result = []
    for index in range(count):
        kind = ("phone", "id_number", "card_number", "code", "password")[index % 5]
        if kind == "code":
            secret = "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 6, 8])))
            raw = rng.choice([secret, render_digits(rng, secret)])
            text = rng.choice(CODE_SENTENCES).format(c=raw)
        elif kind == "password":
            alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789@#_!"
            secret = "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 16)))
            raw = secret
            text = rng.choice(PASSWORD_SENTENCES).format(p=raw)
        else:
            secret = {"phone": phone, "id_number": id_number, "card_number": card_number}[kind](rng)
            raw = render_digits(rng, secret)
            if kind == "phone" and rng.random() < 0.2:
                raw = rng.choice(["+86 ", "+86", "86-", "（+86）"]) + raw
            text = rng.choice(SENTENCES).format(n=raw)
        result.append(Written(kind, secret, text, raw))
    return result


def spelled_digits(text: str) -> str:
    """The digits `text` spells, in order (X kept for ID numbers), everything else dropped."""
    out = []
    for char in text:
        digit = unicodedata.digit(char, None)
        if digit is not None:
            out.append(str(digit))
        elif char in _READ_AS_DIGIT:
            out.append(_READ_AS_DIGIT[char])
        elif char in "XxＸｘ":
            out.append("X")
    return "".join(out)


def leaks(stored: str, written: Written) -> bool:
    """Whether `stored` still gives `written.secret` away."""
    if written.kind == "password":
        return written.secret in unicodedata.normalize("NFKC", stored)
    secret = written.secret.upper()
    if written.kind != "id_number":
        return secret in spelled_digits(stored).replace("X", "")
    return secret in spelled_digits(stored)
