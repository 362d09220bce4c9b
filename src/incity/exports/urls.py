from django.urls import URLPattern, URLResolver, path

from incity.exports import views

app_name = "exports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("forms/<int:form>/", views.export_page, name="form"),
    path("forms/<int:form>/start", views.export_start, name="start"),
    path("<int:job>/status", views.export_status, name="status"),
    path("<int:job>/download", views.export_download, name="download"),
]
