"""UT cards as a user meets them: typed or pasted (`verify card --mrz`, `verify parse`), from a
desk MRZ reader on a serial port (real pty), and from a photo (`verify card --image`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scan import SourceError
from tests.cli.test_scanner import run_with_scanner
from tests.conftest import REPO, run_verify, verify_env
from verify.cards.mrz import compose_td1, compose_td3, parse_mrz
from verify.cards.ocr import read_mrz_file, read_mrz_image

CARDS = REPO / "fixtures" / "mrz" / "cards"

# Expiry 2045: valid for the life of this test suite; 2023: long expired.
VALID = compose_td1(document_number="UA7734907", birth="850315", expiry="450304",
                    surname="Shevchenko", given_names="Olena", sex="F")
EXPIRED = compose_td1(document_number="UA7734907", birth="850315", expiry="230304",
                      surname="Shevchenko", given_names="Olena", sex="F")
SECRETS = ("SHEVCHENKO", "OLENA", "850315", "1985-03-15")


def test_card_mrz_valid_ut_card_exit_0_and_json_facts_without_name():
    r = run_verify("card", "--mrz", VALID, "--json")
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["document"]["kind"] == "ut"
    assert status["validity"] == {**status["validity"], "state": "valid", "basis": "mrz_expiry"}
    mrz = status["document"]["mrz"]
    assert mrz["expiry_date"] == "2045-03-04" and mrz["issuing_state"] == "SWE"
    assert mrz["document_number"] == "UA7734907" and mrz["nationality"] == "UKR"
    assert mrz["checks"] == {"document_number": True, "birth_date": True, "expiry_date": True,
                             "composite": True}
    assert isinstance(mrz["age"], int) and mrz["age"] >= 40
    assert "names" not in mrz and "SHEVCHENKO" not in r.stdout


SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text("utf-8"))


@pytest.mark.parametrize("text", [VALID, EXPIRED, VALID.replace("8503150", "8503151"),
                                  compose_td1(document_number="X1", birth="010101",
                                              expiry="300101", surname="A", given_names="B",
                                              issuing_state="DEU", document_code="AR"),
                                  compose_td3(document_number="FE1", birth="900101",
                                              expiry="400101", surname="A", given_names="B")])
def test_mrz_statuses_follow_the_status_schema(text):

    r = run_verify("card", "--mrz", text, "--json", "--show-name")
    assert r.returncode in (0, 1, 3), r.stderr
    jsonschema.validate(json.loads(r.stdout), SCHEMA)


def test_card_mrz_show_name_adds_the_name():
    r = run_verify("card", "--mrz", VALID, "--json", "--show-name")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["document"]["mrz"]["names"] == {
        "surname": "SHEVCHENKO", "given_names": "OLENA"}


def test_card_mrz_expired_exit_1_in_swedish_by_default():
    r = run_verify("card", "--mrz", EXPIRED.replace("\n", " "))
    assert r.returncode == 1, r.stderr
    assert "2023-03-04" in r.stdout and "SHEVCHENKO" not in r.stdout


def test_card_mrz_from_stdin_with_crlf_lines():
    r = run_verify("card", "--mrz", "-", "--json", input=VALID.replace("\n", "\r\n") + "\r\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["validity"]["state"] == "valid"


def test_card_mrz_failed_check_digit_is_unknown_exit_3_naming_the_field():
    lines = VALID.split("\n")
    lines[0] = lines[0][:8] + "9" + lines[0][9:]  # one digit of the document number
    r = run_verify("card", "--mrz", "\n".join(lines), "--json", "--lang", "en")
    assert r.returncode == 3, r.stderr
    status = json.loads(r.stdout)
    assert status["validity"]["state"] == "unknown"
    assert "document number" in status["validity"]["detail"]
    assert status["document"]["mrz"]["checks"]["document_number"] is False


@pytest.mark.parametrize("text", ["hello", "I<UTO" * 17, "P<" + "<" * 10])
def test_card_mrz_garbage_is_a_clear_error_exit_2(text):
    r = run_verify("card", "--mrz", text)
    assert r.returncode == 2
    assert r.stderr.startswith("verify: ") and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_parse_says_what_the_zone_is_without_the_name():
    r = run_verify("parse", VALID.replace("\n", "|"))
    assert r.returncode == 0, r.stderr
    assert "UT" in r.stdout and "SWE" in r.stdout and "2045-03-04" in r.stdout
    assert not any(s in r.stdout for s in SECRETS)
    r = run_verify("parse", "-", "--json", input=VALID)
    data = json.loads(r.stdout)
    assert data["kind"] == "mrz" and data["document_number"] == "UA7734907"
    assert data["document_kind"] == "ut" and data["age"] >= 40
    assert "names" not in data


def test_passport_zone_is_reported_as_a_passport_not_a_ut_card():
    text = compose_td3(document_number="FE123456", birth="900101", expiry="400101",
                       surname="Bondarenko", given_names="Taras", sex="M")
    r = run_verify("card", "--mrz", text, "--json")
    assert r.returncode == 3
    status = json.loads(r.stdout)
    assert status["document"]["kind"] == "passport"
    assert status["validity"]["basis"] == "not_a_ut_card"


def test_nothing_from_the_zone_reaches_a_log_at_debug_level():
    """The whole CLI path with the root logger at DEBUG on stderr: no name, no birth date,
    no document number, no zone line in the log (the JSON on stdout is the output asked for)."""
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG, stream=sys.stderr);"
        "from verify.cli import main; sys.argv = ['verify'] + sys.argv[1:]; main()"
    )
    for args in (["card", "--mrz", VALID, "--json"], ["parse", VALID],
                 ["card", "--mrz", VALID.replace("8503150", "8503151")],
                 ["card", "--image", str(CARDS / "p00-clean.jpg"), "--no-preview"]):
        r = subprocess.run([sys.executable, "-c", code, *args], env=verify_env(), cwd=REPO,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode in (0, 1, 3), r.stderr
        for secret in (*SECRETS, "UA7734907", *VALID.split("\n"),
                       "ZAKHARCHENKO", "ANDRII", "ZL7017716"):
            assert secret not in r.stderr


# ---- desk MRZ reader on a serial port ------------------------------------------------------

def test_serial_mrz_reader_end_to_end(tmp_path):
    """A desk reader sends the three lines CR-separated; the serial source in MRZ mode frames
    them into one scan, which is parsed and checked."""
    wire = [line.encode() + b"\r" for line in VALID.split("\n")]
    code, out, err = run_with_scanner(
        tmp_path, ["card", "--serial", "PORT?mode=mrz", "--json", "--timeout", "10"], wire)
    assert code == 0, err
    status = json.loads(out)
    assert status["document"]["kind"] == "ut"
    assert status["document"]["mrz"]["expiry_date"] == "2045-03-04"


def test_serial_mrz_reader_expired_card(tmp_path):
    wire = [line.encode() + b"\r\n" for line in EXPIRED.split("\n")]
    code, out, err = run_with_scanner(
        tmp_path, ["card", "--serial", "PORT?mode=mrz", "--json", "--timeout", "10"], wire)
    assert code == 1, err
    assert json.loads(out)["validity"]["state"] == "not_valid"


# ---- photos ---------------------------------------------------------------------------------

def _truth(name: str) -> str:
    return "\n".join(json.loads((CARDS / f"{name}.json").read_text())["lines"])


@pytest.mark.parametrize("name", ["p00-clean", "p02-rotated", "p03-photo", "p04-glare"])
def test_photos_of_card_backs_read_exactly(name):
    assert read_mrz_file(CARDS / f"{name}.jpg") == _truth(name)


def test_card_image_reads_the_zone_and_checks_it():
    r = run_verify("card", "--image", str(CARDS / "p03-photo.jpg"), "--no-preview", "--json")
    truth = json.loads((CARDS / "p03-photo.json").read_text())
    status = json.loads(r.stdout)
    assert status["document"]["kind"] == "ut"
    assert status["document"]["mrz"]["document_number"] == truth["document_number"]
    expected = 0 if truth["expiry"] >= "261122" else 1  # fixtures expire 2023-2027
    assert r.returncode in (expected, 1), r.stderr


def test_a_photo_with_the_zone_smudged_is_not_read(tmp_path):
    """Paint over the check digit of the expiry date: no reading may be accepted."""
    img = cv2.imread(str(CARDS / "p00-clean.jpg"))
    h, w = img.shape[:2]
    # The zone's second line, 15th character (the expiry check digit) of 30 across the zone.
    smudged = img.copy()
    x0 = int(w * 0.5)
    cv2.rectangle(smudged, (x0 - 5, int(h * 0.79)), (x0 + 60, int(h * 0.86)), (230, 230, 230), -1)
    assert read_mrz_image(smudged) is None


def test_a_photo_without_a_zone_is_not_read():
    blank = np.full((600, 900, 3), 235, np.uint8)
    cv2.putText(blank, "NO MACHINE READABLE ZONE HERE", (40, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.2,
                (20, 20, 20), 2)
    assert read_mrz_image(blank) is None


def test_not_an_image_file_is_refused_with_a_reason(tmp_path: Path):
    p = tmp_path / "x.jpg"
    p.write_bytes(b"not an image")
    with pytest.raises(SourceError, match=f"{p} is not an image this reader knows"):
        read_mrz_file(p)


@settings(max_examples=15, deadline=None)
@given(st.integers(20, 400), st.integers(20, 400), st.integers(0, 2**32 - 1),
       st.sampled_from(["noise", "stripes", "flat"]))
def test_hostile_images_give_none_or_a_checked_zone(h, w, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "noise":
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    elif kind == "stripes":
        img = np.zeros((h, w, 3), np.uint8)
        img[:: max(2, h // 10)] = 255
    else:
        img = np.full((h, w, 3), int(rng.integers(0, 256)), np.uint8)
    out = read_mrz_image(img)
    assert out is None or parse_mrz(out).ok
