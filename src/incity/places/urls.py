from django.urls import path, re_path

from incity.places import pages, views

app_name = "places"
urlpatterns = [
    re_path(
        r"^plan-images/(?P<project>[a-z0-9-]{1,64})/(?P<sha256>[0-9a-f]{64})(?P<suffix>\.png|\.jpg)$",
        views.plan_image,
        name="plan_image",
    ),
    path("projects/<slug:slug>/", pages.places_page, name="project"),
    path("projects/<slug:slug>/areas/", pages.area_new, name="area_new"),
    path("projects/<slug:slug>/areas/<int:area_id>/", pages.area_edit, name="area_edit"),
    path("projects/<slug:slug>/places/", pages.place_new, name="place_new"),
    path(
        "projects/<slug:slug>/places/<int:place_id>/delete/",
        pages.place_delete,
        name="place_delete",
    ),
]
