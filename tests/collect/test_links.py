"""Public links: switched on and off by the project team, audited, with a QR code."""

from __future__ import annotations

import pytest

from incity.accounts.models import AuditEvent
from incity.collect import services
from incity.collect.models import PublicLink
from incity.errors import Forbidden
from tests.collect.helpers import app_url, published_form
from tests.personas import SYSTEM, Cast, signed_in

pytestmark = pytest.mark.django_db


def test_a_citizen_researcher_cannot_make_a_public_link(cast: Cast) -> None:
    form = published_form(cast)
    with pytest.raises(Forbidden):
        services.enable_public_link(acting_user=cast.fieldworker, origin=SYSTEM, form=form)
    assert not PublicLink.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="public_link").exists()


def test_switching_off_a_link_that_does_not_exist_is_refused(cast: Cast) -> None:
    form = published_form(cast)
    with pytest.raises(Forbidden):
        services.disable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)


def test_the_link_page_refuses_other_tenants_viewers_and_anonymous(cast: Cast) -> None:
    form = published_form(cast)
    url = app_url(form, "link")
    assert signed_in(cast.outsider).get(url).status_code == 404
    assert signed_in(cast.viewer).get(url).status_code == 403
    assert signed_in(cast.fieldworker).post(url, {"action": "enable"}).status_code == 403
    assert not PublicLink.objects.exists()


def test_switching_on_makes_an_unguessable_token_and_an_audit_row(cast: Cast) -> None:
    form = published_form(cast)
    link = services.enable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    other = services.enable_public_link(
        acting_user=cast.lead, origin=SYSTEM, form=published_form(cast, form_id="b")
    )
    assert len(link.token) >= 32
    assert link.token != other.token
    assert link.enabled
    assert link.created_by == cast.lead
    event = AuditEvent.objects.get(action="public_link.create", target_id=str(link.pk))
    assert link.token not in str(event.detail)


def test_off_and_on_again_keeps_the_address_and_audits_each_change(cast: Cast) -> None:
    form = published_form(cast)
    link = services.enable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    services.disable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    services.disable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    again = services.enable_public_link(acting_user=cast.researcher, origin=SYSTEM, form=form)
    assert again.token == link.token
    assert again.enabled
    actions = list(
        AuditEvent.objects.filter(action__startswith="public_link")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["public_link.create", "public_link.disable", "public_link.enable"]


def test_the_lead_switches_the_link_on_and_sees_url_and_qr_code(cast: Cast) -> None:
    form = published_form(cast)
    client = signed_in(cast.lead)
    url = app_url(form, "link")
    assert "No public link yet" in client.get(url).content.decode()
    response = client.post(url, {"action": "enable"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    token = PublicLink.objects.get(form=form).token
    assert f"http://testserver{app_url(form)}?link={token}" in page
    assert "<svg" in page
    assert 'class="segno"' in page
    client.post(url, {"action": "disable"})
    page = client.get(url).content.decode()
    assert "The link is off" in page
    assert token not in page
