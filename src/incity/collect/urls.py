from django.urls import URLPattern, URLResolver

app_name = "collect"
urlpatterns: list[URLPattern | URLResolver] = []
