"""Pages of the customs app (mounted at the site root by ismit/config/urls.py; paths are absolute), and the
single windows' callback endpoint (no log-in: authenticated by the window's HMAC signature)."""

from django.urls import path

from ismit.customs import views

app_name = "customs"
urlpatterns: list = [
    path("trades/<int:pk>/customs/", views.trade_customs, name="trade"),
    path("trades/<int:pk>/customs/queries/<int:query_id>/", views.answer_query, name="answer"),
    path("trades/<int:pk>/customs/messages/<int:message_id>/", views.download_message, name="message"),
    path("customs/callback/<int:window_id>/", views.callback, name="callback"),
]
