"""Parsers of one imported cell: the text as the file gives it (trimmed, not empty) in, a value out.

Each parser returns the value or raises ``ValueProblem`` with a French sentence about the value (the caller adds the
column's name); ``Ignored`` is a problem the v1 format tolerates: the value is left empty and the row stays valid,
with the sentence as a warning. Phones, emails and the accent-free comparison come from ``servicekit.contact`` so that
an imported value is normalised like one typed in a form.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from contracts.inputs import CONTROL
from servicekit.contact import normalise_email, normalise_phone, search_key
from servicekit.identifiers import BadNir, nir13, siret_is_valid


class ValueProblem(ValueError):
    """A cell's value refused; ``str()`` is the French sentence shown to the uploader."""


class Ignored(ValueProblem):
    """A value v1 silently left empty: still left empty (the row stays valid), but the uploader is told."""


def _quote(text: str) -> str:
    return f"« {text} »"


# --- text -------------------------------------------------------------------------------------------------------

def parse_text(text: str) -> str:
    # Cc: tabs, new lines, NUL…; Cs: lone surrogates. None of them belongs in a one-line field nor in a database.
    # One character class (the contracts' own) rather than each character's category: a quarter of the CPU a row
    # of a file cost to validate.
    if CONTROL.search(text):
        raise ValueProblem("le texte contient des caractères de contrôle (tabulation, retour à la ligne…) : "
                           "retirez-les.")
    return text


def parse_name(text: str) -> str:
    # v1 refused parentheses: they are how people wrote a maiden name or a nickname ("Dupont (Martin)").
    if "(" in text or ")" in text:
        raise ValueProblem("Les parenthèses ne sont pas autorisées dans les noms ; retirez-les.")
    return " ".join(parse_text(text).split())


def parse_list(text: str) -> list[str]:
    """A comma-separated list (v1's format for phones, emails, structures, jobs); empty items dropped."""
    return [parse_text(item.strip()) for item in text.split(",") if item.strip()]


# Every ROME job label ends with its code, "Modéliste en bijouterie, orfèvrerie, joaillerie (B1603)": the list is cut
# after each code, not at every comma as v1 did (93 of the 10,876 labels hold a comma). Text without codes is cut at
# commas; the apply step looks the labels up.
_AFTER_ROME_CODE = re.compile(r"(?<=\([A-Z]\d{4}\))\s*,", re.ASCII)


def parse_rome_labels(text: str) -> list[str]:
    labels: list[str] = []
    for piece in _AFTER_ROME_CODE.split(text):
        labels += [parse_text(" ".join(piece.split()))] if piece.strip().endswith(")") else parse_list(piece)
    return labels


# --- dates ------------------------------------------------------------------------------------------------------

DATE_FORMATS = "AAAA-MM-JJ, JJ/MM/AAAA, JJ-MM-AAAA ou JJ.MM.AAAA"
FIRST_BIRTH_DATE = date(1900, 1, 1)
# A time part is dropped: spreadsheets and database exports write "1982-02-01 00:00:00.0" for a date.
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
_YEAR_FIRST = re.compile(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}$", re.ASCII)
_DAY_FIRST = re.compile(rf"^(?P<d>\d{{1,2}})(?P<sep>[/.-])(?P<m>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}){_TIME}$", re.ASCII)
# A date cell read as a number gives Excel's serial: days since 1899-12-30 (the day before Excel's fictitious
# 1900-02-29). Five digits exactly, 10000 (1927-05-18) to 99999 (2173-10-14): a year typed alone ("1998") or a
# compact "20230101" is refused rather than read as a wrong date.
_EXCEL_SERIAL = re.compile(r"^[1-9]\d{4}(?:\.0+)?$", re.ASCII)
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(text: str) -> date:
    """Every v1 date format (two-digit years are refused: 01/02/03 could be 1903 or 2003)."""
    if _EXCEL_SERIAL.match(text):
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))
    found = _YEAR_FIRST.match(text) or _DAY_FIRST.match(text)
    if not found:
        raise ValueProblem(f"{_quote(text)} n'est pas une date reconnue : formats acceptés {DATE_FORMATS}.")
    try:
        return date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        raise ValueProblem(f"{_quote(text)} n'existe pas dans le calendrier : vérifiez le jour et le mois.") from None


def parse_birth_date(text: str) -> date:
    born = parse_date(text)
    if born > date.today():
        raise ValueProblem(f"{_quote(text)} est dans le futur : vérifiez l'année.")
    if born < FIRST_BIRTH_DATE:
        raise ValueProblem(f"{_quote(text)} est antérieure à 1900 : vérifiez l'année.")
    return born


# --- identifiers ------------------------------------------------------------------------------------------------

# The NIR and SIRET rules are servicekit.identifiers', shared with notebook and directory: a row accepted at review
# is not refused when applied.


def parse_nir(text: str) -> str:
    """The 13 characters of a NIR written with or without spaces, with or without its 2-digit key (checked)."""
    try:
        nir = nir13(text)
    except BadNir as exc:
        if exc.reason == "key":
            raise ValueProblem(f"{_quote(text)} : la clé (les 2 derniers chiffres) ne correspond pas au numéro ; "
                               "vérifiez le NIR.") from None
        nir = ""
    if not nir:
        raise ValueProblem(f"{_quote(text)} n'est pas un NIR valide : il faut 13 caractères, ou 15 avec la clé "
                           "(chiffres, 2A ou 2B pour la Corse).")
    return nir


