import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismit.config.settings")
application = get_wsgi_application()

# A connection a request gave back moments ago is not checked again by the next one (lib.connections).
from ismit.lib.connections import keep_checked_connections  # noqa: E402 - needs the apps loaded

keep_checked_connections()
