"""The roles a new organization starts with, by organization type, highest rank first.

Organizations rename, add and remove roles afterwards; these only get them started.
"""

from __future__ import annotations

from app.models import OrganizationType

ADMIN = ["members:manage", "roles:manage", "events:manage", "training:approve", "reports:read"]
OFFICER = ["members:read", "events:manage", "training:approve", "reports:read"]
CREW = ["members:read", "events:read", "training:record"]
MEMBER = ["events:read"]


def _role(key: str, name: str, permissions: list[str]) -> dict:
    return {"key": key, "name": name, "permissions": permissions}


DEFAULT_ROLES: dict[OrganizationType, list[dict]] = {
    OrganizationType.FIRE_DEPARTMENT: [
        _role("chief", "Chief", ADMIN),
        _role("deputy-chief", "Deputy Chief", ADMIN),
        _role("battalion-chief", "Battalion Chief", OFFICER),
        _role("captain", "Captain", OFFICER),
        _role("lieutenant", "Lieutenant", OFFICER),
        _role("training-officer", "Training Officer", [*OFFICER, "training:manage"]),
        _role("safety-officer", "Safety Officer", OFFICER),
        _role("engineer", "Engineer", CREW),
        _role("firefighter", "Firefighter", CREW),
        _role("probationary", "Probationary Firefighter", CREW),
        _role("secretary", "Secretary", ["members:read", "reports:read"]),
        _role("member", "Member", MEMBER),
    ],
    OrganizationType.EMS_AGENCY: [
        _role("director", "Director", ADMIN),
        _role("supervisor", "Supervisor", OFFICER),
        _role("paramedic", "Paramedic", CREW),
        _role("emt", "EMT", CREW),
        _role("dispatcher", "Dispatcher", ["events:manage", "events:read"]),
        _role("member", "Member", MEMBER),
    ],
    OrganizationType.RESCUE_SQUAD: [
        _role("captain", "Captain", ADMIN),
        _role("rescuer", "Rescuer", CREW),
        _role("member", "Member", MEMBER),
    ],
}


def default_roles(organization_type: OrganizationType) -> list[dict]:
    """Fresh dicts each call: callers may change them."""
    return [dict(role, permissions=list(role["permissions"])) for role in DEFAULT_ROLES[organization_type]]


# The wizard's steps, in order. Creating the organization completes the first.
ONBOARDING_STEPS = ("organization", "identity", "roles", "members")
