from django.apps import AppConfig


class CustomsConfig(AppConfig):
    name = "ismit.customs"
    label = "customs"
    verbose_name = "Customs"

    def ready(self) -> None:
        # The outbox handler of "customs.declaration" must be registered in every process that delivers:
        # workers (Celery imports tasks.py too) and the web process when tasks run eagerly.
        from ismit.customs import tasks  # noqa: F401
