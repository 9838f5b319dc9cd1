"""`verify profile show|check|learn`: the lookup profiles in force, one test lookup, and a guided
confirmation from real cards (docs/lookup.md).

Every step of `learn` prompts (Typer) when its flag is not given, so a region can confirm a
profile in minutes at a terminal and a deployment script can do the same with flags only.
Page text is shown on the terminal only (`check --show-page`, `learn`), never written.
"""

import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from drivers import open_source
from verify.cards.reference import parse_reference
from verify.cli.app import Card, Json, Lang, app, check_card, check_lang, fail
from verify.clock import today
from verify.errors import ConfigError, ParseError
from verify.locale import N_, _, set_language
from verify.lookup.learn import (
    Proposal,
    candidate,
    personal_reason,
    propose,
    sentences,
    with_markers,
    written_problems,
)
from verify.lookup.page import PageTimeout, marker_hits, page_text, read_text
from verify.lookup.profile import CARD_KINDS, LookupProfile, check_no_overlap
from verify.lookup.settings import Settings, profiles_dir
from verify.model import EXIT_UNKNOWN, LookupReference, Validity
from verify.present.terminal import printable

profile_app = typer.Typer(
    no_args_is_help=True,
    help="Lookup profiles: show the ones in force, check one lookup, learn one from real cards.",
)
app.add_typer(profile_app, name="profile")

# The marker kinds a person picks in `learn`, with the question asked for each.
PICKS = ("page", "valid", "no_information", "right_to_work", "no_right_to_work")
REQUIRED_PICKS = frozenset({"page", "valid", "no_information"})
# A card's state as a person reads it (the codes valid/not_valid stay in JSON).
STATE_WORDS = {"valid": N_("valid"), "not_valid": N_("not valid"),
               "unknown": N_("cannot be determined")}
Pick = Annotated[list[str] | None, typer.Option(help="sentence number or text; repeatable")]


def _question(kind: str) -> str:
    return {
        "page": _("Which sentences show that this is the lookup page (a heading on every answer)?"),
        "valid": _("Which sentences mean: the card is valid?"),
        "no_information": _("Which sentences mean: there is no information (not valid)?"),
        "right_to_work": _("Which sentences mean: the holder has the right to work?"),
        "no_right_to_work": _("Which sentences mean: the holder has no right to work?"),
    }[kind]


@profile_app.command("show")
def show(as_json: Json = False, lang: Lang = "sv") -> None:
    """The profiles in force: card kind, where each came from, confirmed or not, when, by whom."""
    set_language(check_lang(lang))
    settings = Settings.from_env()
    rows = [_describe(p) for p in settings.profiles]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        # A profile file is written by a person or a script: its text is shown, never obeyed.
        row = {k: printable(v) if isinstance(v, str) else v for k, v in row.items()}
        state = (
            _("confirmed {on}", on=row["confirmed_on"] or "")
            if row["confirmed"]
            else _("UNCONFIRMED")
        )
        typer.echo(f"{row['kind']}: {row['name']} — {state}")
        source = _("shipped with verify") if row["source"] == "shipped" else row["source"]
        typer.echo("  " + _("from: {source}", source=source))
        where = str(row["token_location"])
        typer.echo("  " + _("address: {base} (the card's code {where})", base=row["base"],
                            where=_("follows it") if where == "path" else _(
                                "in the parameter {name}", name=where.partition(":")[2])))
        if row["note"]:
            typer.echo("  " + _("note: {note}", note=row["note"]))
    typer.echo(_("Learnt profiles are written to {folder}", folder=profiles_dir()))


def _describe(p: LookupProfile) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "name": p.name,
        "confirmed": p.confirmed,
        "confirmed_on": p.confirmed_on,
        "note": p.note,
        "source": p.source,
        "base": p.base,
        "token_location": p.token_location,
        "token_pattern": p.token_pattern,
    }


