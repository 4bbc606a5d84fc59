"""Pages of the logistics app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

app_name = "logistics"
urlpatterns: list = []
