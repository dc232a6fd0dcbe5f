"""The normalisation rules one by one (gazetteer/normalize.py); pure, no database."""

from __future__ import annotations

import pytest

from gazetteer.normalize import fold, normalize, roman_to_int


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # Jalan
        ("Jl. Sultan Thaha", "jalan sultan thaha"),
        ("Jln Sultan Thaha", "jalan sultan thaha"),
        ("JLN. sultan thaha", "jalan sultan thaha"),
        ("Jalan Sultan Thaha", "jalan sultan thaha"),
        # Gang and Lorong
        ("Gg. Melati", "gang melati"),
        ("Gg Melati", "gang melati"),
        ("Lrg. Pinang", "lorong pinang"),
        ("Lr Pinang", "lorong pinang"),
        # Kelurahan, Kecamatan
        ("Kel. Talang Banjar", "kelurahan talang banjar"),
        ("Kec Jambi Timur", "kecamatan jambi timur"),
        # Simpang (Smp. stays: it is also the SMP school level)
        ("Simp. Rimbo", "simpang rimbo"),
        # Masjid / Mesjid, Musala spellings
        ("Mesjid Al-Ikhlas", "masjid al ikhlas"),
        ("Musholla Nurul Iman", "musala nurul iman"),
        # RS / Rumah Sakit and its kinds
        ("RS Jiwa", "rumah sakit jiwa"),
        ("RSUD Raden Mattaher", "rumah sakit umum daerah raden mattaher"),
        ("RSIA Annisa", "rumah sakit ibu anak annisa"),
        # SD N / SDN / SD Negeri, SMA N
        ("SD N 47", "sdn 47"),
        ("SD Negeri 47", "sdn 47"),
        ("SDN 47", "sdn 47"),
        ("SDN47", "sdn 47"),
        ("SMA N 1", "sman 1"),
        # Roman and Arabic numbers, leading zeros
        ("Lorong II", "lorong 2"),
        ("Simpang IV", "simpang 4"),
        ("Batanghari 02", "batanghari 2"),
        ("Lorong XIX", "lorong 19"),
        # Titles
        ("Jl. Jend. Gatot Subroto", "jalan jenderal gatot subroto"),
        ("Jl. Kol. Abunjani", "jalan kolonel abunjani"),
        # Old spelling
        ("Jl. Soemantri Brodjonegoro", "jalan sumantri brojonegoro"),
        ("Djambi", "jambi"),
        ("Tjokroaminoto", "cokroaminoto"),
        # Case, accents, punctuation, spacing
        ("  JALAN   sultan\tTHAHA ", "jalan sultan thaha"),
        ("Café Émeraude", "cafe emeraude"),
        ("Masjid Agung Al-Falah (Seribu Tiang)", "masjid agung al falah seribu tiang"),
    ],
)
def test_rule(written: str, expected: str) -> None:
    assert normalize(written) == expected


def test_the_written_forms_of_one_name_meet() -> None:
    forms = ["Jl. Sultan Thaha", "JLN SULTAN THAHA", "jalan sultan thaha", "Jln. Sultan-Thaha"]
    assert len({normalize(f) for f in forms}) == 1


@pytest.mark.parametrize(("token", "value"), [("i", 1), ("iv", 4), ("ix", 9), ("xiv", 14), ("xxxix", 39)])
def test_roman_numerals(token: str, value: int) -> None:
    assert roman_to_int(token) == value


@pytest.mark.parametrize("token", ["", "di", "vii i", "iiii", "mix", "ivx"])
def test_words_that_are_not_roman_numerals_stay(token: str) -> None:
    assert roman_to_int(token) is None


def test_words_that_look_like_abbreviations_inside_names_stay() -> None:
    # Only whole tokens expand: "Jalan Gilang" keeps "gilang", "Kelapa" is not "kelurahan apa".
    assert normalize("Jalan Gilang Kelapa") == "jalan gilang kelapa"


def test_fold_drops_control_characters() -> None:
    assert fold("gang\x00melati\x07") == "gang melati"
