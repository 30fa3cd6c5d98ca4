"""Reads from a scam report whether the user already gave a code, card number, password or money.

Telling someone who lost nothing to "report the loss to 110 and freeze the card" is wrong and
teaches people to ignore the warning; missing a real victim is worse. So the message is read
clause by clause:

- a giving verb with a completion sign ("报了", "告诉他了", "已经转", "装了", "共享开着") or a
  loss ("被骗了", "钱被转走") is GIVEN, unless a negation comes before it in the same clause
  ("还没报", "没给", "差点就告诉他了", "险些上当");
- a request by the caller ("让我把验证码报给他", "要我的卡号") is ONLY_ASKED: it does not say
  whether the user complied, so the assistant asks; unless the verb is marked done ("他还让我转了
  2000", "让我把钱转过去了");
- "不记得", "不确定", "好像" … make the message UNCLEAR unless another clause clearly says GIVEN.

One GIVEN clause decides the message (safety first: "没转账，但是验证码告诉他了" is GIVEN).
Every pattern is a plain alternation or a bounded window, so matching stays linear in the text.
"""

from __future__ import annotations

import re
from enum import Enum


class AlreadyGiven(str, Enum):
    GIVEN = "given"
    NOT_GIVEN = "not_given"
    ONLY_ASKED = "only_asked"
    UNCLEAR = "unclear"

    @property
    def slot_value(self) -> bool | None:
        """The `secret_already_given` answer: None means "ask the user"."""
        return {AlreadyGiven.GIVEN: True, AlreadyGiven.NOT_GIVEN: False}.get(self)


# Clause boundaries: punctuation, and the words that start a new event in a story.
_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;、：:\s~～…]+|但是|可是|不过|然后|结果|后来|于是|我就")
# Giving something away. "给我"/"发给我" is the caller giving, "报警" is not giving anything.
_GIVING_VERB = re.compile(
    r"给(?![我您你])|(?<![举汇])报(?![警案名]|了警|过警)|告诉|(?:跟|和|对|同)(?:他|她|对方|那人|人家)说|说给|说出"
    r"|念|读给|(?<![他她方])发(?!来|过来|给我|了个|了条|了一)|转|汇(?!报)|打钱|打款|付(?!款码)"
    r"|交|装|下载|安装|输(?=[入了进])|填|(?<![一差有快早晚])点(?![儿钟半多头])|共享|扫码|扫了"
    r"|操作|照做|配合|提供"
)
# A completion sign right after the verb ("报了", "告诉他了", "转过去") or just before it.
_DONE_AFTER = re.compile(r"^[^了过]{0,12}[了过]|^[^了过]{0,3}(?:完|好|上)")
_DONE_BEFORE = re.compile(r"(?:已经|已|都|全)[^，。]{0,4}$")
# After the caller's request ("让我…") only a completion on the verb or at the clause's end counts:
# "让我报给他" is a request, "让我转了2000" and "让我把钱转过去了" are done.
_DONE_ON_REQUEST = re.compile(r"^[了过]|了$")
# Screen sharing still running, or money lost: given without any verb above.
_SHARING_ON = re.compile(r"共享[^，。]{0,3}(?:开着|开了|打开|中)|(?:开了|开着|正在)(?:屏幕)?共享")
_LOSS = re.compile(r"被骗|上当|受骗|钱没了|被转走|转走了|被扣|扣了[^，。]{0,3}钱|骗走|损失了")
# Negations; the first group are phrases that only look negative ("没想到我就给了").
_FALSE_NEGATIONS = re.compile(
    r"没想到|没注意|没多想|没看清|没反应过来|没留神|没办法|没有办法|不小心|不知不觉|没忍住|不得不"
)
_NEGATION = re.compile(r"没|未|不|别|差点|差一点|险些|幸好|好在|幸亏|拒绝")
_REFUSAL = re.compile(
    r"没同意|没答应|拒绝|没理|没搭理|不理|挂了|挂断|没照做|没听他|没上当|删了|拉黑|什么都没"
)
# The caller's request: what the user was asked to do, not what they did.
_REQUEST = re.compile(
    r"[让要叫请催逼]我|要求我|(?:问|跟|找|向|管)我要|说要|索要|索取|要(?:验证码|卡号|密码|银行卡)"
)
# The user does not know or does not say clearly.
_HEDGE = re.compile(r"不记得|记不清|不确定|不知道|好像|可能|也许|忘了|有没有|给没给|报没报|算不算")


def read_already_given(text: str | None) -> AlreadyGiven:
    """How `text` answers "have you already given it?" (see the module docstring)."""
    if not text or text.startswith("/"):
        return AlreadyGiven.UNCLEAR
    readings = [_read_clause(clause) for clause in _CLAUSE_BREAK.split(text.lower()) if clause]
    if AlreadyGiven.GIVEN in readings:
        return AlreadyGiven.GIVEN
    if AlreadyGiven.UNCLEAR in readings:  # a hedged clause
        return AlreadyGiven.UNCLEAR
    if AlreadyGiven.NOT_GIVEN in readings:
        return AlreadyGiven.NOT_GIVEN
    if AlreadyGiven.ONLY_ASKED in readings:
        return AlreadyGiven.ONLY_ASKED
    return AlreadyGiven.UNCLEAR


def _read_clause(clause: str) -> AlreadyGiven | None:
    """GIVEN / NOT_GIVEN / ONLY_ASKED for one clause, UNCLEAR when hedged, None when silent."""
    if _HEDGE.search(clause):
        return AlreadyGiven.UNCLEAR
    clause = _FALSE_NEGATIONS.sub("__", clause)
    for pattern in (_LOSS, _SHARING_ON):
        match = pattern.search(clause)
        if match:
            negated = _NEGATION.search(clause[: match.start()])
            return AlreadyGiven.NOT_GIVEN if negated else AlreadyGiven.GIVEN
    readings = {_read_verb(clause, match) for match in _GIVING_VERB.finditer(clause)}
    if AlreadyGiven.GIVEN in readings:
        return AlreadyGiven.GIVEN  # "我报完了他就挂了": given, although he hung up afterwards
    if AlreadyGiven.NOT_GIVEN in readings or _REFUSAL.search(clause):
        return AlreadyGiven.NOT_GIVEN
    if AlreadyGiven.ONLY_ASKED in readings or _REQUEST.search(clause):
        return AlreadyGiven.ONLY_ASKED
    return None


def _read_verb(clause: str, verb: re.Match[str]) -> AlreadyGiven | None:
    before, after = clause[: verb.start()], clause[verb.end() :]
    if _NEGATION.search(before):
        return AlreadyGiven.NOT_GIVEN
    if _REQUEST.search(before):
        # "他还让我转了2000": 了 right on the verb, or closing the clause, says it was done.
        return AlreadyGiven.GIVEN if _DONE_ON_REQUEST.search(after) else AlreadyGiven.ONLY_ASKED
    if _DONE_AFTER.search(after) or _DONE_BEFORE.search(before):
        return AlreadyGiven.GIVEN
    return None
