"""The collection app's first load: bytes transferred before any map tile, compressed as
served (the page and runtime through Django's gzip, static files as WhiteNoise serves the
.gz files `collectstatic` writes) beside the same files uncompressed (the baseline).

It measures the DiPS demo form (eight modules, three languages): the app page, its runtime
JSON, the manifest and every file the service worker precaches (the app's modules and CSS,
the icon, Leaflet and its images). Rows report kilobytes in the "ms" columns of the shared
table; the details go to stderr. The budget is 300 KB.
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client

from bench.access_bench import Row
from incity.accounts import services
from incity.accounts.audit import Origin
from incity.accounts.roles import ProjectState
from incity.collect import pwa
from incity.demo.surveys import LANGUAGES, MODULES
from incity.surveys.services import forms as form_services

ORIGIN = Origin(channel="bench")
BUDGET_KB = 300


def _form_url() -> tuple[Client, str]:
    stamp = str(int(time.time() * 1000))
    organisation = services.create_organisation(
        acting_user=None, origin=ORIGIN, slug=f"bench-collect-{stamp}", name="Bench", kind="city"
    )
    project = services.create_project(
        acting_user=None,
        origin=ORIGIN,
        organisation=organisation,
        slug=f"bench-collect-{stamp}",
        name="Bench collect (synthetic)",
    )
    services.change_project_state(
        acting_user=None, origin=ORIGIN, project=project, state=ProjectState.ACTIVE
    )
    user = services.create_user(
        acting_user=None,
        origin=ORIGIN,
        username=f"bench-collector-{stamp}",
        organisation_slug=organisation.slug,
        role="citizen_researcher",
        password="bench password that is long 42",
    )
    form = form_services.create_form_from_modules(
        acting_user=None,
        origin=ORIGIN,
        project_slug=project.slug,
        form_id="dips_bench",
        title="DiPS (bench, synthetic)",
        module_slugs=MODULES,
        languages=LANGUAGES,
        consent_required=True,
    )
    form_services.publish_form(acting_user=None, origin=ORIGIN, form_pk=form.pk)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client, f"/collect/{project.slug}/dips_bench/"


def _dynamic(client: Client, url: str) -> tuple[int, int]:
    """(compressed, raw) bytes of a Django response."""
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    raw = client.get(url)
    assert raw.status_code == 200, (url, raw.status_code)
    return len(packed.content), len(raw.content)


def _static(url: str) -> tuple[int, int]:
    found = finders.find(url.removeprefix("/static/"))
    assert isinstance(found, str), url
    data = Path(found).read_bytes()
    # collectstatic's CompressedStaticFilesStorage writes gzip level 9 beside each file;
    # WhiteNoise serves it (images it leaves alone, they are compressed already).
    if url.endswith(".png"):
        return len(data), len(data)
    return min(len(gzip.compress(data, 9)), len(data)), len(data)


def run() -> list[Row]:
    client, app = _form_url()
    parts: dict[str, tuple[int, int]] = {
        "page": _dynamic(client, app),
        "runtime": _dynamic(client, f"{app}runtime.json?v=1"),
        "manifest": _dynamic(client, f"{app}manifest.webmanifest"),
        "service worker": _dynamic(client, "/collect/sw.js"),
    }
    assets, _ = pwa.shell_assets()
    for url in assets:
        parts[url] = _static(url)
    packed = sum(size for size, _ in parts.values())
    raw = sum(size for _, size in parts.values())
    for name, (small, big) in parts.items():
        print(
            f"collect first load: {name}: {small / 1024:.1f} KB ({big / 1024:.1f} KB raw)",
            file=sys.stderr,
        )
    verdict = "within" if packed / 1024 < BUDGET_KB else "OVER"
    print(
        f"collect first load: {packed / 1024:.1f} KB transferred, {raw / 1024:.1f} KB raw; "
        f"{verdict} the {BUDGET_KB} KB budget",
        file=sys.stderr,
    )
    return [Row("collect app first load, KB (compressed vs raw)", packed / 1024, raw / 1024)]
