"""The page where a project's team switches a form's public link on or off and gets its QR code."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incity.accounts.audit import Origin
from incity.collect import queries, services
from incity.collect.models import PublicLink
from incity.errors import IncityError
from incity.surveys.views.common import page, signed_in_user


def public_url(request: HttpRequest, link: PublicLink) -> str:
    path = reverse("collect:app", args=[link.form.project.slug, link.form.form_id])
    return request.build_absolute_uri(f"{path}?{urlencode({'link': link.token})}")


def qr_svg(url: str) -> str:
    """The URL as a QR code, inline SVG (segno), for posters and flyers."""
    code = segno.make(url, error="m")
    return code.svg_inline(scale=5, border=2, title=_("QR code of the public link"))


@require_http_methods(["GET", "HEAD", "POST"])
@page
def link_page(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    user = signed_in_user(request)
    form = queries.form_for_editor(user, slug, form_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        origin = Origin.from_request(request)
        try:
            if action == "enable":
                services.enable_public_link(acting_user=user, origin=origin, form=form)
                messages.success(request, _("The public link is on."))
            elif action == "disable":
                services.disable_public_link(acting_user=user, origin=origin, form=form)
                messages.success(request, _("The public link is off; it takes no answers."))
            else:
                messages.error(request, _("Choose to switch the link on or off."))
        except IncityError as error:
            messages.error(request, error.message)
        return redirect("collect:link", slug=slug, form_id=form_id)
    link = queries.existing_link(form)
    url = public_url(request, link) if link is not None and link.is_live() else ""
    context = {
        "form": form,
        "link": link,
        "url": url,
        # segno writes the SVG itself from the URL; nothing of the visitor's goes in.
        "qr": mark_safe(qr_svg(url)) if url else "",  # noqa: S308
        "app_url": reverse("collect:app", args=[slug, form_id]),
    }
    return render(request, "collect/link.html", context)
