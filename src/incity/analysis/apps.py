from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "incity.analysis"
    label = "analysis"
    verbose_name = "Analysis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incity.analysis.query import purge_snapshots
        from incity.surveys.derived import register_purger

        register_purger(purge_snapshots)
