from django.urls import path

from . import views

urlpatterns = [
    path("stations/", views.station_list, name="stations"),
    path("stations/<str:code>/", views.station_detail, name="station"),
    path("stations/<str:code>/roster/", views.upload_roster, name="station-roster"),
]
