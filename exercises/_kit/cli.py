"""The student's commands (exercises/kit.py): progress, hint, watch, train, handin.

Part of the kit: no need to edit. Each command is a few lines that call the module doing the
work and print what it returns.
"""

from __future__ import annotations

import argparse
import sys

USAGE = """\
python exercises/kit.py COMMAND   (from the folder that holds exercises/)

  progress       where you stand in every exercise, and the next thing to do
  hint [NAME]    the next hint of the check that fails now (or of exercise/check NAME)
  watch          re-check each exercise as you save it; Ctrl-C to stop
  train          train your MNIST classifier and draw its training curves and conv1's kernels
  handin         check your work and pack it into one zip to hand in
"""


def say(lines: list[str]) -> None:
    """Print lines, even to a terminal that cannot show every character (a Windows pipe, say)."""
    text = "\n".join(lines) + "\n"
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.write(text.encode(sys.stdout.encoding or "ascii", "replace").decode(sys.stdout.encoding or "ascii"))
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """Run one command; return the exit code."""
    parser = argparse.ArgumentParser(prog="python exercises/kit.py", usage=USAGE, add_help=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("progress")
    hint = commands.add_parser("hint")
    hint.add_argument("name", nargs="?")
    watching = commands.add_parser("watch")
    watching.add_argument("--no-fork", action="store_true", help="start a fresh process for every run")
    train = commands.add_parser("train")
    train.add_argument("--epochs", type=int, default=5, help="epochs of training (default 5, as mnist_classifier)")
    handin = commands.add_parser("handin")
    handin.add_argument("--out", default=None, help="where to write the zip (default: handin/cnn-handin.zip)")
    args = parser.parse_args(argv)
    if args.command == "progress":
        from _kit import progress, summary

        say(summary.progress_block(progress.load()))
        return 0
    if args.command == "hint":
        from _kit.ask import AskError, next_hint

        try:
            say(next_hint(args.name))
        except AskError as exc:
            say([str(exc)])
            return 2
        return 0
    if args.command == "watch":
        from _kit.watch import watch

        return watch(fork=not args.no_fork)
    if args.command == "train":
        from _kit.pictures import train_and_draw

        say(train_and_draw(args.epochs))
        return 0
    from _kit.handin import HandinError, pack

    try:
        say(pack(args.out))
    except HandinError as exc:
        say([f"Not handed in: {exc}"])
        return 1
    return 0
