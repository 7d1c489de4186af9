"""summary: for the facilitator, many learners' reports as one table."""

from __future__ import annotations

import json
from pathlib import Path

from runner import workshop

NAME = "summary"
HELP = "the facilitator's table from learners' reports (files, or folders of .json files)"


def configure(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="report files, or folders holding them")


def read_text(path: Path) -> str:
    """A report as text, whatever wrote it: UTF-8, or UTF-16 (PowerShell's `>` on Windows)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def collect(paths: list[str]) -> list[Path]:
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
        else:
            found.append(path)
    return found


def run(args, ws, style) -> int:
    reports, skipped = [], []
    for path in collect(args.files):
        try:
            doc = json.loads(read_text(path))
            reports.append((path.name, workshop.parse_report(doc)))
        except FileNotFoundError:
            skipped.append((str(path), "no such file"))
        except OSError as exc:
            skipped.append((str(path), f"cannot be read ({exc.strerror or exc})"))
        except UnicodeDecodeError:
            skipped.append((str(path), "damaged: not text"))
        except ValueError as exc:  # json.JSONDecodeError and workshop.ReportError
            reason = str(exc) if isinstance(exc, workshop.ReportError) else f"damaged: not valid JSON ({exc.msg})"
            skipped.append((str(path), reason))
    summary = workshop.summarize(reports, skipped)
    print(workshop.render_summary(summary, style))
    return 0 if reports else 1
