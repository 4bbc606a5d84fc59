"""Pages of the tracking app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

app_name = "tracking"
urlpatterns: list = []
