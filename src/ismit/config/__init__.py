# Every process that loads the platform (web, worker, management commands) sends tasks through this app.
from ismit.config.celery import app as celery_app

__all__ = ["celery_app"]
