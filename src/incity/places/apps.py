from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "incity.places"
    label = "places"
    verbose_name = "Places and areas"