def parse_siret(text: str) -> str:
    siret = re.sub(r"\s", "", text)
    if not (len(siret) == 14 and siret.isascii() and siret.isdigit()):
        raise ValueProblem(f"{_quote(text)} n'est pas un SIRET valide : il faut 14 chiffres.")
    if not siret_is_valid(siret):
        raise ValueProblem(f"{_quote(text)} n'est pas un SIRET valide : sa clé de contrôle ne correspond pas ; "
                           "vérifiez les 14 chiffres.")
    return siret


def parse_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueProblem(f"{_quote(text)} n'est pas un identifiant de carnet valide : recopiez-le depuis le "
                           "fichier des bénéficiaires en attente.") from None


# --- contact ----------------------------------------------------------------------------------------------------

def parse_email(text: str) -> str:
    email = normalise_email(text)
    if email is None:
        raise ValueProblem(f"{_quote(text)} n'est pas une adresse e-mail valide (par exemple nom@domaine.fr).")
    return email


def parse_emails(text: str) -> list[str]:
    return _each(parse_list(text), normalise_email, "ne sont pas des adresses e-mail valides",
                 "n'est pas une adresse e-mail valide", "(par exemple nom@domaine.fr)")


def parse_phone(text: str) -> str:
    if "," in text:
        raise ValueProblem(f"{_quote(text)} : un seul numéro de téléphone est attendu dans cette colonne.")
    return parse_phones(text)[0]


def _import_phone(text: str) -> str | None:
    import phonenumbers  # at the first file's phones, not at start (~1 MB of an idle service, issue 19 item 4)

    international = text.startswith(("+", "00"))
    if not international:
        text = re.sub(r"[\s.-]", "", text)
        if re.fullmatch(r"[1-9]\d{8}", text, re.ASCII):
            text = "0" + text  # a spreadsheet cell typed as a number drops the leading zero: 601234567
        if not re.fullmatch(r"0\d{9}", text, re.ASCII):
            return None  # a national number has 10 digits: 071234567 or 999999 is a typo, not Saint-Pierre's 6 digits
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=33, national_number=int(text[1:]))):
            # What normalise_phone finds first (the number parsed as metropolitan), without parsing the text again:
            # parsing is most of the time a 100,000-row file spends on its phones.
            return "+33" + text[1:]
        e164 = normalise_phone(text)  # in service, metropolitan or overseas (0692… is La Réunion's +262…)
        if e164 is not None:
            return e164
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    # v1 accepted any French number of the right length, even in ranges not allocated yet (07 12…, used in its own
    # files): refusing them would reject rows v1 took.
    if phonenumbers.is_valid_number(number) or (number.country_code == 33 and phonenumbers.is_possible_number(number)):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def parse_phones(text: str) -> list[str]:
    """Each number of a comma-separated list in E.164 (+33…); every invalid one is named."""
    return _each(parse_list(text), _import_phone, "ne sont pas des numéros de téléphone français valides",
                 "n'est pas un numéro de téléphone français valide", "(10 chiffres, par exemple 06 12 34 56 78)")


def _each(items: list[str], normalise: Callable[[str], str | None], several: str, one: str, hint: str) -> list[str]:
    values = [normalise(item) for item in items]
    bad = [_quote(item) for item, value in zip(items, values) if value is None]
    if bad:
        raise ValueProblem(f"{', '.join(bad)} {several if len(bad) > 1 else one} {hint}.")
    return values  # type: ignore[return-value]  # no None left


def parse_postal_code(text: str) -> str:
    # A spreadsheet cell typed as a number loses the leading zero of the Ain…Ardèche codes (1000 for 01000).
    code = "0" + text if len(text) == 4 else text
    if not (len(code) == 5 and code.isascii() and code.isdigit()) or code.startswith("00"):
        raise ValueProblem(f"{_quote(text)} n'est pas un code postal valide : 5 chiffres, par exemple 26000.")
    return code


def parse_website(text: str) -> str:
    # Shown as a link: only http(s), never javascript: or a bare name the browser would resolve relatively.
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in text):
        raise ValueProblem(f"{_quote(text)} n'est pas une adresse de site valide : elle doit commencer par "
                           "https:// (par exemple https://www.exemple.fr).")
    return text


# --- closed lists -----------------------------------------------------------------------------------------------

YES = {"oui", "o"}
NO = {"non", "n"}


def parse_yes_no(text: str) -> bool:
    answer = text.casefold()
    if answer in YES | NO:
        return answer in YES
    # v1 (and spec §4.1) leave anything else empty: kept, but said, so that "Peut-être" is not lost unnoticed.
    raise Ignored(f"{_quote(text)} n'est ni Oui ni Non : la valeur est laissée vide (écrivez Oui, O, Non ou N).")


def one_of(codes: Iterable[str], what: str) -> Callable[[str], str]:
    """A parser accepting one code of a closed list, whatever its case and accents ("Scolarise" → "scolarisé")."""
    by_key = {search_key(code): code for code in codes}
    listed = ", ".join(by_key.values())

    def parse(text: str) -> str:
        try:
            return by_key[search_key(text)]
        except KeyError:
            raise ValueProblem(f"{_quote(text)} n'est pas {what} : valeurs acceptées {listed}.") from None
    return parse


# --- headers ----------------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "*": " ", "\ufeff": " "})


def normalise_header(text: str) -> str:
    """What header cells are compared on: no case, accents, "*", BOM, apostrophe variant, nor extra spaces."""
    return search_key(text.translate(_APOSTROPHES))
