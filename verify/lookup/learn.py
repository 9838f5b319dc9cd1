"""What `verify profile learn` proposes and checks: pure steps from real cards to a profile.

A person deploying `verify` scans or pastes the QR codes of two or more real cards. From their
addresses this proposes the base address, the host, where the token sits and its grammar; from
the pages it numbers the visible sentences; the person picks which mean valid / no information /
right to work / no right to work, and only those sentences are written. A sentence that could
identify someone (a long digit run, a date, a name label, the card's code) is refused.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from verify.cards.reference import clean_text
from verify.errors import ConfigError, ParseError
from verify.locale import _
from verify.lookup.page import page_text
from verify.lookup.pattern import PROBLEMS, pattern_problem
from verify.lookup.profile import MARKER_KINDS, LookupProfile, shipped_profile
from verify.tomlfile import parse_toml

MAX_MARKER_CHARS = 160
# Block-level tags end a sentence even without a full stop (headings, table cells, list items).
_BLOCK = re.compile(
    r"<(?=/?(?:p|h[1-6]|li|dt|dd|td|th|tr|div|section|header|footer|main|nav|title|br|table|dl"
    r"|figure|figcaption|blockquote|article|aside|ul|ol|form|label|button|hr)\b)",
    re.I,
)
_BREAK = "\ue000"  # a private-use character: survives the visible-text reader as a boundary
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DIGIT_RUN = re.compile(r"\d{4,}")
_DATE = re.compile(
    r"\b\d{1,2}\s*[./-]\s*\d{1,2}\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|maj|may|jun|jul|aug|sep|okt|oct"
    r"|nov|dec)[a-zåäö]*\b"
)
_PERSONAL = re.compile(
    r"\b(?:namn|förnamn|efternamn|name|surname|född|födelse\w*|birth|born|personnummer"
    r"|samordningsnummer|ärende\w*|case|dossier|adress|address|foto|photo|nationalitet"
    r"|nationality|medborgarskap|citizenship|kön|sex)\b"
)
# A bare name, by shape: two to six words of letters only, at least two of them not words a
# result page uses, and at most one that is (a particle or a stop word inside a name).
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_NOT_NAME = re.compile(
    r"^(?:av|för|är|och|om|i|på|till|med|har|inte|ej|ingen|inga|inget|finns|den|det|de|en|ett"
    r"|att|som|kan|ska|får|eller|men|vid|från|under|efter|ur|vi|du|ni|gav|gör|visas|sparas"
    r"|the|of|is|are|and|for|on|to|has|have|not|no|card|valid|work|was|be|a|an|this|found"
    r"|kontroll\w*|giltig\w*|\w*kort\w*|arbet\w*|information|uppgift\w*|migrationsverket"
    r"|status|resultat|sökresultat|lma\S*|at-und|kod\w*|träff\w*|hittade?s?|angiv\w*"
    r"|gäller|aktiv\w*|tillåt\w*|person\w*|sverige|innehavare\w*|undantag\w*|kravet"
    r"|tillstånd\w*|hämtas|direkt|ärendesystemet|tjänst\w*|tillfälligt|otillgänglig|underhåll"
    r"|utför|försök|igen|senare|godkänn|cookies|använder|fortsätta|startsida|sökning\w*|vem"
    r"|rätt|holder|right|search|result\w*|lookup|permit|exempt|service|page|maintenance"
    r"|try|again|later|accept|ok)$"
)
# Look-alike letters of other scripts, read as the Latin letter they show (a Greek capital
# Alpha in "Αnna" is an A to the eye).
_CONFUSABLE = str.maketrans(
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβεικνορτυχАВЕКМНОРСТУХаеорсухіјѕԁһӏ",
    "ABEZHIKMNOPTYXaBeikvoptuxABEKMHOPCTYXaeopcyxijsdhl",
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'",
                              "`": "'"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PUNCT_EDGES = "\"'.,;:!?()[]{}«»“”„‘’–—-…*·•/"
_DIGIT_GROUPS = re.compile(r"(?<=\d)[\s.,/\-–—]+(?=\d)")
_MONTH = re.compile(
    r"\b(?:januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november"
    r"|december|january|february|march|may|june|july|august|october|jan|feb|mar|apr|jun|jul"
    r"|aug|sept?|okt|oct|nov|dec)\b"
)
_NUMBER_STEM = (
    r"(?:noll|två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tretton|fjorton|femton|sexton"
    r"|sjutton|arton|nitton|tjugo|trettio|fyrtio|femtio|sextio|sjuttio|åttio|nittio|hundra"
    r"|tusen|miljon(?:er)?|ett|en|zero|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty"
    r"|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|one"
    r"|första|tredje|fjärde|femte|sjätte|sjunde|åttonde|nionde|tionde|first|third)"
)
_NUMBER_WORD = re.compile(rf"{_NUMBER_STEM}+(?:de|nde|te|onde|th)?(?:-{_NUMBER_STEM}+)*")
_ARTICLES = {"en", "ett", "one", "sex"}  # also common words: a number only beside another
MAX_SENTENCES = 2000  # shown per page; a lookup answer has tens


def normalised(sentence: str) -> str:
    """A sentence as the eye reads it, for the personal-data refusal: compatibility forms
    folded (NFKC: superscript and full-width digits), invisible characters dropped (zero-width
    spaces, soft hyphens, direction marks), look-alike letters of other scripts read as Latin,
    case-folded, white space collapsed, punctuation at either end removed."""
    text = unicodedata.normalize("NFKC", sentence)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = text.translate(_CONFUSABLE).translate(_APOSTROPHES).casefold()
    return " ".join(text.split()).strip(_PUNCT_EDGES + " ")


def _numbers_in_words(words: list[str]) -> bool:
    numeric = [w for w in words if _NUMBER_WORD.fullmatch(w)]
    compound = any(len(re.findall(_NUMBER_STEM, w)) > 1 for w in numeric if w not in _ARTICLES)
    counted = [w for w in numeric if w not in _ARTICLES]
    return compound or len(counted) >= 2 or (bool(counted) and len(numeric) >= 2)


TOKEN_CLASSES = (("A-Z", str.isupper), ("a-z", str.islower), ("0-9", str.isdigit))


@dataclass(frozen=True)
class Proposal:
    """The address part of a profile, read off the cards' addresses."""

    base: str
    host: str
    token_location: str
    token_pattern: str
    tokens: tuple[str, ...]


