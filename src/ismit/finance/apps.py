from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "ismit.finance"
    label = "finance"
    verbose_name = "Finance"

    def ready(self) -> None:
        # The outbox's delivery handlers of the two topics, and the single window's answers about them.
        from ismit.finance import answers, delivery  # noqa: F401

        answers.register()
