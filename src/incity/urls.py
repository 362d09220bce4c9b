from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from incity.api import api
from incity.web import health

# Django admin signs in through allauth, so it gets the same lockout and two-factor.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "incity administration"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("frameworks/", include("incity.frameworks.urls")),
    # Plan images for map questions: /places/plan-images/<project-slug>/<sha256>.png
    path("places/", include("incity.places.urls")),
    # OpenRosa for ODK Collect and KoboCollect: /openrosa/<project-slug>/formList, /submission, ...
    path("openrosa/", include("incity.surveys.openrosa.urls")),
    # The offline collection web app: /collect/<project-slug>/<form>/
    path("collect/", include("incity.collect.urls")),
    path("fieldwork/", include("incity.fieldwork.urls")),
    path("exports/", include("incity.exports.urls")),
    path("dashboards/", include("incity.dashboards.urls")),
    path("maps/", include("incity.maps.urls")),
    # Survey pages: /projects/<slug>/forms/, /forms/<id>/..., /submissions/<id>/, /withdraw/
    path("", include("incity.surveys.urls")),
    path("", include("incity.web.urls")),
]

handler403 = "incity.web.views.forbidden"
handler404 = "incity.web.views.not_found"
handler500 = "incity.web.views.server_error"
