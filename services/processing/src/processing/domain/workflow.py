"""The agency workflow of one case: which action is allowed, by whom, on which step. Pure rules.

A case has one step per agency of the chain. The current step moves:
new -> assigned (leader assigns, or a specialist claims) -> submitted (for approval)
-> approved (leader) or back to assigned (sent back) -> handed over to the next agency's step,
or, at the last step, the result goes back to reception (resolved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class StepStatus(StrEnum):
    WAITING = "waiting"  # a later agency of the chain
    NEW = "new"  # arrived at the agency, nobody on it yet
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"  # waiting for the leader's approval
    APPROVED = "approved"
    DONE = "done"  # handed over or resolved


class CaseStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused_supplement"  # clock paused until the citizen's supplement
    AWAITING_PAYMENT = "awaiting_payment"
    STOPPED = "stopped"
    WITHDRAWN = "withdrawn"
    RESOLVED = "resolved"


LEADER = frozenset({"agency_leader"})
STAFF = frozenset({"agency_officer", "agency_leader"})
WORKING = frozenset({StepStatus.NEW, StepStatus.ASSIGNED, StepStatus.SUBMITTED})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    step: frozenset[StepStatus]
    case: frozenset[CaseStatus] = frozenset({CaseStatus.OPEN})
    assignee_only: bool = False


RULES: dict[str, Rule] = {
    "assign": Rule(LEADER, frozenset({StepStatus.NEW, StepStatus.ASSIGNED})),
    "claim": Rule(STAFF, frozenset({StepStatus.NEW})),
    "record_work": Rule(STAFF, frozenset({StepStatus.ASSIGNED}), assignee_only=True),
    "submit": Rule(STAFF, frozenset({StepStatus.ASSIGNED}), assignee_only=True),
    "approve": Rule(LEADER, frozenset({StepStatus.SUBMITTED})),
    "send_back": Rule(LEADER, frozenset({StepStatus.SUBMITTED})),
    "hand_over": Rule(LEADER, frozenset({StepStatus.APPROVED})),
    "resolve": Rule(LEADER, frozenset({StepStatus.APPROVED})),
    "request_supplement": Rule(STAFF, WORKING),
    "request_payment": Rule(LEADER, WORKING | {StepStatus.APPROVED}),
    "confirm_payment": Rule(STAFF, WORKING | {StepStatus.APPROVED}, frozenset({CaseStatus.AWAITING_PAYMENT})),
    "stop": Rule(
        LEADER,
        WORKING | {StepStatus.APPROVED},
        frozenset({CaseStatus.OPEN, CaseStatus.PAUSED, CaseStatus.AWAITING_PAYMENT}),
    ),
}

ACTION_NAMES = {
    "assign": "assign",
    "claim": "claim",
    "record_work": "record work on",
    "submit": "submit for approval",
    "approve": "approve",
    "send_back": "send back",
    "hand_over": "hand over",
    "resolve": "hand the result back for",
    "request_supplement": "ask a supplement for",
    "request_payment": "ask a payment for",
    "confirm_payment": "confirm the payment of",
    "stop": "stop",
}


class ActionRefused(Exception):
    """The case or step is not in a state that allows the action (HTTP 409)."""

    def __init__(self, message: str, *, code: str = "illegal_transition") -> None:
        super().__init__(message)
        self.code = code


class NotYours(Exception):
    """The actor's role or agency may not do this (HTTP 403)."""


class BadChange(Exception):
    """The change asked for makes no sense (HTTP 422): a new appointment before the current one."""


class StepView(Protocol):
    """What the rules read of a step."""

    @property
    def position(self) -> int: ...
    @property
    def agency_code(self) -> str: ...
    @property
    def status(self) -> StepStatus: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def due_at(self) -> datetime: ...


def check(
    action: str, *, role: str, agency: str, subject: str, case_status: str, step: StepView, is_last: bool
) -> None:
    """Raises unless ``action`` is allowed now; the message says why, for the 409 or 403."""
    rule = RULES[action]
    what = ACTION_NAMES[action]
    if role not in rule.roles:
        raise NotYours(f"a {role} may not {what} a step; allowed: {', '.join(sorted(rule.roles))}")
    if step.agency_code != agency:
        raise NotYours(f"the dossier is at step {step.position}, agency {step.agency_code}, not yours")
    if CaseStatus(case_status) not in rule.case:
        raise ActionRefused(f"cannot {what} a case that is {case_status}")
    status = StepStatus(step.status)
    if status not in rule.step:
        raise ActionRefused(f"cannot {what} step {step.position} while it is {status.value}")
    if rule.assignee_only and step.assignee != subject:
        raise ActionRefused(f"step {step.position} is assigned to someone else")
    if action == "hand_over" and is_last:
        raise ActionRefused("the last step has no next agency: hand the result back to reception instead")
    if action == "resolve" and not is_last:
        raise ActionRefused("the dossier still has agencies to go: hand it over to the next one")


def queue_key(case_status: str, agency: str, step_status: str) -> str | None:
    """One field that says which queue a case is in (``agency:new``, ``agency:paused``...), so each
    queue is an equality on the first field of an index: stores that use only an index's first
    field (SecantusDB) stay fast, and closed cases (None) are out of every queue."""
    if case_status == CaseStatus.PAUSED:
        return f"{agency}:paused"
    if case_status == CaseStatus.OPEN:
        return f"{agency}:{step_status}"
    return None
