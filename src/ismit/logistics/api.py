"""JSON API of the logistics app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute)."""

from ninja import Router

router = Router(tags=["logistics"])
