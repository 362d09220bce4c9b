from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "incity.fieldwork"
    label = "fieldwork"
    verbose_name = "Fieldwork"
    default_auto_field = "django.db.models.BigAutoField"
