from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from crews import correction_api, export_views, kit_api, station_api, sync_api, upload_api
from portguard import profile_views, pwa_views
from vessels import api as vessels_api
from vessels import declaration_api, list_api

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("wharves/", vessels_api.WharfList.as_view(), name="wharves"),
    path("port-calls/", list_api.PortCalls.as_view(), name="port-calls"),
    path("port-calls/<int:pk>/", vessels_api.PortCallDetail.as_view(), name="port-call"),
    path("port-calls/<int:pk>/handover/", vessels_api.HandoverCreate.as_view(), name="handover"),
    path("port-calls/<int:pk>/departure/", vessels_api.DepartureCreate.as_view(), name="departure"),
    path("tests/", sync_api.Tests.as_view(), name="tests"),
    path("alerts/", list_api.AlertList.as_view(), name="alerts"),
    path("epidemic-areas/", list_api.EpidemicAreaList.as_view(), name="epidemic-areas"),
    path("violations/", list_api.ViolationList.as_view(), name="violations"),
    path("cases/<int:pk>/contacts/", list_api.CaseContacts.as_view(), name="case-contacts"),
    path("people/", sync_api.PeopleSearch.as_view(), name="people"),
    path("people/<int:pk>/export/", export_views.PersonExport.as_view(), name="person-export"),
    path("declarations/", declaration_api.DeclarationCreate.as_view(), name="declarations"),
    path("tests/<int:pk>/corrections/", correction_api.TestCorrectionCreate.as_view(), name="test-corrections"),
    path("port-calls/<int:pk>/crew/", upload_api.CrewListUpload.as_view(), name="crew-upload"),
    path("tests/upload/", upload_api.LabResultsUpload.as_view(), name="tests-upload"),
    path("stations/", station_api.StationList.as_view(), name="stations"),
    path("stations/<str:code>/roster/", station_api.StationRoster.as_view(), name="station-roster"),
    path("stations/<str:code>/kits/", kit_api.StationKits.as_view(), name="station-kits"),
    path("stations/<str:code>/kits/deliveries/", kit_api.StationKitDeliveries.as_view(), name="station-kit-deliveries"),
    path(
        "stations/<str:code>/kits/adjustments/", kit_api.StationKitAdjustments.as_view(), name="station-kit-adjustments"
    ),
    path("wharves/<str:code>/kits/", kit_api.WharfKits.as_view(), name="wharf-kits"),
    path("wharves/<str:code>/kits/deliveries/", kit_api.WharfKitDeliveries.as_view(), name="wharf-kit-deliveries"),
    path("wharves/<str:code>/kits/adjustments/", kit_api.WharfKitAdjustments.as_view(), name="wharf-kit-adjustments"),
    path("stations/<str:code>/schedule/", station_api.StationSchedule.as_view(), name="station-schedule"),
    path(
        "stations/<str:code>/schedule.csv",
        station_api.StationScheduleFile.as_view(),
        {"fmt": "csv"},
        name="station-schedule-csv",
    ),
    path(
        "stations/<str:code>/schedule.xlsx",
        station_api.StationScheduleFile.as_view(),
        {"fmt": "xlsx"},
        name="station-schedule-xlsx",
    ),
    path(
        "stations/<str:code>/schedule.pdf",
        station_api.StationScheduleFile.as_view(),
        {"fmt": "pdf"},
        name="station-schedule-pdf",
    ),
    path("stations/<str:code>/pools/", station_api.StationPools.as_view(), name="station-pools"),
    path(
        "stations/<str:code>/pools.csv",
        station_api.StationPoolsFile.as_view(),
        {"fmt": "csv"},
        name="station-pools-csv",
    ),
    path(
        "stations/<str:code>/pools.pdf",
        station_api.StationPoolsFile.as_view(),
        {"fmt": "pdf"},
        name="station-pools-pdf",
    ),
    path("stations/<str:code>/labels.pdf", station_api.StationLabels.as_view(), name="station-labels-pdf"),
]

urlpatterns = [
    path("", include("vessels.urls")),
    path("", include("crews.urls")),
    # A person's data on request (Decree 13/2023), for health officers: crews/export_views.py.
    path("people/<int:pk>/export.json", export_views.person_export, {"fmt": "json"}, name="person-export-json"),
    path("people/<int:pk>/export.csv", export_views.person_export, {"fmt": "csv"}, name="person-export-csv"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", profile_views.profile, name="profile"),
    path("profile/tokens/<int:pk>/revoke/", profile_views.revoke_token, name="profile-token-revoke"),
    path("manifest.webmanifest", pwa_views.manifest, name="manifest"),
    path("sw.js", pwa_views.service_worker, name="service-worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
]

handler404 = "portguard.errors.page_not_found"
handler500 = "portguard.middleware.server_error"
