from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Reports and dispatch"

    def ready(self) -> None:
        # The fleet announces a unit's new position; dispatch refreshes its ETA and the consoles hear of it.
        from incidents import receivers  # noqa: F401
