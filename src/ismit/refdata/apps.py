from django.apps import AppConfig


class RefdataConfig(AppConfig):
    name = "ismit.refdata"
    label = "refdata"
