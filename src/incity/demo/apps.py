from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "incity.demo"
    label = "demo"
    verbose_name = "Synthetic demo network"
