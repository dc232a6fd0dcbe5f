from django.apps import AppConfig


class GisCoreConfig(AppConfig):
    name = "gis_core"
    verbose_name = "Geography and routing"
