from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "incity.maps"
    label = "maps"
    verbose_name = "Map layers"
