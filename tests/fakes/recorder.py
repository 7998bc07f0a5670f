"""An in-memory Recorder: keeps every decision and case, as the audit store would persist them."""

from __future__ import annotations

from guard.recording import CaseRecord, DecisionRecord


class ListRecorder:
    def __init__(self) -> None:
        self.decisions: list[DecisionRecord] = []
        self.cases: list[CaseRecord] = []

    async def record_decision(self, record: DecisionRecord) -> None:
        self.decisions.append(record)

    async def open_case(self, case: CaseRecord) -> str | None:
        self.cases.append(case)
        return case.case_id
