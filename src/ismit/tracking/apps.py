from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "ismit.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from ismit.tracking import delivery  # noqa: F401  (registers the outbox handler)
        from ismit.tracking.signals import customs_event_saved

        post_save.connect(
            customs_event_saved, sender="customs.DeclarationEvent", dispatch_uid="tracking.customs_event"
        )
