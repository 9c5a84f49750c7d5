from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("approvals/", views.approvals, name="approvals"),
    path("province/", views.province_dashboard, name="province-dashboard"),
    path("wharves/<str:code>/", views.wharf_dashboard, name="wharf-dashboard"),
    path("port-calls/new/", views.register_arrival, name="port-call-new"),
    path("port-calls/<int:pk>/", views.port_call, name="port-call"),
    path("port-calls/<int:pk>/tests/", views.record_results, name="port-call-tests"),
    path("port-calls/<int:pk>/crew/", views.add_person, name="port-call-crew-add"),
    path("port-calls/<int:pk>/crew/<int:person_id>/remove/", views.remove_person, name="port-call-crew-remove"),
    path("port-calls/<int:pk>/handover/", views.approve, name="port-call-handover"),
    path("port-calls/<int:pk>/departure/", views.record_departure, name="port-call-departure"),
]
