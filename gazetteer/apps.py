from django.apps import AppConfig


class GazetteerConfig(AppConfig):
    name = "gazetteer"
    verbose_name = "Gazetteer (place names)"
