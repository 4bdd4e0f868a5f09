"""Cleaning of short user texts shown as names and titles (pseudonyms, titles, board names)."""
from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address

from forum.errors import Invalid
from forum.i18n import N_

# Direction overrides/isolates and zero-width characters: they let a name or a title pretend to
# be something else ("moderatrice" + U+202E ...), so they never reach a page.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# Not characters at all (XML, hence feeds, refuses them): U+FFFE, U+FFFF, lone surrogates.
NONCHARACTERS = re.compile("[\ufffe\uffff\ud800-\udfff]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What no text a user sends keeps, whatever the field: controls but tab and line breaks (NUL,
# C0, DEL, C1: unseen, and XML refuses most, so a single one would break a feed), direction
# overrides and zero-width characters (SECURITY.md), and non-characters.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                    "\u2060-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")
SPACES = re.compile(r"\s+")
# One character that cleaning keeps and that is not a space: a text holding one is "not only
# spaces". A JSON Schema pattern too (the API's required texts), so written for both engines.
VISIBLE = ("[^\\s\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069"
           "\\ufeff\\ufffe\\uffff]")
PSEUDONYM_MIN, PSEUDONYM_MAX = 2, 30
_PSEUDONYM_EXTRA = set("_-.")


def clean_line(text: str) -> str:
    """One line of text: NFC, no controls or invisible characters, spaces folded."""
    text = unicodedata.normalize("NFC", text)
    text = INVISIBLE.sub("", NONCHARACTERS.sub("", text))
    text = CONTROL.sub(" ", text)
    return SPACES.sub(" ", text).strip()


def required_line(text: str, field: str, limit: int, missing: str, too_long: str) -> str:
    """A one-line field that must be filled (a title, a name, an answer), cleaned: 422 on
    `field` with the msgid `missing` when nothing is left, `too_long` (it shows %(max)s) when
    it has more than `limit` characters."""
    text = clean_line(text)
    if not text:
        raise Invalid(missing, field=field)
    if len(text) > limit:
        raise Invalid(too_long, field=field, max=limit)
    return text


def clean_input(text: str) -> str:
    """Any text a user sends, as the forum keeps it: less the UNSAFE characters (tabs and line
    breaks stay: a body needs them; one-line fields fold them with clean_line)."""
    return UNSAFE.sub("", text)


def clean_body(text: str) -> str:
    """A post body as typed, less the UNSAFE characters; newlines normalised."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return clean_input(text)


EMAIL_MAX, EMAIL_LOCAL_MAX = 254, 64  # RFC 5321's limits, which mail servers enforce
# One plain address, the only form the mailer sends to: a dot-atom local part (RFC 5322) and a
# host name with a dot. No display name, quotes, comments, list or route: each could add a
# recipient or be refused later, when nobody is there to read why.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
_NOT_ALONE = re.compile(r"[\s<>,;:\"()\[\]\\]")


def email_problem(address: str) -> str | None:
    """Why an e-mail address will not do (a msgid), or None: the one rule of registration,
    settings, the command line and the mailer."""
    if len(address) > EMAIL_MAX:
        return N_("An e-mail address has at most 254 characters.")
    if _NOT_ALONE.search(address):
        return N_("Give the address alone, like name@example.org: no name, brackets, "
                  "spaces or line breaks.")
    if not EMAIL.fullmatch(address) or len(address.split("@")[0]) > EMAIL_LOCAL_MAX:
        return N_("This e-mail address does not look right.")
    try:  # the standard library's reading must agree, or the mailer would write another one
        same = str(Address(addr_spec=address)) == address
    except (HeaderParseError, ValueError, IndexError):
        same = False
    return None if same else N_("This e-mail address does not look right.")


def pseudonym_problem(name: str) -> str | None:
    """Why a pseudonym is not acceptable (a msgid), or None when it is."""
    if not PSEUDONYM_MIN <= len(name) <= PSEUDONYM_MAX:
        return N_("A pseudonym has 2 to 30 characters.")
    for char in name:
        if char in _PSEUDONYM_EXTRA:
            continue
        category = unicodedata.category(char)
        if not (category.startswith("L") or category == "Nd"):
            return N_("A pseudonym uses only letters, digits, _ - and .")
    if not any(unicodedata.category(c).startswith("L") for c in name):
        return N_("A pseudonym needs at least one letter.")
    return None


def pseudonym_key(name: str) -> str:
    """The form under which two pseudonyms are the same (case and width ignored)."""
    return unicodedata.normalize("NFKC", name).casefold()


def slugify(text: str) -> str:
    """'Saint-Étienne' -> 'saint-etienne'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def sort_key(text: str) -> str:
    """The order in which French readers expect names: 'Épinal' beside 'Essen', not after 'Z'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
