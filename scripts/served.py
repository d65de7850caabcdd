"""A `harmonia serve` for the benchmark scripts: started on a fresh SQLite file and
port 0, its address read from the line it prints, its stderr drained; and the few
HTTP calls they make (JSON bodies, JSON answers)."""

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.request


@contextlib.contextmanager
def serve(binary, *args):
    """Yields (base URL, process, database path); stops the server and removes its
    files afterwards."""
    dbdir = tempfile.mkdtemp()
    db = os.path.join(dbdir, "h.db")
    proc = subprocess.Popen(
        [binary, "serve", "--port", "0", "--db", db, *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        base = None
        for line in proc.stderr:
            if "listening on http://" in line:
                base = line.split("listening on ")[1].split(" ")[0]
                break
        if base is None:
            raise SystemExit(f"{binary} serve did not start")
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        yield base, proc, db
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(dbdir, ignore_errors=True)


def post(base, path, body, timeout=600):
    """POSTs `body` (bytes, or a value to send as JSON); the decoded answer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(
        base + path, data=data, headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=60) as r:
        return json.loads(r.read())
