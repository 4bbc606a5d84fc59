"""Fixtures of the documents tests (defined in issuing.py, where the helpers are)."""

from ismit.documents.tests.issuing import issued_set, media_root, msme_signer  # noqa: F401
