"""Pages of the outbox app (platform operators only), mounted at the site root."""

from django.urls import path

from ismit.outbox import views

app_name = "outbox"
urlpatterns: list = [
    path("outbox/", views.message_list, name="list"),
    path("outbox/<int:pk>/", views.message_detail, name="detail"),
    path("outbox/<int:pk>/replay/", views.message_replay, name="replay"),
]
