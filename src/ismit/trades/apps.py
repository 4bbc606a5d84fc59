from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "ismit.trades"
    label = "trades"
