from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "lakegate_server.knowledge"
    label = "knowledge"
