"""Seed and import the regions and kelurahan offices from the shipped Kendari data."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.registry.calendar import default_city_rules
from pantau.registry.codes import (
    CodeError,
    check_kecamatan_code,
    check_kelurahan_code,
    check_pair,
    slugify,
)
from pantau.store.models import (
    Calendar,
    CalendarRuleRow,
    Connectivity,
    Kecamatan,
    Kelurahan,
    RuleKind,
    Site,
    SiteKind,
)

E = TypeVar("E", bound=StrEnum)
D = TypeVar("D")

CITY_CALENDAR = "Kota Kendari"
REQUIRED_COLUMNS = ("code", "kelurahan", "kecamatan_code", "kecamatan")


class SiteImportError(Exception):
    """A row that cannot be imported; nothing was written."""


@dataclass
class SiteRow:
    line: int
    code: str
    kelurahan: str
    kecamatan_code: str
    kecamatan: str
    lat: float | None
    lon: float | None
    kind: SiteKind = SiteKind.KANTOR_KELURAHAN
    name: str | None = None
    connectivity: Connectivity | None = None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kecamatan: int = 0
    kelurahan: int = 0
    errors: list[str] = field(default_factory=list)


def shipped_csv() -> Path:
    return Path(str(resources.files("pantau.registry") / "data" / "kendari_kelurahan.csv"))


def _float(value: str | None, what: str, where: str) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise SiteImportError(f"{where}: {what} {value!r} is not a number") from exc


def _choice(enum: type[E], what: str, value: str | None, default: D) -> E | D:
    value = (value or "").strip()
    if not value:
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise SiteImportError(f"{what} {value!r} must be one of {allowed}") from None


def read_rows(path: Path) -> list[SiteRow]:
    """Parse and validate every row first, so a bad file changes nothing."""
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise SiteImportError(f"{path}: cannot open: {exc.strerror}") from exc
    rows: list[SiteRow] = []
    problems: list[str] = []
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SiteImportError(f"{path}: missing column(s) {', '.join(missing)}")
        for raw in reader:
            where = f"{path}:{reader.line_num}"
            # A short row leaves its missing cells as None; treat them as empty text.
            rec = {k: (v if isinstance(v, str) else "") for k, v in raw.items() if k is not None}
            try:
                code = check_kelurahan_code(rec["code"])
                kec = check_kecamatan_code(rec["kecamatan_code"])
                check_pair(code, kec)
                kind = _choice(SiteKind, "kind", rec.get("kind"), SiteKind.KANTOR_KELURAHAN)
                conn = _choice(Connectivity, "connectivity", rec.get("connectivity"), None)
                for col in ("kelurahan", "kecamatan"):
                    if not rec[col].strip():
                        raise SiteImportError(f"{col} name is empty")
                rows.append(
                    SiteRow(
                        line=reader.line_num,
                        code=code,
                        kelurahan=rec["kelurahan"].strip(),
                        kecamatan_code=kec,
                        kecamatan=rec["kecamatan"].strip(),
                        lat=_float(rec.get("lat"), "lat", where),
                        lon=_float(rec.get("lon"), "lon", where),
                        kind=kind,
                        name=(rec.get("name") or "").strip() or None,
                        connectivity=conn,
                    )
                )
            except (CodeError, SiteImportError) as exc:
                problems.append(
                    f"{where}: {exc}" if not str(exc).startswith(str(path)) else str(exc)
                )
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    if problems:
        raise SiteImportError("\n".join(problems))
    return rows


def ensure_city_calendar(session: Session) -> Calendar:
    cal = session.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
    if cal is not None:
        return cal
    cal = Calendar(name=CITY_CALENDAR, use_national_holidays=True)
    for rule in default_city_rules():
        cal.rules.append(
            CalendarRuleRow(
                kind=RuleKind(rule.kind),
                weekdays=sorted(rule.weekdays),
                opens=rule.opens,
                closes=rule.closes,
                start_date=rule.start,
                end_date=rule.end,
                reason=rule.reason,
            )
        )
    session.add(cal)
    session.flush()
    return cal


def base_slug(row: SiteRow) -> str:
    """kel-mandonga: the kind's short prefix and the kelurahan name (before collision suffixes)."""
    return slugify(f"{row.kind.value.split('_')[-1][:3]}-{row.kelurahan}")


def site_name(row: SiteRow) -> str:
    if row.name:
        return row.name
    prefix = {
        SiteKind.KANTOR_KELURAHAN: "Kantor Kelurahan",
        SiteKind.KANTOR_KECAMATAN: "Kantor Kecamatan",
    }.get(row.kind, "")
    return f"{prefix} {row.kelurahan}".strip()


def import_rows(
    session: Session, rows: list[SiteRow], progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Upsert regions and sites; re-importing the same file changes nothing."""
    result = ImportResult()
    kecs = {k.code: k for k in session.scalars(select(Kecamatan))}
    kels = {k.code: k for k in session.scalars(select(Kelurahan))}
    sites = {
        (s.kind, s.kelurahan_code): s
        for s in session.scalars(select(Site).where(Site.kelurahan_code.is_not(None)))
    }
    slugs = set(session.scalars(select(Site.slug)))
    for row in rows:
        if row.kecamatan_code not in kecs:
            kecs[row.kecamatan_code] = Kecamatan(code=row.kecamatan_code, name=row.kecamatan)
            session.add(kecs[row.kecamatan_code])
            result.kecamatan += 1
        if row.code not in kels:
            kels[row.code] = Kelurahan(
                code=row.code,
                name=row.kelurahan,
                kecamatan_code=row.kecamatan_code,
                lat=row.lat,
                lon=row.lon,
            )
            session.add(kels[row.code])
            result.kelurahan += 1
        site = sites.get((row.kind, row.code))
        wanted = {
            "name": site_name(row),
            "kecamatan_code": row.kecamatan_code,
            "lat": row.lat,
            "lon": row.lon,
        }
        if row.connectivity is not None:
            wanted["connectivity"] = row.connectivity
        if site is None:
            slug = base_slug(row)
            if slug in slugs:
                slug = f"{slug}-{row.code.replace('.', '')}"
            slugs.add(slug)
            site = Site(slug=slug, kind=row.kind, kelurahan_code=row.code, **wanted)
            session.add(site)
            sites[(row.kind, row.code)] = site
            result.created += 1
        elif any(getattr(site, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(site, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
        if progress:
            progress(1)
    session.flush()
    return result


def seed_kendari(session: Session) -> ImportResult:
    """The 65 kelurahan offices and the city calendar; safe to run at every start."""
    ensure_city_calendar(session)
    return import_rows(session, read_rows(shipped_csv()))
