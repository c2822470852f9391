"""`llm-tui sessions …`: the saved transcripts, for the user (the model never sees them)."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from tui.core.chat import export, transcripts
from tui.core.output_file import write_output
from tui.core.problems import ProblemError
from tui.core.text_safety import terminal_safe
from tui.paths import get_paths


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths = get_paths()
    if args.verb == "list":
        saved, problems = transcripts.list_saved(paths)
        for problem in problems:
            print(terminal_safe(f"warning: {problem}", err), file=err)
        if not saved:
            print("no saved sessions yet", file=err)
        for item in saved:
            first = item.first_message.replace("\n", " ")
            first = first if len(first) <= 50 else first[:49] + "…"
            branches = f" ({item.branches} branches)" if item.branches > 1 else ""
            line = f"{item.id}  {item.started}  {item.turns:>3} turns{branches}  {item.model}  {first}"
            print(terminal_safe(line, out), file=out)
        return 0
    path = transcripts.find(paths, args.id)
    if path is None:
        raise ProblemError(f"no saved session `{args.id}`; see `llm-tui sessions list`")
    record = transcripts.load_checked(path)
    if args.verb == "show" and args.tree:
        text = export.outline(record)
    else:
        text = export.to_markdown(record, everything=args.verb == "export" and args.all)
    if args.verb == "export" and args.format == "json":
        text = json.dumps(record.to_json(), ensure_ascii=False, indent=2) + "\n"
    if args.verb == "export" and args.output:
        write_output(args.output, text, paths)
        print(f"wrote {args.output}", file=err)
    else:
        out.write(terminal_safe(text, out))
    return 0
