from django.urls import path

from . import access_log_views, correction_views, history_views, kit_views, upload_views, views

urlpatterns = [
    path("stations/", views.station_list, name="stations"),
    path("stations/<str:code>/", views.station_detail, name="station"),
    path("stations/<str:code>/roster/", views.upload_roster, name="station-roster"),
    path("stations/<str:code>/staff/", views.add_staff, name="station-staff-add"),
    path("stations/<str:code>/staff/<int:person_id>/end/", views.end_staff, name="station-staff-end"),
    path("stations/<str:code>/shifts/<str:shift>/", views.change_shift, name="station-shift"),
    path("stations/<str:code>/tests/", views.record_results, name="station-tests"),
    # Rule R7: kit stock per station and per wharf.
    path("kits/", kit_views.kit_list, name="kits"),
    path("stations/<str:code>/kits/", kit_views.station_kits, name="station-kits"),
    path("stations/<str:code>/kits/deliveries/", kit_views.station_delivery, name="station-kit-deliveries"),
    path("stations/<str:code>/kits/adjustments/", kit_views.station_adjustment, name="station-kit-adjustments"),
    path("wharves/<str:code>/kits/", kit_views.wharf_kits, name="wharf-kits"),
    path("wharves/<str:code>/kits/deliveries/", kit_views.wharf_delivery, name="wharf-kit-deliveries"),
    path("wharves/<str:code>/kits/adjustments/", kit_views.wharf_adjustment, name="wharf-kit-adjustments"),
    path("people/<int:pk>/", history_views.person, name="person"),
    # Rule R8: who read personal health data, for health officers.
    path("access-log/", access_log_views.access_log, name="access-log"),
    path("access-log.csv", access_log_views.access_log_file, {"fmt": "csv"}, name="access-log-csv"),
    path("access-log.xlsx", access_log_views.access_log_file, {"fmt": "xlsx"}, name="access-log-xlsx"),
    path("tests/<int:pk>/corrections/", correction_views.correct, name="test-correct"),
    path("port-calls/<int:pk>/crew/upload/", upload_views.upload_crew_list, name="port-call-crew-upload"),
    path("crew-template.csv", upload_views.crew_template, {"fmt": "csv"}, name="crew-template-csv"),
    path("crew-template.xlsx", upload_views.crew_template, {"fmt": "xlsx"}, name="crew-template-xlsx"),
    path("lab-results/", upload_views.lab_results, name="lab-results"),
    path("lab-template.csv", upload_views.lab_template, {"fmt": "csv"}, name="lab-template-csv"),
    path("lab-template.xlsx", upload_views.lab_template, {"fmt": "xlsx"}, name="lab-template-xlsx"),
]
