"""`verify card`, `verify parse`, `verify lookup`: one card from any source to a printed status."""

import json
from pathlib import Path
from typing import Annotated

import typer

from verify.authenticity import (
    DEFAULT_DEADLINE,
    DEFAULT_READER,
    check_status_chip,
    load_trust_folder,
)
from verify.cards.classify import classify
from verify.check import age_conflict, check_text, with_decision
from verify.cli.app import (
    Age,
    Card,
    Json,
    Lang,
    ResidentInCounty,
    app,
    check_card,
    check_lang,
    conditions_given,
    emit,
    fail,
    read_text_arg,
    say,
)
from verify.lookup.settings import Settings
from verify.model import Status
from verify.present.parsed import describe


@app.command()
def card(
    url: Annotated[
        str | None, typer.Option("--url", help="a pasted lookup address or QR text")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="the code typed from the card's back")
    ] = None,
    lma: Annotated[str | None, typer.Option("--lma", help="the LMA number under the photo")] = None,
    mrz: Annotated[
        str | None, typer.Option("--mrz", help="a UT card's MRZ, typed or pasted; - reads stdin")
    ] = None,
    camera: Annotated[int | None, typer.Option("--camera", help="webcam index (default 0)")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="a photo of the card")] = None,
    video: Annotated[Path | None, typer.Option("--video", help="a video of the card")] = None,
    serial: Annotated[
        str | None, typer.Option("--serial", help="a serial scanner port, e.g. /dev/ttyACM0")
    ] = None,
    keyboard: Annotated[
        bool, typer.Option("--keyboard", help="a scanner typing into this terminal")
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="any source URL, e.g. replay:FILE")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", envvar="VERIFY_REGION", help="region for the decision")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="patient category when the card does not tell")
    ] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD")] = None,
    age: Age = None,
    registered: Annotated[
        bool, typer.Option("--registered", help="the patient has a personnummer")
    ] = False,
    resident_in_county: ResidentInCounty = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="seconds to wait for a scan")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview/--no-preview", help="camera preview window")
    ] = True,
    show_name: Annotated[
        bool, typer.Option("--show-name",
                           help="show a UT card's name (from the MRZ) in the output")
    ] = False,
    card_kind: Card = None,
    chip: Annotated[
        bool, typer.Option("--chip", help="also read a UT card's chip and check its signature "
                                          "(a contactless reader; docs/chip.md)")
    ] = False,
    reader: Annotated[
        str, typer.Option("--reader", envvar="VERIFY_CHIP_READER",
                          help="the chip reader: pcsc: (first) or pcsc:?reader=NAME")
    ] = DEFAULT_READER,
    trust_store: Annotated[
        str | None, typer.Option("--trust-store", envvar="VERIFY_TRUST_STORE",
                                 help="folder of CSCA certificates, master lists and CRLs")
    ] = None,
    chip_timeout: Annotated[
        float, typer.Option("--chip-timeout", min=0.1, max=120,
                            help="seconds for the card to be put on the reader and read")
    ] = DEFAULT_DEADLINE,
    as_json: Json = False,
    lang: Lang = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="every source for every step")
    ] = False,
) -> None:
    """Read one card, check it, decide, print."""
    lang = check_lang(lang)
    card_kind = check_card(card_kind)
    trust = load_trust_folder(trust_store) if chip else None
    for name, why in trust.problems if trust else ():  # what is in the folder but not used
        say("the trust store's {name} is not used: {why}", name=name, why=why)
    texts = {"--url": url, "--token": token, "--lma": lma, "--mrz": mrz}
    captures = {
        "--camera": None if camera is None else f"camera:{camera}",
        "--image": None if image is None else f"image:{image}",
        "--video": None if video is None else f"video:{video}",
        "--serial": None if serial is None else f"serial:{serial}",
        "--keyboard": "stdin:" if keyboard else None,
        "--source": source,
    }
    given = [k for k, v in {**texts, **captures}.items() if v is not None]
    if len(given) != 1:
        raise fail("give exactly one card source: {options}",
                   options=", ".join([*texts, *captures]))
    option = given[0]
    if option in texts:
        text = read_text_arg(texts[option] or "")
        status = check_text(
            text, as_kind=option.lstrip("-"), show_name=show_name, card=card_kind
        )
        if trust is not None:
            status = check_status_chip(status, text, trust=trust, reader_url=reader,
                                       deadline=chip_timeout)
    else:
        # Imported here: the camera loop loads OpenCV (and Tk for the preview), which typed
        # and pasted cards never need.
        from verify.cli.capture import read_card

        def check_with_chip(payload: str, **kwargs: object) -> Status:
            read = check_text(payload, **kwargs)  # type: ignore[arg-type]
            if trust is None:
                return read
            return check_status_chip(read, payload, trust=trust, reader_url=reader,
                                     deadline=chip_timeout)

        status = read_card(
            captures[option] or "",
            timeout=timeout,
            preview=preview,
            show_name=show_name,
            lang=lang,
            check=check_with_chip,
        )
    conflict = age_conflict(status, age=age, birth_date=birth_date)
    if conflict is not None:
        raise fail("the age given ({typed}) disagrees with the card's machine-readable zone, "
                   "which says {zone}: check which is right and give that, or leave --age and "
                   "--birth-date out to use the card's", typed=conflict[0], zone=conflict[1])
    status = with_decision(
        status,
        region=region,
        category=category,
        age=age,
        birth_date=birth_date,
        registered=registered,
        conditions=conditions_given(resident_in_county),
    )
    emit(status, as_json=as_json, lang=lang, verbose=verbose)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="the text to classify; - reads stdin")],
    card_kind: Card = None,
    as_json: Json = False,
    lang: Lang = None,
) -> None:
    """Say what a text is: LMA number, lookup address or token, MRZ."""
    check_lang(lang)
    settings = Settings.from_env()
    card_kind = check_card(card_kind)
    if card_kind is not None:
        settings = settings.for_card(card_kind)
    parsed = classify(read_text_arg(text), settings=settings)
    if as_json:
        typer.echo(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(describe(parsed))


@app.command()
def lookup(
    text: Annotated[str, typer.Argument(help="a lookup address, QR text or token")],
    card_kind: Card = None,
    as_json: Json = False,
    lang: Lang = None,
) -> None:
    """Validity only: ask the agency's lookup service."""
    lang = check_lang(lang)
    status = check_text(read_text_arg(text), as_kind="lookup", card=check_card(card_kind))
    emit(status, as_json=as_json, lang=lang)
