"""Local names through the admin: added by a region admin, placed in their kelurahan, kept by re-imports."""

from __future__ import annotations

from django.contrib.auth.models import User

from gazetteer.models import EntryKind, GazetteerEntry
from gazetteer.services import gazetteer_store


def test_an_admin_adds_a_local_name_and_a_reimport_keeps_it(town, client) -> None:
    from factories.gazetteer import TOWN_CANDIDATES

    admin = User.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    response = client.post(
        "/admin/gazetteer/localname/add/",
        {
            "region": town.pk,
            "name": "Posko Simpang Rimbo",
            "alt_names": '["Posko Rimbo"]',
            "category": "posko",
            "geom": "SRID=4326;POINT (103.6205 -1.6062)",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    local = GazetteerEntry.objects.get(name="Posko Simpang Rimbo")
    assert (local.kind, local.source_import, local.kelurahan.name, local.kecamatan.name) == (
        EntryKind.LOCAL, None, "Talang Banjar", "Jambi Timur",
    )  # fmt: skip
    assert local.search_text == "posko simpang rimbo | posko rimbo"
    gazetteer_store(region=town, source="again", source_kind="test", candidates=list(TOWN_CANDIDATES))
    assert GazetteerEntry.objects.filter(pk=local.pk).exists()
    listing = client.get("/admin/gazetteer/localname/")
    assert "Posko Simpang Rimbo" in listing.content.decode()
    assert "Gang Melati" not in listing.content.decode()  # imported names are not local names
