"""Pages of the compliance app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.compliance import views

app_name = "compliance"
urlpatterns: list = [
    path("trades/<int:pk>/requirements/", views.requirements, name="requirements"),
]
