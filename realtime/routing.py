from django.urls import path

from . import consumers

websocket_urlpatterns = [
    # Before the wharf's own socket: "mine" is not a wharf code.
    path("ws/wharves/mine/", consumers.MyWharvesConsumer.as_asgi()),
    path("ws/wharves/<str:code>/", consumers.WharfConsumer.as_asgi()),
    path("ws/province/", consumers.ProvinceConsumer.as_asgi()),
]
