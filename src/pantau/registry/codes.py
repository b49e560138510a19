"""Kemendagri region codes (PP.KK.CC.LLLL) and forgiving name matching."""

from __future__ import annotations

import re
import unicodedata

KELURAHAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")
KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")


class CodeError(ValueError):
    """A region code that does not match the official pattern or its parent."""


def check_kelurahan_code(code: str) -> str:
    code = code.strip()
    if not KELURAHAN_CODE.match(code):
        raise CodeError(
            f"kelurahan code {code!r} does not match the Kemendagri pattern PP.KK.CC.LLLL "
            "(e.g. 74.71.01.1005)"
        )
    return code


def check_kecamatan_code(code: str) -> str:
    code = code.strip()
    if not KECAMATAN_CODE.match(code):
        raise CodeError(
            f"kecamatan code {code!r} does not match the Kemendagri pattern PP.KK.CC "
            "(e.g. 74.71.01)"
        )
    return code


def check_pair(kelurahan_code: str, kecamatan_code: str) -> None:
    if not kelurahan_code.startswith(kecamatan_code + "."):
        raise CodeError(
            f"kelurahan code {kelurahan_code} does not belong to kecamatan {kecamatan_code}"
        )


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def fold(text: str) -> str:
    """Spelling-forgiving key: Anduonohu ~ Andonohu, Kessilampe ~ Kassilampe.

    Vowels are dropped and doubled consonants collapsed, because local spellings of kelurahan
    names differ mostly in vowels and doubling.
    """
    letters = re.sub(r"[aeiou\s\-]+", "", slugify(text))
    return re.sub(r"(.)\1+", r"\1", letters)
