from django.urls import URLPattern, URLResolver

app_name = "fieldwork"
urlpatterns: list[URLPattern | URLResolver] = []
