from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "ismit.compliance"
    label = "compliance"
    verbose_name = "Compliance"
