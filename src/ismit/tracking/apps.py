from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "ismit.tracking"
    label = "tracking"
    verbose_name = "Tracking"
