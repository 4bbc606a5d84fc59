from django.apps import AppConfig


class AuditConfig(AppConfig):
    verbose_name = "Audit"
    name = "ismit.audit"
    label = "audit"
