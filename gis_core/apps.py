from django.apps import AppConfig


class GisCoreConfig(AppConfig):
    name = "gis_core"
    verbose_name = "Geography and routing"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from gis_core.models import Kecamatan, Kelurahan, Region

        # A boundary or a region's CRS changed (the admin, a command): every process's cached outline and
        # coverage context of the region is rebuilt at its next use (gis_core.shared_versions). Bulk writes
        # (the boundary importer) bump it themselves.
        for model in (Kecamatan, Kelurahan):
            post_save.connect(_boundary_changed, sender=model, dispatch_uid=f"gis_core.boundaries.{model.__name__}")
            post_delete.connect(
                _boundary_changed, sender=model, dispatch_uid=f"gis_core.boundaries_del.{model.__name__}"
            )
        post_save.connect(_region_changed, sender=Region, dispatch_uid="gis_core.boundaries.region")


def _boundary_changed(sender, instance, **kwargs) -> None:
    from gis_core.models import Kecamatan
    from gis_core.shared_versions import boundaries_version_name, shared_version_bump_on_commit

    region_id = getattr(instance, "region_id", None)
    if region_id is None:  # a kelurahan: its kecamatan's region
        region_id = Kecamatan.objects.filter(pk=instance.kecamatan_id).values_list("region_id", flat=True).first()
    if region_id is not None:
        shared_version_bump_on_commit(boundaries_version_name(region_id))


def _region_changed(sender, instance, created: bool = False, **kwargs) -> None:
    from gis_core.shared_versions import boundaries_version_name, shared_version_bump_on_commit

    if not created:
        shared_version_bump_on_commit(boundaries_version_name(instance.pk))
