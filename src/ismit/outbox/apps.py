from django.apps import AppConfig


class OutboxConfig(AppConfig):
    verbose_name = "Outbox"
    name = "ismit.outbox"
    label = "outbox"
