from django.urls import URLPattern, URLResolver, path

from incity.dashboards import views

app_name = "dashboards"
urlpatterns: list[URLPattern | URLResolver] = [
    path("forms/<int:form>/", views.form_dashboard, name="form"),
    path(
        "forms/<int:form>/charts/<str:chart>.<str:file_format>",
        views.chart_download,
        name="download",
    ),
    path("projects/<slug:slug>/", views.project_dashboard, name="project"),
]
