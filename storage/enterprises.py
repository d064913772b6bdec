"""The enterprise roster: import, look-up by (fuzzy) name."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import outreach
from storage.models import Enterprise

CSV_FIELDS = ("name", "credit_code", "industry", "tags", "contact_name", "contact_phone", "liaison", "leader")


def names(session: Session) -> list[str]:
    return list(session.scalars(select(Enterprise.name)))


def by_name(session: Session, name: str) -> Enterprise | None:
    return session.scalar(select(Enterprise).where(Enterprise.name == name))


def get(session: Session, enterprise_id: int) -> Enterprise | None:
    return session.get(Enterprise, enterprise_id)


def upsert(session: Session, name: str, credit_code: str | None = None, industry: str = "",
           tags: list[str] | None = None, contacts: list[dict] | None = None) -> tuple[Enterprise, bool]:
    """Create or update by name (then by credit code); returns (enterprise, created)."""
    name = name.strip()
    found = by_name(session, name)
    if found is None and credit_code:
        found = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    created = found is None
    if created:
        found = Enterprise(name=name, tags=[], contacts=[], profile={})
        session.add(found)
    found.name = name
    found.credit_code = credit_code or found.credit_code
    found.industry = industry or found.industry or ""
    if tags is not None:
        found.tags = sorted(set(tags))
    if contacts:
        found.contacts = contacts
    session.flush()
    return found, created


def import_csv(session: Session, path: Path, progress=None) -> dict:
    """Import a roster CSV (UTF-8, with or without BOM); headers as in CSV_FIELDS."""
    return import_text(session, path.read_text(encoding="utf-8-sig"), str(path), progress)


def import_text(session: Session, text: str, name: str = "roster", progress=None) -> dict:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    missing = {"name"} - set(rows[0].keys() if rows else ())
    if rows and missing:
        raise ValueError(f"{name}: missing column(s): {', '.join(sorted(missing))}")
    counts = {"created": 0, "updated": 0, "skipped": 0}
    for i, row in enumerate(rows, 1):
        if not (row.get("name") or "").strip():
            counts["skipped"] += 1
            continue
        tags = [t.strip() for t in (row.get("tags") or "").replace("，", ",").split(",") if t.strip()]
        contacts = ([{"name": row.get("contact_name", ""), "phone": row.get("contact_phone", "")}]
                    if row.get("contact_name") or row.get("contact_phone") else None)
        enterprise, created = upsert(session, row["name"], (row.get("credit_code") or "").strip() or None,
                                     (row.get("industry") or "").strip(), tags, contacts)
        outreach.assign_from_roster(session, enterprise, row.get("liaison"), row.get("leader"), i)   # issue 17
        counts["created" if created else "updated"] += 1
        if progress:
            progress(i, len(rows))
    return counts


def all_enterprises(session: Session) -> list[Enterprise]:
    return list(session.scalars(select(Enterprise).order_by(Enterprise.id)))


def set_tags(enterprise: Enterprise, tags: list[str]) -> None:
    enterprise.tags = sorted({t.strip() for t in tags if t.strip()})


def all_tags(session: Session) -> list[str]:
    return sorted({tag for tags in session.scalars(select(Enterprise.tags)) for tag in (tags or [])})
