"""Names in both languages: ``name_id`` (Bahasa Indonesia) beside ``name`` (English) on capabilities, unit
types and incident types, filled for the codes the fixtures ship.

An incident type's English name used to carry the Indonesian in brackets ("Flood (banjir)"); where a row
still holds that shipped text it becomes the English alone. A name edited in the admin is left as it is,
and ``name_id`` is only filled where it is empty.
"""

from django.db import migrations, models

# code -> (English, Bahasa Indonesia), as in fixtures/capabilities.json
CAPABILITIES = {
    "als": (
        "advanced life support (paramedic or doctor, monitor/defibrillator, drugs)",
        "bantuan hidup lanjut (paramedis atau dokter, monitor/defibrilator, obat)",
    ),
    "bls": (
        "basic life support (stretcher, oxygen, first aid; patient transport)",
        "bantuan hidup dasar (tandu, oksigen, P3K; angkut pasien)",
    ),
    "moto_ambulance": (
        "motorbike first response (reaches a patient through traffic; no transport)",
        "respons pertama bermotor (menembus kemacetan; tanpa angkut pasien)",
    ),
    "fire_engine": ("fire engine (pump, hose, crew)", "mobil pemadam (pompa, selang, regu)"),
    "water_tanker": ("water tanker (water supply for the engines)", "mobil tangki air (pasokan air untuk pemadam)"),
    "rescue": (
        "rescue (extrication, water rescue, animal evacuation)",
        "penyelamatan (evakuasi korban terjepit, penyelamatan di air, evakuasi hewan)",
    ),
    "police_patrol": ("police or public-order patrol", "patroli polisi atau ketertiban umum"),
    "disaster_response": (
        "disaster response (flood, landslide, storm; evacuation, logistics)",
        "penanggulangan bencana (banjir, longsor, badai; evakuasi, logistik)",
    ),
    "social_response": (
        "social services response (abandoned or neglected persons)",
        "layanan sosial (orang terlantar)",
    ),
    "public_works": (
        "public works (fallen trees, street lights, damaged public facilities)",
        "pekerjaan umum (pohon tumbang, lampu jalan, fasilitas umum rusak)",
    ),
}
UNIT_TYPES = {
    "ambulance_als": ("Ambulance, advanced life support", "Ambulans bantuan hidup lanjut"),
    "ambulance_bls": ("Ambulance, basic life support", "Ambulans bantuan hidup dasar"),
    "motorbike_ambulance": ("Motorbike ambulance (first responder)", "Ambulans motor (responden pertama)"),
    "fire_engine": ("Fire engine", "Mobil pemadam kebakaran"),
    "water_tanker": ("Water tanker", "Mobil tangki air"),
    "rescue_vehicle": ("Rescue vehicle", "Kendaraan penyelamatan"),
    "police_patrol_car": ("Police patrol car", "Mobil patroli polisi"),
    "satpol_pp_patrol": ("Satpol PP patrol vehicle", "Kendaraan patroli Satpol PP"),
    "bpbd_vehicle": ("BPBD disaster response vehicle", "Kendaraan tanggap bencana BPBD"),
    "social_services_vehicle": ("Dinas Sosial outreach vehicle", "Kendaraan penjangkauan Dinas Sosial"),
    "public_works_truck": ("Public works truck (DLHP / PUPR)", "Truk pekerjaan umum (DLHP / PUPR)"),
}
# code -> (the shipped bilingual name, English, Bahasa Indonesia), as in fixtures/incident_types.json
INCIDENT_TYPES = {
    "fire_house": (
        "House or building fire (kebakaran rumah/gedung)",
        "House or building fire",
        "Kebakaran rumah/gedung",
    ),
    "fire_forest_land": (
        "Forest or land fire (kebakaran hutan dan lahan, karhutla)",
        "Forest or land fire",
        "Kebakaran hutan dan lahan (karhutla)",
    ),
    "medical": ("Medical emergency (gawat darurat medis)", "Medical emergency", "Gawat darurat medis"),
    "traffic_accident": ("Traffic accident (kecelakaan lalu lintas)", "Traffic accident", "Kecelakaan lalu lintas"),
    "flood": ("Flood (banjir)", "Flood", "Banjir"),
    "disaster_other": (
        "Landslide, storm or collapse (tanah longsor, angin puting beliung, bangunan roboh)",
        "Landslide, storm or collapse",
        "Tanah longsor, angin puting beliung, bangunan roboh",
    ),
    "security": (
        "Crime, fight or disturbance (kriminalitas, perkelahian, gangguan keamanan)",
        "Crime, fight or disturbance",
        "Kriminalitas, perkelahian, gangguan keamanan",
    ),
    "social_abandoned_person": (
        "Abandoned or neglected person (orang terlantar, ODGJ)",
        "Abandoned or neglected person",
        "Orang terlantar, ODGJ",
    ),
    "public_fallen_tree": ("Fallen tree (pohon tumbang)", "Fallen tree", "Pohon tumbang"),
    "public_street_light": (
        "Street light out or damaged public facility (PJU mati, fasilitas umum rusak)",
        "Street light out or damaged public facility",
        "PJU mati, fasilitas umum rusak",
    ),
    "animal_rescue": (
        "Animal evacuation (evakuasi hewan: snake, bee nest)",
        "Animal evacuation (snake, bee nest)",
        "Evakuasi hewan (ular, sarang tawon)",
    ),
    "other": ("Other (lainnya)", "Other", "Lainnya"),
}


def fill_names(apps, schema_editor):
    tables = (
        ("Capability", {code: (None, *pair) for code, pair in CAPABILITIES.items()}),
        ("UnitType", {code: (None, *pair) for code, pair in UNIT_TYPES.items()}),
        ("IncidentType", INCIDENT_TYPES),
    )
    for model_name, names in tables:
        for row in apps.get_model("fleet", model_name).objects.filter(code__in=names):
            shipped, english, indonesian = names[row.code]
            fields = []
            if shipped is not None and row.name == shipped:
                row.name = english
                fields.append("name")
            if not row.name_id:
                row.name_id = indonesian
                fields.append("name_id")
            if fields:
                row.save(update_fields=fields)


def keep_names(apps, schema_editor):
    """Going back drops ``name_id``; the English names stay as they are."""


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0003_response_target_per_priority"),
    ]

    operations = [
        migrations.AddField(
            model_name="capability",
            name="name_id",
            field=models.CharField(
                blank=True, help_text="Bahasa Indonesia (the English name when empty)", max_length=128
            ),
        ),
        migrations.AddField(
            model_name="incidenttype",
            name="name_id",
            field=models.CharField(
                blank=True, help_text="Bahasa Indonesia (the English name when empty)", max_length=128
            ),
        ),
        migrations.AddField(
            model_name="unittype",
            name="name_id",
            field=models.CharField(
                blank=True, help_text="Bahasa Indonesia (the English name when empty)", max_length=128
            ),
        ),
        migrations.AlterField(
            model_name="capability",
            name="name",
            field=models.CharField(help_text="English", max_length=128),
        ),
        migrations.AlterField(
            model_name="incidenttype",
            name="name",
            field=models.CharField(help_text="English", max_length=128),
        ),
        migrations.AlterField(
            model_name="unittype",
            name="name",
            field=models.CharField(help_text="English", max_length=128),
        ),
        migrations.RunPython(fill_names, keep_names),
    ]
