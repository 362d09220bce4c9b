"""The fixed cast of personas every test uses, matching the demo roles.

- Lena Lead: city integration lead of Riverton (a synthetic test city), with TOTP on.
- Rami Researcher: researcher in Riverton, and viewer at Northgate University.
- Fatima Fieldworker: citizen researcher in Riverton.
- Paul Partner: partner of Riverton, viewer in the civil-society organisation Open Doors.
- Vera Viewer: viewer in Riverton.
- Nadia Admin: network admin of the network secretariat, with TOTP on.
- Otto Outsider: city lead of Hillside, another city, who must be refused everything in Riverton.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from incity.accounts import services
from incity.accounts.audit import Origin
from incity.accounts.models import Organisation, Project, User
from incity.accounts.roles import ProjectState

PASSWORD = "correct horse battery staple 42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SYSTEM = Origin(channel="test")


@dataclass
class Cast:
    riverton: Organisation
    hillside: Organisation
    secretariat: Organisation
    university: Organisation
    open_doors: Organisation
    survey: Project
    hillside_project: Project
    lead: User
    researcher: User
    fieldworker: User
    partner: User
    viewer: User
    admin: User
    outsider: User

    def by_role(self, role: str) -> User:
        return {
            "city_lead": self.lead,
            "researcher": self.researcher,
            "citizen_researcher": self.fieldworker,
            "partner": self.partner,
            "viewer": self.viewer,
            "network_admin": self.admin,
        }[role]


def enable_totp(user: User) -> None:
    """Turn on TOTP for a user with the fixed test secret, as allauth stores it."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, TOTP_SECRET)


def _org(slug: str, name: str, kind: str) -> Organisation:
    return services.create_organisation(
        acting_user=None, origin=SYSTEM, slug=slug, name=name, kind=kind
    )


def _user(username: str, organisation: Organisation, role: str) -> User:
    return services.create_user(
        acting_user=None,
        origin=SYSTEM,
        username=username,
        organisation_slug=organisation.slug,
        role=role,
        password=PASSWORD,
        email=f"{username}@example.org",
    )


@pytest.fixture
def cast(db: None) -> Cast:
    riverton = _org("riverton", "Riverton", "city")
    hillside = _org("hillside", "Hillside", "city")
    secretariat = _org("network", "Network secretariat", "university")
    university = _org("northgate-university", "Northgate University", "university")
    open_doors = _org("open-doors", "Open Doors", "cso")
    survey = services.create_project(
        acting_user=None,
        origin=SYSTEM,
        organisation=riverton,
        slug="riverton-survey",
        name="Riverton survey",
    )
    services.change_project_state(
        acting_user=None, origin=SYSTEM, project=survey, state=ProjectState.ACTIVE
    )
    hillside_project = services.create_project(
        acting_user=None,
        origin=SYSTEM,
        organisation=hillside,
        slug="hillside-survey",
        name="Hillside survey",
    )
    researcher = _user("rami", riverton, "researcher")
    services.set_membership(
        acting_user=None, origin=SYSTEM, user=researcher, organisation=university, role="viewer"
    )
    partner = _user("paul", riverton, "partner")
    services.set_membership(
        acting_user=None, origin=SYSTEM, user=partner, organisation=open_doors, role="viewer"
    )
    lead = _user("lena", riverton, "city_lead")
    admin = _user("nadia", secretariat, "network_admin")
    outsider = _user("otto", hillside, "city_lead")
    for staff in (lead, admin, outsider):
        enable_totp(staff)
    return Cast(
        riverton=riverton,
        hillside=hillside,
        secretariat=secretariat,
        university=university,
        open_doors=open_doors,
        survey=survey,
        hillside_project=hillside_project,
        lead=lead,
        researcher=researcher,
        fieldworker=_user("fatima", riverton, "citizen_researcher"),
        partner=partner,
        viewer=_user("vera", riverton, "viewer"),
        admin=admin,
        outsider=outsider,
    )


def signed_in(user: User) -> Client:
    """A test client with a session for `user` (two-factor already satisfied)."""
    client = Client()
    client.force_login(user)
    return client


def bearer(user: User) -> dict[str, str]:
    """Headers carrying a fresh API token for `user`."""
    _, raw = services.create_api_token(acting_user=None, origin=SYSTEM, user=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


__all__ = ["PASSWORD", "TOTP_SECRET", "Authenticator", "Cast", "bearer", "enable_totp", "signed_in"]
