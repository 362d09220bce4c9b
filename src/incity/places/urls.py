from django.urls import re_path

from incity.places import views

app_name = "places"
urlpatterns = [
    re_path(
        r"^plan-images/(?P<project>[a-z0-9-]{1,64})/(?P<sha256>[0-9a-f]{64})(?P<suffix>\.png|\.jpg)$",
        views.plan_image,
        name="plan_image",
    ),
]
