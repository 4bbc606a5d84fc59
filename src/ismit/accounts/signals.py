"""Signals other apps subscribe to (a lower app never imports a higher one: it announces instead)."""

from django.dispatch import Signal

#: Sent inside the verification transaction when an operator verifies an organisation.
#: Arguments: organisation (Organisation), actor (Actor). The documents app gives it a signing key.
organisation_verified = Signal()
