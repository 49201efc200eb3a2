"""Run ``recovery-bot`` under a low-overhead statistical CPU profiler (used by reminders.py).

``python bench/_sampler.py OUT.json run`` is ``recovery-bot run`` plus: every 5 ms of CPU time
(SIGPROF) the Python stack of the main thread is recorded; when the bot exits (SIGTERM makes
PTB stop cleanly) the stacks are summarised into OUT.json. Unlike cProfile, sampling does not
inflate code that makes many small calls, so the shares are close to the real ones.
"""

from __future__ import annotations

import atexit
import json
import signal
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.005  # seconds of CPU time between samples

# Functions worth an inclusive share (the sample's stack passes through them). Work that
# SQLAlchemy runs in its greenlet does not show its async caller, so only libraries are listed.
MARKERS = {
    "HTTP request (PTB Bot._post and below)": ("telegram/_bot.py", "_post"),
    "httpx/httpcore client": ("httpx/_client.py", "send"),
    "failed `import sniffio` in httpcore": (
        "httpcore/_synchronization.py",
        "current_async_library",
    ),
    "httpcore connection pool bookkeeping": (
        "httpcore/_async/connection_pool.py",
        "_assign_requests_to_connections",
    ),
    "PTB parsing the answer (Message.de_json)": ("telegram/_message.py", "de_json"),
    "SQLAlchemy and asyncpg": (("sqlalchemy/", "asyncpg/"), ""),
    "bot: materialise_due (Python part)": ("bot/services/reminders.py", "materialise_due"),
}

samples: Counter[tuple[tuple[str, str], ...]] = Counter()


def _short(filename: str) -> str:
    """``pkg/module.py`` for libraries and the project, ``<stdlib>/...`` for the standard one."""
    for cut in ("site-packages/", f"{ROOT}/"):
        if cut in filename:
            return filename.split(cut, 1)[1]
    if "/lib/python3." in filename:
        return "<stdlib>/" + filename.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    return filename


def _on_sample(signum, frame) -> None:
    stack = []
    while frame is not None:
        stack.append((_short(frame.f_code.co_filename), frame.f_code.co_name))
        frame = frame.f_back
    samples[tuple(stack)] += 1


def _category(stack: tuple[tuple[str, str], ...]) -> str:
    """The innermost frame that is not the standard library names the package to blame."""
    for filename, name in stack:
        if filename.startswith("<stdlib>/asyncio/") and name in ("_run_once", "_run"):
            return "asyncio event loop (selector, callbacks)"
        if filename.startswith("<frozen importlib"):
            return "import machinery"
        if filename.startswith(("bot/", "storage/")):
            return filename.split("/", 1)[0]
        if "/" in filename and not filename.startswith(("<stdlib>", "/")):
            return filename.split("/", 1)[0]  # a library: site-packages/<package>/...
    return "stdlib, outside the event loop"


def _write(out: Path) -> None:
    signal.setitimer(signal.ITIMER_PROF, 0, 0)  # stop sampling before reading the samples
    total = sum(samples.values())
    categories: Counter[str] = Counter()
    markers: Counter[str] = Counter()
    ours: Counter[str] = Counter()  # inclusive, by function of the project
    for stack, count in samples.items():
        categories[_category(stack)] += count
        for name in {f"{f}:{n}" for f, n in stack if f.startswith(("bot/", "storage/"))}:
            ours[name] += count
        for label, (path, func) in MARKERS.items():
            if any(f.startswith(path) and (not func or n == func) for f, n in stack):
                markers[label] += count
    out.write_text(
        json.dumps(
            {
                "interval": INTERVAL,
                "samples": total,
                "self_by_package": dict(categories.most_common(15)),
                "inclusive": {k: markers.get(k, 0) for k in MARKERS},
                "project_functions": dict(ours.most_common(12)),
            }
        )
    )


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["recovery-bot", *sys.argv[2:]]
    signal.signal(signal.SIGPROF, _on_sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
    atexit.register(_write, out)
    from bot.cli import main as bot_main

    bot_main()


if __name__ == "__main__":
    main()
