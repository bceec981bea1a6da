"""The options grading commands share (--sandbox, --exercise): checked, or one line and an exit code."""

from __future__ import annotations

from grader import registry
from grader.cli.errors import EXIT_UNAVAILABLE, fail, warn
from grader.isolation import fallback, sandbox

MODES = ("auto", "bwrap", "uid", "none")
SANDBOX_HELP = ("auto|bwrap|uid|none. auto: bubblewrap where it works, else the uid fallback (root only); "
                "none: no isolation at all (results flagged).")
EXERCISE_HELP = "Grade only these exercises (repeatable; default all)."


def exercises(chosen: list[str]) -> tuple[str, ...]:
    """The exercise ids asked for, each checked against the registry."""
    known = [e.id for e in registry.load()]
    unknown = [e for e in chosen if e not in known]
    if unknown:
        fail(f"unknown exercise {unknown[0]!r}; choose from {', '.join(known)}")
    return tuple(chosen)


def isolation(mode: str) -> sandbox.Isolation:
    """The isolation to grade with; warns about the weaker ones, fails where none can be had."""
    if mode not in MODES:
        fail(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        isolation = sandbox.choose(mode)
        if isolation is sandbox.Isolation.UID:
            abi = fallback.prepare()
            confined = f"Landlock ABI {abi}" if abi else "no Landlock on this kernel"
            reason = "bubblewrap cannot create namespaces here: " if mode == "auto" else ""
            warn(f"{reason}grading with the uid fallback (another uid, the kit locked away, {confined}; "
                 "see the README)")
    except sandbox.SandboxUnavailable as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    if isolation is sandbox.Isolation.NONE:
        warn("grading WITHOUT a sandbox: student code runs as you.")
    return isolation
