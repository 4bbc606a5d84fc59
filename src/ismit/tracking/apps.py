from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "ismit.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from ismit.customs.signals import answers_applied
        from ismit.tracking import delivery  # noqa: F401  (registers the outbox handler)
        from ismit.tracking.signals import customs_answers_applied

        answers_applied.connect(customs_answers_applied, dispatch_uid="tracking.customs_answers")