@profile_app.command("check")
def check(
    text: Annotated[str, typer.Argument(help="a card's lookup address (QR text) or token")],
    card_kind: Card = None,
    show_page: Annotated[
        bool, typer.Option("--show-page", help="print the page's visible text (terminal only)")
    ] = False,
    lang: Lang = "sv",
) -> None:
    """One lookup: which of the profile's markers the page holds, and what it reads as."""
    set_language(check_lang(lang))
    settings = Settings.from_env()
    card_kind = check_card(card_kind)
    if card_kind is not None:
        settings = settings.for_card(card_kind)
    ref = parse_reference(text, settings)
    profile = settings.profile_named(ref.profile)
    typer.echo(_("Profile: {name} ({kind} card)", name=profile.name, kind=profile.kind))
    # The lookup client brings requests: loaded only when a lookup happens.
    from verify.lookup.client import LookupClient

    with LookupClient(settings) as client:
        page = client.fetch_page(ref)
    if isinstance(page, Validity):
        typer.echo(_("No page to check: {detail}", detail=page.detail))
        raise typer.Exit(EXIT_UNKNOWN)
    try:
        deadline = time.monotonic() + settings.timeout
        visible = page_text(page.text, deadline)
        shown = sentences(page.text, deadline) if show_page else []
    except PageTimeout:
        typer.echo(_("The page could not be read within {seconds} s.",
                     seconds=f"{settings.timeout:g}"))
        raise typer.Exit(EXIT_UNKNOWN) from None
    for kind, hits in marker_hits(visible, profile).items():
        for marker, hit in hits.items():
            mark = _("matched") if hit else _("not matched")
            typer.echo(f"  [{mark}] {kind}: \"{printable(marker)}\"")
    validity = read_text(visible, profile, ref)
    rtw = "" if validity.right_to_work is None else _(
        " (right to work: {answer})", answer=_("yes") if validity.right_to_work else _("no"))
    typer.echo(_("Reads as: {state}", state=validity.state) + rtw)
    if not profile.confirmed:
        typer.echo(_("The profile is unconfirmed: `verify profile learn` confirms it."))
    if show_page:
        _page_warning()
        for n, sentence in enumerate(shown, 1):
            typer.echo(f"  {n:>3}. {printable(sentence)}")
    raise typer.Exit(validity_exit(validity))


def validity_exit(validity: Validity) -> int:
    return {"valid": 0, "not_valid": 1}.get(validity.state, EXIT_UNKNOWN)


def _page_warning() -> None:
    typer.echo(
        _("Warning: the page text below may hold personal data. It is shown on this terminal "
          "only and never written anywhere; do not copy it into tickets or chats."),
        err=True,
    )


