from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/wharves/<str:code>/", consumers.WharfConsumer.as_asgi()),
    path("ws/province/", consumers.ProvinceConsumer.as_asgi()),
]