def propose(addresses: Sequence[str]) -> Proposal:
    """Base address, host, token location and grammar common to the cards' addresses."""
    if len(addresses) < 2:
        raise ParseError("too_few", "give the QR codes of at least two real cards")
    parts = []
    for address in addresses:
        s = clean_text(address)
        split = urlsplit(s)
        if split.scheme not in ("https", "http") or not split.hostname:
            raise ParseError("not_an_address", "each QR code must be a web address (https://…)")
        if split.username or split.password or split.fragment or "%" in s:
            raise ParseError("odd_address",
                             "a card's address has a user name, '#' or percent codes (%XX)")
        parts.append(split)
    origins = {(p.scheme, (p.hostname or "").lower(), p.port) for p in parts}
    if len(origins) != 1:
        raise ParseError("hosts_differ", "the cards' addresses name different hosts or ports")
    scheme, host, port = origins.pop()
    origin = f"{scheme}://{host}" + (f":{port}" if port else "")
    queries = [p.query.split("&") if p.query else [] for p in parts]
    params = {q[0].partition("=")[0] for q in queries if len(q) == 1}
    paths = {p.path for p in parts}
    if all(len(q) == 1 for q in queries) and len(params) == 1 and len(paths) == 1:
        name = params.pop()
        tokens = tuple(q[0].partition("=")[2] for q in queries)
        location, base = f"query:{name}", origin + paths.pop()
    elif not any(queries):
        prefix = os.path.commonprefix([p.path for p in parts])
        base_path = prefix[: prefix.rfind("/") + 1] or "/"
        tokens = tuple(p.path[len(base_path) :] for p in parts)
        location, base = "path", origin + base_path
    else:
        raise ParseError("no_common_shape", "the cards' addresses do not share one shape")
    if any(not t or "/" in t for t in tokens) or len(set(tokens)) != len(tokens):
        raise ParseError(
            "no_token", "no distinct code per card found at the end of the addresses"
        )
    return Proposal(base, host, location, token_grammar(tokens), tokens)


def token_grammar(tokens: Iterable[str]) -> str:
    """A regular expression every token fits: its character classes and length range."""
    tokens = list(tokens)
    chars = "".join(tokens)
    classes = [cls for cls, test in TOKEN_CLASSES if any(test(c) and c.isascii() for c in chars)]
    extra = sorted({c for c in chars if not (c.isascii() and c.isalnum())})
    if any(c not in "-_." for c in extra):
        raise ParseError("token_chars", "the codes hold characters other than letters, digits, -_.")
    if "A-Z" in classes or "a-z" in classes:
        classes = [c for c in classes if c not in ("A-Z", "a-z")] + ["A-Za-z"]
    body = "".join(sorted(classes, key=lambda c: c != "A-Za-z")) + "".join(
        "\\" + c if c in "-." else c for c in extra
    )
    low, high = min(map(len, tokens)), max(map(len, tokens))
    size = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
    return f"[{body}]{size}"