@profile_app.command("learn")
def learn(
    card_kind: Card = None,
    code: Annotated[
        list[str] | None,
        typer.Option("--code", help="a real card's QR code or lookup address; give 2 or more"),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="scan the cards from any source, e.g. serial:/dev/ttyACM0"),
    ] = None,
    count: Annotated[
        int, typer.Option("--count", min=2, max=20, help="how many cards --source reads")
    ] = 2,
    base: Annotated[str | None, typer.Option(help="the base address (default: proposed)")] = None,
    token_location: Annotated[
        str | None, typer.Option(help="path or query:NAME (default: proposed)")
    ] = None,
    token_pattern: Annotated[
        str | None, typer.Option(help="the token's grammar, a regex (default: proposed)")
    ] = None,
    page: Pick = None,
    valid: Pick = None,
    no_information: Pick = None,
    right_to_work: Pick = None,
    no_right_to_work: Pick = None,
    name: Annotated[str | None, typer.Option(help="the profile's name")] = None,
    note: Annotated[str | None, typer.Option(help="who confirmed it, from which cards")] = None,
    confirm: Annotated[
        bool | None,
        typer.Option("--confirm/--no-confirm", help="mark confirmed when the check passes"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="where to write (default: the profiles folder)")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="accept proposals without asking")
    ] = False,
    lang: Lang = "sv",
) -> None:
    """Confirm a lookup profile from two or more real cards, step by step."""
    set_language(check_lang(lang))
    # --yes asks nothing it can default: the card kind is then the prompt's default, lma.
    kind = check_card(card_kind) or ("lma" if yes else _ask_kind())
    codes = list(code or [])
    if yes and source is None and len(codes) < 2:
        raise fail("--yes needs two or more --code (a profile is learnt from at least two real "
                   "cards); add another --code or leave --yes out to be asked")
    if source is not None:
        codes += _scan_codes(source, count)
    codes = codes or _ask_codes()
    proposal = propose(codes)
    proposal = _settle_address(proposal, base, token_location, token_pattern, yes)
    draft = candidate(proposal, kind, name)
    current = Settings.from_env()
    fetch_settings = Settings(
        profile=draft,
        base=draft.base,
        allowed_hosts=frozenset(draft.allowed_hosts),
        allow_loopback_http=current.allow_loopback_http,
        timeout=current.timeout,
    )
    fetch_settings.check_base()
    refs = [parse_reference(c, fetch_settings) for c in codes]
    pages = _fetch(fetch_settings, refs)
    numbered = _number(pages)
    number_of = {sentence: n for n, sentence in enumerate(numbered, 1)}
    _page_warning()
    for i, page_sentences in enumerate(pages, 1):
        typer.echo(_("Card {n}:", n=i))
        for sentence in page_sentences:
            typer.echo(f"  {number_of[sentence]:>3}. {printable(sentence)}")
    on_every = set.intersection(*(set(p) for p in pages))
    common = [s for s in numbered if s in on_every and personal_reason(s) is None]
    given = {"page": page, "valid": valid, "no_information": no_information,
             "right_to_work": right_to_work, "no_right_to_work": no_right_to_work}
    tokens = [r.token for r in refs]
    chosen: dict[str, list[str]] = {}
    for kind_ in PICKS:
        answers = given[kind_]
        if answers is None:
            default = ",".join(str(number_of[s]) for s in common[:1]) if kind_ == "page" \
                else ""
            answer = typer.prompt(_question(kind_), default=default, show_default=bool(default))
            while kind_ in REQUIRED_PICKS and not str(answer).strip():
                # Required: an empty answer is asked again, not taken as "none".
                typer.echo(_("An answer is needed: the numbers of one or more sentences."))
                answer = typer.prompt(_question(kind_), default=default,
                                      show_default=bool(default))
            answers = [answer]
        chosen[kind_] = _resolve(answers, numbered, pages, tokens, kind_)
    for kind_ in ("page", "valid", "no_information"):
        if not chosen[kind_]:
            raise ParseError("no_marker", _("pick at least one sentence for {kind}", kind=kind_))
    profile = with_markers(draft, chosen)
    typer.echo(_("Checking the profile on the cards:"))
    failed = False
    for i, (ref, page_sentences) in enumerate(zip(refs, pages, strict=True), 1):
        validity = read_text(" ".join(page_sentences), profile, ref)
        rtw = "" if validity.right_to_work is None else _(
            " (right to work: {answer})", answer=_("yes") if validity.right_to_work else _("no"))
        typer.echo("  " + _("card {n}: {state}", n=i, state=_(STATE_WORDS[validity.state])) + rtw)
        failed = failed or validity.state == "unknown"
    if failed:
        typer.echo(_("The chosen sentences do not read every card; nothing was written."), err=True)
        raise typer.Exit(EXIT_UNKNOWN)
    if confirm is None:
        confirm = typer.confirm(
            _("Mark the profile confirmed (you compared these pages with the cards)?"),
            default=True,
        )
    if confirm:
        if note is None:
            note = typer.prompt(_("A note: who confirmed it, from which cards"), default="",
                                show_default=False)
        profile = _confirmed(profile, note or "")
    target = output or profiles_dir() / f"{kind}.toml"
    _check_fits_with_others(profile, current, target)
    text = profile.to_toml()
    problems = written_problems(text, tokens)
    if problems:  # checked on the very text to be written: nothing refused reaches the file
        raise ParseError("personal", _("not written to {path}: refused, {why}", path=target,
                                       why=printable("; ".join(problems))))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "utf-8")
    state = _("confirmed") if profile.confirmed else _("unconfirmed")
    typer.echo(_("Wrote {state} profile {name} to {path}", state=state, name=profile.name,
                 path=target))


def _ask_kind() -> str:
    kind = typer.prompt(_("Which card kind (lma or application)?"), default="lma")
    if kind not in CARD_KINDS:
        raise fail(_("card kind must be lma or application"))
    return str(kind)


def _scan_codes(source: str, count: int) -> list[str]:
    """`count` scans from a scanner, camera or file source (the source's end stops early)."""
    typer.echo(_("Scan {n} real cards now.", n=count))
    codes: list[str] = []
    with open_source(source) as scans:
        for scan in scans:
            codes.append(scan.payload)
            typer.echo(_("Card {n} read.", n=len(codes)))
            if len(codes) >= count:
                break
    return codes


