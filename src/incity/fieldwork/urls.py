from django.urls import URLPattern, URLResolver, path

from incity.fieldwork import views

app_name = "fieldwork"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:slug>/", views.fieldwork_page, name="project"),
]
