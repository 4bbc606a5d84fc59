from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ismit.accounts"
    label = "accounts"

    def ready(self) -> None:
        # The outbox handler of the platform's e-mails, registered in every process that may deliver them:
        # workers (Celery imports tasks.py too) and the web process when tasks run eagerly.
        from ismit.accounts import tasks  # noqa: F401
