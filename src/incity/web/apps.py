from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "incity.web"
    label = "web"
    verbose_name = "Web interface"
