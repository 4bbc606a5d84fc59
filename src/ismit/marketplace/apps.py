from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "ismit.marketplace"
    label = "marketplace"
    verbose_name = "Marketplace"
