"""The Django admin shows accounts data read-only and audits the writes it allows."""

from __future__ import annotations

from django.test import Client

from incity.accounts.models import AuditEvent, Organisation
from incity.frameworks.models import FrameworkItem
from tests.personas import Cast


def _admin_client(cast: Cast) -> Client:
    cast.admin.is_staff = True
    cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(cast.admin)
    return client


def test_the_admin_refuses_to_edit_an_organisation(cast: Cast) -> None:
    client = _admin_client(cast)
    url = f"/admin/accounts/organisation/{cast.riverton.pk}/change/"
    response = client.post(url, {"name": "Renamed", "slug": "riverton", "kind": "city"})
    assert response.status_code == 403
    assert Organisation.objects.get(pk=cast.riverton.pk).name == "Riverton"


def test_the_admin_refuses_to_add_an_organisation(cast: Cast) -> None:
    response = _admin_client(cast).get("/admin/accounts/organisation/add/")
    assert response.status_code == 403


def test_the_admin_shows_the_audit_log(cast: Cast) -> None:
    response = _admin_client(cast).get("/admin/accounts/auditevent/")
    assert response.status_code == 200


def test_a_non_staff_member_is_sent_to_sign_in(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.viewer)
    response = client.get("/admin/accounts/auditevent/")
    assert response.status_code == 302


def test_promoting_a_framework_item_in_the_admin_is_audited(cast: Cast) -> None:
    item = (
        FrameworkItem.objects.filter(verification="unverified").select_related("framework").first()
    )
    assert item is not None
    client = _admin_client(cast)
    url = f"/admin/frameworks/frameworkitem/{item.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else (v.pk if hasattr(v, "pk") else v)) for k, v in data.items()}
    data["verification"] = "verified"
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    item.refresh_from_db()
    assert item.verification == "verified"
    event = AuditEvent.objects.get(action="admin.frameworkitem.change")
    assert event.actor == cast.admin
    assert event.channel == "admin"
