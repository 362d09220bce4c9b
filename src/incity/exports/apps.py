from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "incity.exports"
    label = "exports"
    verbose_name = "Exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incity.exports.store import purge_forms, schedule_sync
        from incity.surveys.derived import register_listener, register_purger

        # A withdrawal deletes the column stores of the forms it touched.
        register_purger(purge_forms)
        # Every other change queues a sync in the background, so exports find it current.
        register_listener(schedule_sync)
