"""A small real folder tree of documents, plus the awkward cases a real folder holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakegate.knowledge import BuildReport

from .kb_files import write_docx, write_pdf, write_xlsx

# Files that must be indexed, by relative path.
GOOD_FILES = (
    "README.md",
    "data/people.csv",
    "data/stations.json",
    "notes/garden.txt",
    "reports/2024/river.pdf",
    "reports/2024/summary.docx",
    "reports/finance.xlsx",
    "web/turbines.html",
)

# Files and links that must be skipped, with the reason the build gives.
BAD_ENTRIES = {
    "bad/blob.bin": "binary",
    "bad/fake.txt": "binary",
    "bad/huge.txt": "too_large",
    "bad/secret.pdf": "encrypted",
    "bad/loop": "symlink_loop",
    "bad/self": "symlink_loop",
    "bad/broken.txt": "unreadable",
    "bad/notes.xyz": "unsupported_type",
}

MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Corpus:
    root: Path
    out: Path  # where the knowledge base JSONL goes (outside the root)


def make_corpus(root: Path) -> Path:
    (root / "reports" / "2024").mkdir(parents=True)
    for name in ("data", "notes", "web", "bad", ".hidden"):
        (root / name).mkdir()
    (root / "README.md").write_text(
        "# Team handbook\n\nThis handbook explains how the team archives documents and how to "
        "find them again with the search index.\n",
        encoding="utf-8",
    )
    (root / "data" / "people.csv").write_text(
        "name;city;role\nAda Lovelace;London;mathematician\nAlan Turing;Manchester;cryptanalyst\n",
        encoding="utf-8",
    )
    (root / "data" / "stations.json").write_text(
        '{"network": "weather", "stations": [{"name": "Zugspitze", "temperature": -7.5, '
        '"snowfall": "heavy"}, {"name": "Brocken", "temperature": -2, "snowfall": "light"}]}',
        encoding="utf-8",
    )
    (root / "notes" / "garden.txt").write_text(
        "Tomatoes need compost and full sun.\n\nWater the tomato plants in the morning; "
        "mulch keeps the soil of the vegetable garden moist.\n",
        encoding="utf-8",
    )
    write_pdf(
        root / "reports" / "2024" / "river.pdf",
        [
            [
                "River authority annual report",
                "Water quality improved in the north-",
                "ern basin; salmon returned.",
            ],
            ["Sediment samples from the river delta", "showed less nitrate pollution."],
        ],
        table=[["Station", "Flow", "Nitrate"], ["Delta", "120", "4.1"], ["Weir", "95", "3.2"]],
    )
    write_docx(
        root / "reports" / "2024" / "summary.docx",
        [
            "Board meeting minutes",
            "The board approved the annual budget.",
            "Quarterly revenue grew by ten percent.",
        ],
        table=[["Item", "Amount"], ["Consulting revenue", "125000"]],
    )
    write_xlsx(
        root / "reports" / "finance.xlsx",
        {"Invoices": [["Customer", "Invoice total"], ["Acme", 1200], ["Globex", 830.5]], "Empty": []},
    )
    (root / "web" / "turbines.html").write_text(
        "<html><head><title>Wind turbines</title><style>p {color: red}</style></head>"
        "<body><h1>Wind farm</h1><p>Offshore wind turbines generate electricity for the grid.</p>"
        "<script>var tracking = 1;</script></body></html>",
        encoding="utf-8",
    )
    (root / ".hidden" / "secret.txt").write_text("hidden files are not indexed", encoding="utf-8")
    (root / "bad" / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (root / "bad" / "fake.txt").write_bytes(b"\x00\x01\x02binary pretending to be text" * 10)
    (root / "bad" / "huge.txt").write_text("word " * (MAX_BYTES // 4), encoding="utf-8")
    write_pdf(root / "bad" / "secret.pdf", [["classified"]], encrypted=True)
    (root / "bad" / "notes.xyz").write_text("plain text in an unknown format", encoding="utf-8")
    (root / "bad" / "loop").symlink_to("..")
    (root / "bad" / "self").symlink_to("self")
    (root / "bad" / "broken.txt").symlink_to("missing.txt")
    return root


@dataclass(frozen=True)
class Built:
    corpus: Corpus
    report: BuildReport
