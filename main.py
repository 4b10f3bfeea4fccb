"""Reeldeck entry point: no arguments (or only --sandbox) opens the window; sub-commands run the CLI."""

from __future__ import annotations

import sys


def _wants_gui(argv: list[str]) -> bool:
    return all(arg == "--sandbox" for arg in argv)


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # the packaged app starts the engine's process from its own executable
        import multiprocessing

        multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    if args == ["--self-test"]:
        from gui.selftest import run_self_test

        return run_self_test()
    if _wants_gui(args):
        try:
            from gui.app import run_gui
        except ImportError as exc:
            print(f"The window cannot start: {exc}. Try `python main.py --help` for the command line.",
                  file=sys.stderr)
            return 2
        return run_gui(sandbox="--sandbox" in args)
    from core.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
