"""Read-only views of sources: what is declared, where each one stands, what it fetched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakegate.config import Settings
from lakegate_server.sources.models import Source
from lakegate_server.sources.shapes import SourceRow

if TYPE_CHECKING:
    from lakegate.sources import SourceSpec

__all__ = ["source_list", "source_specs"]


def source_specs(*, config: Settings) -> dict[str, SourceSpec]:
    """The sources declared in lakegate.yaml, validated (ConfigError names source and field)."""
    from lakegate.sources import load_sources

    return load_sources(config.sources, config.project_dir)


def source_list(*, config: Settings, fetches: int = 5) -> list[SourceRow]:
    """Declared sources with their state and latest fetches (a source never run shows empty state)."""
    known = {s.name: s for s in Source.objects.all()}
    rows = []
    for name, spec in sorted(source_specs(config=config).items()):
        record = known.get(name)
        rows.append(
            SourceRow(
                name=name,
                kind=spec.kind,
                dataset=spec.dataset,
                schedule=spec.schedule,
                state=record.state if record else {},
                last_run_at=record.last_run_at if record else None,
                last_status=record.last_status if record else "",
                last_error=record.last_error if record else "",
                fetches=[f.to_dict() for f in record.fetches.select_related("version")[:fetches]]
                if record
                else [],
            )
        )
    return rows
