"""The complaints section of config.yaml, validated once: category → department and tier, deadlines,
the working calendar."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.complaints.workdays import WorkCalendar
from bot.config import ConfigError

CATEGORIES = ("供电", "供水", "燃气", "道路交通", "环境", "审批服务", "税务", "融资", "用工招聘",
              "安全生产", "园区服务", "其他")


@dataclass(frozen=True)
class Assignment:
    """Where a category's complaints go: the responsible department, and the tier that sets the deadline."""
    department: str
    tier: str


@dataclass(frozen=True)
class ComplaintRules:
    acceptance_days: int
    tiers: dict
    merge_window_days: int
    rating_reminder_days: int
    supervisor: tuple
    assignments: dict
    department_staff: dict
    calendar: WorkCalendar = field(compare=False)

    def assignment(self, category: str) -> Assignment:
        return self.assignments.get(category) or self.assignments["其他"]

    def days_for(self, tier: str) -> int:
        return self.tiers[tier]


def load(settings) -> ComplaintRules:
    """Build from settings.extra['complaints']; a missing or wrong entry fails with its name."""
    raw = settings.extra.get("complaints")
    if not isinstance(raw, dict):
        raise ConfigError("missing setting: complaints")
    try:
        tiers = {str(k): int(v) for k, v in raw["tiers"].items()}
        assignments = {}
        for category in CATEGORIES:
            entry = raw["categories"][category]
            if entry["tier"] not in tiers:
                raise ConfigError(f"complaints.categories.{category}.tier: unknown tier {entry['tier']!r}")
            assignments[category] = Assignment(str(entry["department"]), str(entry["tier"]))
        return ComplaintRules(
            acceptance_days=int(raw.get("acceptance_days", 1)), tiers=tiers,
            merge_window_days=int(raw.get("merge_window_days", 7)),
            rating_reminder_days=int(raw.get("rating_reminder_days", 3)),
            supervisor=tuple(raw.get("supervisor") or ()), assignments=assignments,
            department_staff={str(k): tuple(v or ()) for k, v in (raw.get("departments") or {}).items()},
            calendar=WorkCalendar(raw.get("holidays") or (), raw.get("workdays") or ()))
    except KeyError as exc:
        raise ConfigError(f"missing setting: complaints.{exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"complaints: {exc}") from None
