"""OpenRosa URLs under /openrosa/<project-slug>/ (the server URL a phone is given)."""

from django.urls import URLPattern, URLResolver, path

from incity.surveys.openrosa import views

app_name = "openrosa"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:slug>/formList", views.form_list, name="form_list"),
    path("<slug:slug>/submission", views.submission, name="submission"),
    path("<slug:slug>/forms/<str:form_id>/form.xml", views.form_xml, name="form_xml"),
    path("<slug:slug>/forms/<str:form_id>/manifest", views.manifest, name="manifest"),
    path("<slug:slug>/forms/<str:form_id>/media/<path:filename>", views.media, name="media"),
]