def sentences(markup: str, deadline: float | None = None) -> list[str]:
    """The page's visible sentences, case-folded, in order, each once; at most `MAX_SENTENCES`
    (a page of tens of thousands is no lookup answer, and each costs a line on the screen).
    Raises `PageTimeout` when reading the page would pass `deadline`."""
    text = page_text(_BLOCK.sub(_BREAK + "<", markup), deadline)
    out: dict[str, None] = {}
    for block in text.split(_BREAK):
        for sentence in _SENTENCE_END.split(block.strip()):
            sentence = sentence.strip()
            if sentence:
                out[sentence] = None
                if len(out) >= MAX_SENTENCES:
                    return list(out)
    return list(out)


def personal_reason(sentence: str, tokens: Iterable[str] = ()) -> str | None:
    """Why a sentence may not become a marker (it could identify someone), or None.

    Judged on the sentence as the eye reads it (`normalised`), so dressing a name or a number
    up (a trailing full stop, zero-width spaces, a Greek capital, superscript digits, digits in
    groups, numbers and months in words) does not get it past.
    """
    folded = normalised(sentence)
    packed = re.sub(r"[\W_]", "", folded)  # the card's code, however it is split up
    if any(t and (t.casefold() in folded or _packed(t) in packed) for t in tokens):
        return _("it holds the card's code")
    if _DIGIT_RUN.search(_DIGIT_GROUPS.sub("", folded)):
        return _("it holds a long run of digits (a number or a year)")
    if _DATE.search(folded) or _MONTH.search(folded):
        return _("it looks like a date")
    if _PERSONAL.search(folded) or _EMAIL.search(folded):
        return _("it looks like a name or another personal detail")
    raw = folded.split()
    words = [w.strip(_PUNCT_EDGES) for w in raw]
    if _numbers_in_words(words):
        return _("it holds a number in words")
    if 2 <= len(words) <= 6 and all(_NAME_WORD.fullmatch(w) for w in words):
        # An initial ("a." in "A. Andersson") is part of a name, never a common word.
        common = sum(1 for w, r in zip(words, raw, strict=True)
                     if _NOT_NAME.match(w) and not (len(w) == 1 and r.endswith(".")))
        if common <= 1 and len(words) - common >= 2:
            return _("it looks like a name or another personal detail")
    if len(folded) > MAX_MARKER_CHARS:
        return _("it is longer than {n} characters", n=MAX_MARKER_CHARS)
    return None


def _packed(token: str) -> str:
    return re.sub(r"[\W_]", "", token.casefold()) or token.casefold()


def written_problems(toml_text: str, tokens: Iterable[str]) -> list[str]:
    """What in a profile about to be written would be refused: every marker read back from the
    very text to be written and checked again, so nothing reaches the file that a pick would
    not pass (whatever path it took there)."""
    data = parse_toml(toml_text, "profile")
    markers = data.get("markers", {})
    tokens = list(tokens)
    problems = []
    for kind in MARKER_KINDS:
        for marker in markers.get(kind, ()):
            reason = personal_reason(str(marker), tokens)
            if reason is not None:
                problems.append(f"{kind}: {reason}: \"{marker}\"")
    return problems


def candidate(proposal: Proposal, kind: str, name: str | None = None) -> LookupProfile:
    """The profile the proposal describes, with no markers yet (for fetching the pages)."""
    problem = pattern_problem(proposal.token_pattern)
    if problem is not None:  # a pattern typed at the prompt is held to what a file is
        key, values = problem
        raise ConfigError(PROBLEMS[key], path="--token-pattern", pattern=proposal.token_pattern,
                          **values)
    shipped = shipped_profile(kind)
    return dataclasses.replace(
        shipped,
        name=name or f"{proposal.host}-{kind}-learnt",
        confirmed=False,
        base=proposal.base,
        allowed_hosts=(proposal.host,),
        token_location=proposal.token_location,
        token_pattern=proposal.token_pattern,
        markers={kind_: () for kind_ in shipped.markers},
        source="learn",
        confirmed_on=None,
        note="",
    )


def with_markers(profile: LookupProfile, chosen: Mapping[str, Sequence[str]]) -> LookupProfile:
    """The profile with the chosen sentences as markers (the shipped maintenance/consent kept)."""
    shipped = shipped_profile(profile.kind)
    markers = {kind: tuple(chosen.get(kind, ())) for kind in profile.markers}
    markers["maintenance"] = shipped.markers["maintenance"]
    markers["consent"] = shipped.markers["consent"]
    return dataclasses.replace(profile, markers=markers)
