from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ismit.accounts"
    label = "accounts"
