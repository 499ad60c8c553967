"""Kinds of responsibility a department has in the plan: 考核 ranks a department only against departments of the
same kind, since a department that leads measures and one that only cooperates are not asked the same things."""

from __future__ import annotations

LEADS, TOWNSHIPS, COOPERATES = "牵头部门", "街乡镇", "仅配合部门"
GROUPS = (LEADS, TOWNSHIPS, COOPERATES)
UNRANKED = "不参与排名"


def group_of(name: str, leads_a_measure: bool) -> str:
    if leads_a_measure:
        return LEADS
    if name.endswith(("街乡镇", "街道", "镇", "乡")):
        return TOWNSHIPS
    return COOPERATES
