"""Codes the case store works with (categories, statuses, allowed status changes).

Only codes live here; their Chinese labels are in data/case_labels.yml (see labels.py). The
categories are the situations of data/situations.yml, and `other`.
"""

from __future__ import annotations

from enum import Enum

from pos_assistant.situations import situations

# One member per registered situation (its code upper-cased), then OTHER.
CaseCategory = Enum(  # type: ignore[misc]
    "CaseCategory",
    [(code.upper(), code) for code in situations().codes] + [("OTHER", "other")],
    type=str,
    module=__name__,
)


class CaseStatus(str, Enum):
    RECEIVED = "received"  # 已受理
    IN_PROGRESS = "in_progress"  # 处理中
    AWAITING_INFO = "awaiting_info"  # 待补充材料
    RESOLVED = "resolved"  # 已解决
    CLOSED = "closed"  # 已关闭


# Staff may reopen a resolved case; a closed case is final.
ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_INFO, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.IN_PROGRESS: frozenset(
        {CaseStatus.AWAITING_INFO, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.AWAITING_INFO: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

OPEN_STATUSES = frozenset({CaseStatus.RECEIVED, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_INFO})
