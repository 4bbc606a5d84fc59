"""JSON API of the marketplace app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute)."""

from ninja import Router

router = Router(tags=["marketplace"])
