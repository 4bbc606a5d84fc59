from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "ismit.logistics"
    label = "logistics"
    verbose_name = "Logistics"
