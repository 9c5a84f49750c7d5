from django.urls import path

from . import document_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("approvals/", views.approvals, name="approvals"),
    path("province/", views.province_dashboard, name="province-dashboard"),
    path("wharves/<str:code>/", views.wharf_dashboard, name="wharf-dashboard"),
    path("wharves/<str:code>/alerts/", views.alerts, name="wharf-alerts"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="alert-acknowledge"),
    path("cases/", views.cases, name="cases"),
    path("cases/<int:pk>/<int:person_id>/recompute/", views.recompute_contacts, name="case-recompute"),
    path("cases/<int:pk>/<int:person_id>/contacts.csv", views.contacts_file, {"fmt": "csv"}, name="case-contacts-csv"),
    path(
        "cases/<int:pk>/<int:person_id>/contacts.xlsx", views.contacts_file, {"fmt": "xlsx"}, name="case-contacts-xlsx"
    ),
    path(
        "cases/stations/<str:station>/<int:person_id>/contacts.csv",
        views.contacts_file,
        {"fmt": "csv"},
        name="staff-case-contacts-csv",
    ),
    path(
        "cases/stations/<str:station>/<int:person_id>/contacts.xlsx",
        views.contacts_file,
        {"fmt": "xlsx"},
        name="staff-case-contacts-xlsx",
    ),
    path("epidemic-areas/", views.epidemic_areas, name="epidemic-areas"),
    path("epidemic-areas/<int:pk>/end/", views.end_epidemic_area, name="epidemic-area-end"),
    path("epidemic-areas/<int:pk>/delete/", views.delete_epidemic_area, name="epidemic-area-delete"),
    path("vessels/<str:registration>/", views.vessel, name="vessel"),
    path("port-calls/new/", views.register_arrival, name="port-call-new"),
    path("port-calls/<int:pk>/", views.port_call, name="port-call"),
    path("port-calls/<int:pk>/tests/", views.record_results, name="port-call-tests"),
    path("port-calls/<int:pk>/crew/", views.add_person, name="port-call-crew-add"),
    path("port-calls/<int:pk>/crew/<int:person_id>/remove/", views.remove_person, name="port-call-crew-remove"),
    path("port-calls/<int:pk>/handover/", views.approve, name="port-call-handover"),
    path("port-calls/<int:pk>/certificate.pdf", document_views.certificate_pdf, name="port-call-certificate"),
    path("verify/<str:token>/", document_views.verify_certificate, name="verify-certificate"),
    path("reports/daily/", document_views.daily_report, name="daily-report"),
    path("reports/daily.csv", document_views.daily_report_file, {"fmt": "csv"}, name="daily-report-csv"),
    path("reports/daily.xlsx", document_views.daily_report_file, {"fmt": "xlsx"}, name="daily-report-xlsx"),
    path("port-calls/<int:pk>/departure/", views.record_departure, name="port-call-departure"),
    path("port-calls/<int:pk>/quarantine-release/", views.release_quarantine, name="port-call-release"),
]
