from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "lakegate_server.dashboard"
    label = "dashboard"
