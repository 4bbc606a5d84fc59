from django.urls import path

from ismit.refdata import views

app_name = "refdata"
urlpatterns: list = []