def _ask_codes() -> list[str]:
    typer.echo(_("Scan or paste the QR codes of two or more real cards; an empty line ends."))
    codes: list[str] = []
    while len(codes) < 20:
        text = typer.prompt(_("Card {n}", n=len(codes) + 1), default="", show_default=False)
        if not text.strip():
            break
        codes.append(text.strip())
    return codes


def _settle_address(
    proposal: Proposal, base: str | None, where: str | None, pattern: str | None, yes: bool
) -> Proposal:
    typer.echo(_("Proposed from the cards' addresses:"))
    typer.echo("  " + _("base address: {v}", v=proposal.base))
    typer.echo("  " + _("allowed host: {v}", v=proposal.host))
    typer.echo("  " + _("token: {where}, grammar {pattern}", where=proposal.token_location,
                        pattern=proposal.token_pattern))
    ask = not yes
    return Proposal(
        base=base or (typer.prompt(_("Base address"), default=proposal.base) if ask
                      else proposal.base),
        host=proposal.host,
        token_location=where or (
            typer.prompt(_("Token location"), default=proposal.token_location) if ask
            else proposal.token_location),
        token_pattern=pattern or (
            typer.prompt(_("Token grammar"), default=proposal.token_pattern) if ask
            else proposal.token_pattern),
        tokens=proposal.tokens,
    )


def _fetch(settings: Settings, refs: list[LookupReference]) -> list[list[str]]:
    out: list[list[str]] = []
    # The lookup client brings requests: loaded only when a lookup happens.
    from verify.lookup.client import LookupClient, Page

    with LookupClient(settings) as client:
        for i, ref in enumerate(refs, 1):
            page = client.fetch_page(ref)
            if not isinstance(page, Page):
                typer.echo(_("Card {n}: no page ({detail})", n=i, detail=page.detail), err=True)
                raise typer.Exit(EXIT_UNKNOWN)
            try:
                out.append(sentences(page.text, time.monotonic() + settings.timeout))
            except PageTimeout:
                typer.echo(_("The page could not be read within {seconds} s.",
                             seconds=f"{settings.timeout:g}"), err=True)
                raise typer.Exit(EXIT_UNKNOWN) from None
    return out


def _number(pages: list[list[str]]) -> list[str]:
    """Every sentence of every page once, in order of first appearance."""
    numbered: dict[str, None] = {}
    for page_sentences in pages:
        numbered.update(dict.fromkeys(page_sentences))
    return list(numbered)


def _resolve(
    answers: list[str], numbered: list[str], pages: list[list[str]], tokens: list[str], kind: str
) -> list[str]:
    """Sentence numbers or texts → marker sentences; refuses what could identify someone."""
    picked: list[str] = []
    for answer in answers:
        for item in (a.strip() for a in answer.split(",") if a.strip()):
            if item.isdigit():
                n = int(item)
                if not 1 <= n <= len(numbered):
                    raise ParseError("no_sentence", _("there is no sentence {n}", n=n))
                sentence = numbered[n - 1]
            else:
                sentence = " ".join(item.split()).casefold()
                if not any(sentence in " ".join(p) for p in pages):
                    raise ParseError(
                        "not_on_page", _("{kind}: that text is on none of the pages", kind=kind)
                    )
            reason = personal_reason(sentence, tokens)
            if reason is not None:
                raise ParseError(
                    "personal", _("{kind}: refused, {reason}: \"{sentence}\"", kind=kind,
                                  reason=reason, sentence=printable(sentence))
                )
            if sentence not in picked:
                picked.append(sentence)
    return picked


def _confirmed(profile: LookupProfile, note: str) -> LookupProfile:
    return dataclasses.replace(
        profile, confirmed=True, confirmed_on=today().isoformat(), note=note
    )


def _check_fits_with_others(profile: LookupProfile, current: Settings, target: Path) -> None:
    """The new profile must not overlap the other card kind's profile in force."""
    others = [p for p in current.profiles if p.kind != profile.kind]
    try:
        check_no_overlap([*others, profile])
    except ConfigError as exc:
        raise ConfigError(_("not written to {path}: {why}", path=target, why=exc)) from None
