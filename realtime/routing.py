# Live dashboards (issue: live updates over Channels) add their consumers here.
websocket_urlpatterns: list = []
