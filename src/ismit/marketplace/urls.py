"""Pages of the marketplace app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

app_name = "marketplace"
urlpatterns: list = []
