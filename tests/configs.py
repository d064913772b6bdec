"""Settings for subprocesses (`python -m bot …`, gunicorn): config.yaml with some values changed,
merged as data (nested sections merge), never by editing the file's text."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def merged(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def write_config(path: Path, changes: dict, base: Path = ROOT / "config.yaml") -> Path:
    """`base` (the shipped config.yaml unless given) with `changes`, written to `path`."""
    data = yaml.safe_load(Path(base).read_text(encoding="utf-8"))
    Path(path).write_text(yaml.safe_dump(merged(data, changes), allow_unicode=True), encoding="utf-8")
    return Path(path)
