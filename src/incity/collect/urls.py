from django.urls import URLPattern, URLResolver, path

from incity.collect import links, pwa, views

app_name = "collect"
urlpatterns: list[URLPattern | URLResolver] = [
    # The worker sits at the top of /collect/ so that one registration serves every form.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("<slug:slug>/<str:form_id>/", views.app, name="app"),
    path("<slug:slug>/<str:form_id>/manifest.webmanifest", views.manifest, name="manifest"),
    path("<slug:slug>/<str:form_id>/runtime.json", views.runtime_view, name="runtime"),
    path("<slug:slug>/<str:form_id>/submissions", views.submissions, name="submissions"),
    path("<slug:slug>/<str:form_id>/sync", views.sync, name="sync"),
    path("<slug:slug>/<str:form_id>/link", links.link_page, name="link"),
]
