from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "ismit.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from ismit.accounts.signals import organisation_verified
        from ismit.documents.receivers import give_signing_key

        organisation_verified.connect(give_signing_key, dispatch_uid="documents.give_signing_key")
