"""``lakegate kb build|search|export``: the knowledge base from the command line.

The library is imported inside each command, so ``lakegate --help`` never loads numpy or scikit-learn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lakegate.cli._common import (
    JsonOpt,
    VerboseOpt,
    console,
    err_console,
    print_json,
    setup_logging,
)

if TYPE_CHECKING:
    from lakegate.knowledge import BuildReport, ProgressCallback

__all__ = ["register"]


# Mirrors of the library registries (a test keeps them equal); typer needs them at import time.
class EmbedChoice(StrEnum):
    tfidf = "tfidf"
    minilm = "minilm"


class ChunkUnitChoice(StrEnum):
    chars = "chars"
    tokens = "tokens"


class ExportChoice(StrEnum):
    neo4j = "neo4j"
    graphml = "graphml"


KbOpt = Annotated[Path, typer.Option("--kb", help="The knowledge base JSONL file (built by 'kb build').")]

kb_app = typer.Typer(
    name="kb",
    help="Knowledge base: index a folder of documents, search it, export it as a graph.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")


_STAGES = {
    "scan": "Scanning",
    "read": "Reading files",
    "embed": "Embedding",
    "categorize": "Finding categories",
    "write": "Writing",
}


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr (terminals only) fed by the build's progress callback."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("Scanning", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=_STAGES.get(stage, stage), completed=done, total=total or None)

        yield update


@kb_app.command("build")
def build(
    folder: Annotated[Path, typer.Argument(help="Folder of documents to index (read recursively).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Knowledge base JSONL to write.")] = Path(
        "kb.jsonl"
    ),
    embed: Annotated[
        EmbedChoice, typer.Option("--embed", help="Embeddings: tfidf (built in) or minilm (extra 'minilm').")
    ] = EmbedChoice.tfidf,
    categories: Annotated[
        int | None,
        typer.Option(
            "--categories", "-c", min=1, help="Number of categories (default: chosen by silhouette)."
        ),
    ] = None,
    chunk_unit: Annotated[
        ChunkUnitChoice, typer.Option("--chunk-unit", help="Chunk by characters or whitespace tokens.")
    ] = ChunkUnitChoice.chars,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", min=1, help="Chunk size in the unit [default: 1000 chars, 200 tokens]."),
    ] = None,
    chunk_overlap: Annotated[
        int | None,
        typer.Option("--chunk-overlap", min=0, help="Overlap in the unit [default: 15% of the size]."),
    ] = None,
    max_file_size: Annotated[
        float, typer.Option("--max-file-size", min=0.001, help="Skip files larger than this many MiB.")
    ] = 50.0,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Index [bold]FOLDER[/bold] into a knowledge base (incremental: unchanged files are reused)."""
    from lakegate.knowledge import ChunkOptions, build_kb

    setup_logging("cli", verbose=verbose)
    chunking = ChunkOptions.for_unit(chunk_unit.value, chunk_size, chunk_overlap)
    with _progress(not json_output) as progress:
        report = build_kb(
            folder,
            output,
            embed=embed.value,
            categories=categories,
            chunking=chunking,
            max_file_bytes=int(max_file_size * 1024 * 1024),
            progress=progress,
        )
    if json_output:
        print_json(report.to_dict())
        return
    _print_build(report)


def _print_build(report: BuildReport) -> None:
    state = "up to date" if report.up_to_date else "built"
    console.print(
        f"Knowledge base {state}: [bold]{escape(report.output)}[/bold] "
        f"({report.chunks} chunks from {report.files_indexed} files, {report.embedder} {report.dims}d, "
        f"{report.seconds:.1f}s)"
    )
    console.print(
        f"  files: {report.files_read} read, {report.files_reused} reused, {report.files_removed} removed, "
        f"{len(report.skipped)} skipped"
    )
    if report.categories:
        table = Table("category", "label", "chunks", title=None, box=None, pad_edge=False)
        for category in report.categories:
            table.add_row(str(category.id), escape(category.label), str(category.size))
        console.print(table)
    shown = report.skipped[:20]
    for skipped in shown:
        detail = f" ({escape(skipped.detail)})" if skipped.detail else ""
        console.print(f"  [yellow]skipped[/yellow] {escape(skipped.path)}: {skipped.reason}{detail}")
    if len(report.skipped) > len(shown):
        console.print(f"  ... and {len(report.skipped) - len(shown)} more skipped (see --json)")


@kb_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    kb: KbOpt = Path("kb.jsonl"),
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=1000, help="How many chunks to return.")] = 5,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Find the chunks closest in meaning to [bold]QUERY[/bold] (cosine similarity of embeddings)."""
    from lakegate.knowledge import KnowledgeBase

    setup_logging("cli", verbose=verbose)
    with KnowledgeBase.open(kb) as knowledge:
        hits = knowledge.search(query, k=k)
    if json_output:
        print_json({"query": query, "kb": str(kb), "hits": [hit.to_dict() for hit in hits]})
        return
    if not hits:
        console.print("No matching chunk.")
        return
    for hit in hits:
        page = f" page {hit.record['page']}" if hit.record.get("page") is not None else ""
        snippet = " ".join(hit.text.split())
        snippet = snippet if len(snippet) <= 240 else snippet[:239] + "…"
        console.print(f"[bold]{hit.rank}.[/bold] {hit.score:.3f} [cyan]{escape(hit.path)}[/cyan]{page}")
        console.print(f"   {escape(snippet)}", highlight=False)


@kb_app.command("export")
def export(
    kb: Annotated[Path, typer.Argument(help="The knowledge base JSONL file.")],
    to: Annotated[
        ExportChoice, typer.Option("--to", help="neo4j (CSV folder + scripts) or graphml (one file).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder (neo4j) or file (graphml) to write.")
    ],
    similar_k: Annotated[
        int, typer.Option("--similar-k", min=0, help="SIMILAR_TO edges per chunk (0: none).")
    ] = 5,
    similar_threshold: Annotated[
        float, typer.Option("--similar-threshold", min=-1.0, max=1.0, help="Minimum cosine for SIMILAR_TO.")
    ] = 0.5,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export the knowledge base as a graph: folders, documents, chunks, categories and similarities."""
    from lakegate.knowledge import export_kb

    setup_logging("cli", verbose=verbose)
    report = export_kb(
        kb, to=to.value, output=output, similar_k=similar_k, similar_threshold=similar_threshold
    )
    if json_output:
        print_json(report.to_dict())
        return
    nodes = ", ".join(f"{count} {label}" for label, count in report.nodes.items())
    edges = ", ".join(f"{count} {kind}" for kind, count in report.edges.items())
    console.print(f"Exported {report.format} to [bold]{escape(report.output)}[/bold]")
    console.print(f"  nodes: {nodes}")
    console.print(f"  edges: {edges}")
