from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "incity.maps"
    label = "maps"
    verbose_name = "Map layers"

    def ready(self) -> None:
        from incity.analysis.sensitive_groups import forget
        from incity.surveys.derived import register_purger

        # Decrypted levels kept in memory go with a withdrawal at once (surveys.derived).
        register_purger(forget)
