from django.apps import AppConfig


class CollectConfig(AppConfig):
    name = "incity.collect"
    label = "collect"
    verbose_name = "Collect"
    default_auto_field = "django.db.models.BigAutoField"
