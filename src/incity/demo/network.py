"""The synthetic demo network: organisations, areas, projects and demo logins.

Every organisation and project made here is flagged `is_synthetic` and every
page that shows one carries the "synthetic demo data" label. City names are
real places; their neighbourhood names, projects and every figure are invented.
The size bands and migration contexts are rough characterisations for the
demo, not findings. Loading is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from incity.accounts import services
from incity.accounts.audit import Origin
from incity.accounts.models import Membership, Organisation, Project, User
from incity.accounts.roles import ProjectState
from incity.demo.surveys import SurveySummary, load_demo_surveys
from incity.errors import Forbidden
from incity.places.models import Area

# A documented demo login: demo accounts are refused outside demo mode.
DEMO_PASSWORD = "demo-pass"
ORIGIN = Origin(channel="demo")


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: str
    country: str = ""
    size_band: str = ""
    migration_history: str = ""
    migration_role: str = ""
    description: str = ""
    neighbourhood: str = ""


# The three EMPOWER case sites: one (invented) neighbourhood in each city.
CASE_SITES = [
    DemoOrganisation(
        "birmingham",
        "Birmingham",
        "city",
        "GB",
        "large_city",
        "longer",
        "settlement",
        "EMPOWER case site (synthetic demo data).",
        "Demo Quarter (synthetic)",
    ),
    DemoOrganisation(
        "bochum",
        "Bochum",
        "city",
        "DE",
        "city",
        "longer",
        "settlement",
        "EMPOWER case site (synthetic demo data).",
        "Demo-Viertel (synthetic)",
    ),
    DemoOrganisation(
        "gothenburg",
        "Gothenburg",
        "city",
        "SE",
        "large_city",
        "longer",
        "both",
        "EMPOWER case site (synthetic demo data).",
        "Demokvarteret (synthetic)",
    ),
]

# The twelve cities of the Inclusive Cities programme (Birmingham is also a case site).
INCLUSIVE_CITIES = [
    DemoOrganisation("bristol", "Bristol", "city", "GB", "city", "longer", "settlement"),
    DemoOrganisation("cardiff", "Cardiff", "city", "GB", "city", "longer", "settlement"),
    DemoOrganisation("glasgow", "Glasgow", "city", "GB", "large_city", "longer", "settlement"),
    DemoOrganisation("liverpool", "Liverpool", "city", "GB", "city", "longer", "settlement"),
    DemoOrganisation("peterborough", "Peterborough", "city", "GB", "city", "newer", "settlement"),
    DemoOrganisation("london", "London", "city", "GB", "large_city", "longer", "both"),
    DemoOrganisation("belfast", "Belfast", "city", "GB", "city", "newer", "settlement"),
    DemoOrganisation("brighton", "Brighton and Hove", "city", "GB", "city", "longer", "settlement"),
    DemoOrganisation("newport", "Newport", "city", "GB", "town", "longer", "settlement"),
    DemoOrganisation("sheffield", "Sheffield", "city", "GB", "large_city", "longer", "settlement"),
    DemoOrganisation(
        "newry-mourne-down", "Newry, Mourne and Down", "region", "GB", "city", "newer", "settlement"
    ),
]

# Invented small towns, so the network shows that small places take part too.
SMALL_TOWNS = [
    DemoOrganisation(
        "millbrook",
        "Millbrook (fictional town)",
        "town",
        "GB",
        "small_town",
        "newer",
        "transit",
        "Fictional market town; synthetic demo data.",
    ),
    DemoOrganisation(
        "lindenau",
        "Lindenau (fictional town)",
        "town",
        "DE",
        "small_town",
        "newer",
        "settlement",
        "Fictional small town; synthetic demo data.",
    ),
    DemoOrganisation(
        "strandvik",
        "Strandvik (fictional town)",
        "town",
        "SE",
        "town",
        "newer",
        "transit",
        "Fictional harbour town; synthetic demo data.",
    ),
]

OTHERS = [
    DemoOrganisation(
        "demo-network",
        "Demo network secretariat (synthetic)",
        "university",
        "GB",
        description="Runs the demo network's working groups; synthetic demo data.",
    ),
    DemoOrganisation(
        "demo-neighbours",
        "Neighbours Together (synthetic CSO)",
        "cso",
        "GB",
        description="Invented civil-society partner of Birmingham; synthetic demo data.",
    ),
    DemoOrganisation("demo-university", "Demo University (synthetic)", "university", "GB"),
    DemoOrganisation("demo-fund", "Demo Community Fund (synthetic)", "funder", "GB"),
]

# username, organisation slug, role, description; extra memberships follow.
DEMO_USERS = [
    (
        "demo-admin",
        "demo-network",
        "network_admin",
        "network admin of the demo network secretariat",
    ),
    (
        "demo-lead",
        "birmingham",
        "city_lead",
        "city integration lead, Birmingham (owns demo-survey)",
    ),
    ("demo-researcher", "birmingham", "researcher", "researcher on Birmingham's projects"),
    ("demo-fieldworker", "birmingham", "citizen_researcher", "citizen researcher in Birmingham"),
    ("demo-partner", "birmingham", "partner", "civil-society partner of Birmingham"),
    ("demo-outsider", "bochum", "city_lead", "city lead of Bochum: sees nothing of Birmingham's"),
]
EXTRA_MEMBERSHIPS = [
    ("demo-researcher", "demo-university", "viewer"),
    ("demo-partner", "demo-neighbours", "city_lead"),
]

PROJECTS = [
    (
        "demo-survey",
        "birmingham",
        "Neighbourhood survey, Demo Quarter (synthetic)",
        ProjectState.ACTIVE,
    ),
    ("demo-birmingham-plan", "birmingham", "Cohesion action plan (synthetic)", ProjectState.DRAFT),
    (
        "demo-bochum-survey",
        "bochum",
        "Nachbarschaftsbefragung Demo-Viertel (synthetic)",
        ProjectState.ACTIVE,
    ),
    (
        "demo-gothenburg-survey",
        "gothenburg",
        "Grannskapsenkät Demokvarteret (synthetic)",
        ProjectState.CLOSED,
    ),
]


@dataclass
class DemoSummary:
    organisations: int = 0
    projects: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    survey: SurveySummary | None = None


def _ensure_organisation(spec: DemoOrganisation) -> Organisation:
    existing = Organisation.objects.filter(slug=spec.slug).first()
    if existing is not None:
        return existing
    return services.create_organisation(
        acting_user=None,
        origin=ORIGIN,
        slug=spec.slug,
        name=spec.name,
        kind=spec.kind,
        country=spec.country,
        is_synthetic=True,
        size_band=spec.size_band,
        migration_history=spec.migration_history,
        migration_role=spec.migration_role,
        description=spec.description or "Synthetic demo data.",
    )


def _ensure_user(username: str, organisation_slug: str, role: str) -> User:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return services.create_user(
        acting_user=None,
        origin=ORIGIN,
        username=username,
        organisation_slug=organisation_slug,
        role=role,
        password=DEMO_PASSWORD,
        email=f"{username}@demo.invalid",
        is_demo_account=True,
    )


def _ensure_project(
    slug: str, organisation: Organisation, name: str, state: ProjectState
) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        return project
    project = services.create_project(
        acting_user=None,
        origin=ORIGIN,
        organisation=organisation,
        slug=slug,
        name=name,
        description="Synthetic demo data: no real respondents.",
        is_synthetic=True,
    )
    path = {
        ProjectState.DRAFT: [],
        ProjectState.ACTIVE: [ProjectState.ACTIVE],
        ProjectState.CLOSED: [ProjectState.ACTIVE, ProjectState.CLOSED],
        ProjectState.ARCHIVED: [ProjectState.ARCHIVED],
    }[state]
    for step in path:
        project = services.change_project_state(
            acting_user=None, origin=ORIGIN, project=project, state=step
        )
    return project


@transaction.atomic
def load_demo_network() -> DemoSummary:
    """Create (or leave as it is) the synthetic demo network. Demo mode only."""
    if not settings.DEMO_MODE:
        raise Forbidden("The demo network loads only in demo mode (INCITY_DEMO_MODE=true).")
    organisations = {
        spec.slug: (_ensure_organisation(spec), spec)
        for spec in [*OTHERS, *CASE_SITES, *INCLUSIVE_CITIES, *SMALL_TOWNS]
    }
    for organisation, spec in organisations.values():
        if spec.neighbourhood:
            Area.objects.get_or_create(
                organisation=organisation, name=spec.neighbourhood, defaults={"is_synthetic": True}
            )
    summary = DemoSummary()
    for username, organisation_slug, role, description in DEMO_USERS:
        _ensure_user(username, organisation_slug, role)
        summary.logins.append((username, description))
    for username, organisation_slug, role in EXTRA_MEMBERSHIPS:
        user = User.objects.get(username=username)
        organisation = organisations[organisation_slug][0]
        if not Membership.objects.filter(user=user, organisation=organisation).exists():
            services.set_membership(
                acting_user=None, origin=ORIGIN, user=user, organisation=organisation, role=role
            )
    for slug, organisation_slug, name, state in PROJECTS:
        organisation = organisations[organisation_slug][0]
        project = _ensure_project(slug, organisation, name, state)
        project.areas.add(*organisation.areas.all())
    summary.organisations = Organisation.objects.filter(is_synthetic=True).count()
    summary.projects = Project.objects.filter(is_synthetic=True).count()
    summary.survey = load_demo_surveys()
    from incity.demo.analysis import load_demo_analysis
    from incity.demo.collect import load_demo_collection

    load_demo_collection()
    load_demo_analysis()
    return summary
