"""The desk page's words for scan sources: each source's state in staff's words, an alert
exactly when no source can deliver a card, whatever the states and source names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verify.desk.sources import sources_view

STATES = ["open", "starting", "opening", "waiting", "retrying", "ended", "stopped", "closed",
          "something new"]


def test_an_unplugged_scanner_is_said_in_staff_words_in_both_languages() -> None:
    view = sources_view({"serial:/dev/scanner?baud=9600": "waiting"}, lang="sv")
    assert not view["ready"]
    assert view["alert"] == "Skannern är inte ansluten — sätt i kabeln"
    assert view["headline"] == "Kort kan inte läsas just nu"
    assert view["sources"] == [{"name": "serial:/dev/scanner", "state": "waiting", "ok": False,
                                "text": "Skannern är inte ansluten — sätt i kabeln"}]
    english = sources_view({"serial:/dev/scanner": "waiting"}, lang="en")
    assert english["alert"] == "The scanner is not connected — plug in its cable"


def test_one_working_source_of_two_is_no_alert_but_the_other_is_named() -> None:
    view = sources_view({"serial:/dev/a": "waiting", "page:": "open"}, lang="sv")
    assert view["ready"] and view["alert"] == ""
    texts = [line["text"] for line in view["sources"]]
    assert "Skannern är inte ansluten — sätt i kabeln (serial:/dev/a)" in texts


def test_a_camera_and_a_finished_recording_have_their_own_words() -> None:
    view = sources_view({"camera:0": "retrying", "replay:x.jsonl": "ended"}, lang="sv")
    assert not view["ready"]
    assert view["alert"].startswith("Ingen källa kan läsa kort: ")
    assert "Kameran är inte ansluten — sätt i kabeln (camera:0)" in view["alert"]
    assert "Källan replay:x.jsonl är slut" in view["alert"]


@given(st.dictionaries(
    st.builds(lambda scheme, rest: f"{scheme}:{rest}",
              st.sampled_from(["serial", "camera", "page", "stdin", "image", "evdev", "x"]),
              st.text(max_size=20)),
    st.sampled_from(STATES), max_size=5))
def test_the_alert_stands_exactly_when_no_source_is_open(states: dict[str, str]) -> None:
    for lang in ("sv", "en"):
        view = sources_view(states, lang=lang)
        ready = not states or "open" in states.values()
        assert view["ready"] == ready
        assert bool(view["alert"]) == (not ready)
        assert len(view["sources"]) == len(states)
        assert all(line["text"] and line["ok"] == (line["state"] == "open")
                   for line in view["sources"])
