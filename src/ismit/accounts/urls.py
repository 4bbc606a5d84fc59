from django.urls import path

from ismit.accounts import views

app_name = "accounts"
urlpatterns: list = []
