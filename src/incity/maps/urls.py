from django.urls import URLPattern, URLResolver, path

from incity.maps import views

app_name = "maps"
urlpatterns: list[URLPattern | URLResolver] = [
    path("forms/<int:form>/", views.form_map, name="form"),
    path("embed/<str:token>/", views.embedded_map, name="embed"),
]
