#!/usr/bin/env python3
"""Groups the samples of a `perf record -g` profile of the Staffroom server by where the time
goes (bench/README.md, "Profile"): each sample is assigned to the group of the first frame,
from the leaf up, whose symbol belongs to a known group; samples whose known frames are all
missing (frame-pointer-less callers) are counted as unattributed kernel or libc time.

    python3 bench/scripts/perf_groups.py list.data
"""
import collections
import re
import subprocess
import sys

GROUPS = [
    ("SQLite", r"^sqlite3|^pcache|^btree|^vdbe|^pager|^yy_|^sqlite"),
    ("allocator (mimalloc)", r"^_?mi_|mimalloc"),
    ("Diesel row mapping, statement building", r"diesel::|MultiRawValue|MultiRow|multi_connection|r2d2"),
    ("JSON (serde_json)", r"serde_json|serde::|serde_core|::serialize"),
    ("chrono, uuid (timestamps and ids as text)", r"chrono::|uuid::"),
    ("auth (token verification, caller check)", r"jsonwebtoken|hmac|sha2|principal|callers|verified_claims|base64"),
    ("our code (handlers, views, persistence)", r"staffroom"),
    ("tokio, blocking-pool handoff", r"tokio::|spawn_blocking|parking_lot|std::sync::|futex|condvar"),
    ("framework, HTTP (actix, routing, middleware)", r"actix|http::|h1::|bytes::|httparse|mio::|regex|utoipa|tracing"),
]
COMPILED = [(name, re.compile(rx, re.I if "tokio" in name else 0)) for name, rx in GROUPS]


def symbol(frame: str) -> str:
    parts = frame.split(None, 1)
    return (parts[1] if len(parts) > 1 else frame).rsplit(" (", 1)[0]


def main(path: str) -> None:
    script = subprocess.run(
        ["perf", "script", "-i", path, "-F", "comm,tid,ip,sym,dso"],
        capture_output=True, text=True, check=True,
    ).stdout
    totals = collections.Counter()
    threads = collections.Counter()
    count = 0
    for sample in script.split("\n\n"):
        lines = [l.strip() for l in sample.strip().split("\n") if l.strip()]
        if not lines:
            continue
        count += 1
        threads[re.sub(r"[ 0-9]+$", "", lines[0])] += 1
        frames = lines[1:]
        group = next(
            (name for f in frames for name, rx in COMPILED if rx.search(symbol(f))), None
        )
        if group is None:
            leaf = frames[0] if frames else ""
            if "kernel" in leaf:
                group = "kernel: syscalls, scheduling, sockets (caller unknown)"
            elif "libc" in leaf:
                group = "libc: malloc, free, memcpy (caller unknown)"
            else:
                group = "other"
        totals[group] += 1
    print(f"{count} samples")
    for name, n in totals.most_common():
        print(f"| {name} | {100 * n / count:.1f} % |")
    print("threads:", ", ".join(f"{k} {100 * v / count:.0f} %" for k, v in threads.most_common()))


if __name__ == "__main__":
    main(sys.argv[1])
