from django.urls import path

from ismit.trades import views

app_name = "trades"
urlpatterns: list = []
