from django.apps import AppConfig


class FrameworksConfig(AppConfig):
    name = "incity.frameworks"
    label = "frameworks"
    verbose_name = "Integration frameworks"
