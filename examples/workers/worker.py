#!/usr/bin/env python3
"""A reference external worker for Harmonia (Python 3.9+, standard library only).

A workflow task of type `worker` puts an attempt on a named queue; this program polls
one or more queues on a Harmonia server, runs what it leases, keeps each lease alive
with heartbeats and reports the result. The protocol is described in docs/workers.md.

Command line:

    # run a program per lease: the lease's input as JSON on stdin, the output as
    # JSON on stdout (or {"stdout": text} when stdout is not JSON)
    HARMONIA_TOKEN=hm_... python3 worker.py --server http://127.0.0.1:8007 \\
        --queue images --command "./resize.sh --quality 80"

    # answer {"echo": input, "worker": id} (for tests and benchmarks)
    python3 worker.py --queue images --echo --concurrency 4 --log

    --server URL        the server (default http://127.0.0.1:8007, or HARMONIA_SERVER)
    --queue Q           a queue to poll; repeat for several
    --token T           a token of role `worker` (default: HARMONIA_TOKEN)
    --id NAME           this worker's id (default: hostname-pid)
    --concurrency N     leases worked on at once; one polling loop each (default 1)
    --wait SECONDS      how long a poll waits for work (0-60, default 20)
    --max-tasks N       leases asked for per poll, worked one after the other (default 1)
    --exit-after N      exit once N leases were reported (completed or failed)
    --log               one line per lease on stderr: leased, completed, failed, lost

In `--command` mode the program runs without a shell (the command is split like a
shell would, but nothing is expanded) with HARMONIA_EXECUTION_ID, HARMONIA_WORKFLOW,
HARMONIA_TASK, HARMONIA_ITEM (in a fan-out), HARMONIA_ATTEMPT, HARMONIA_QUEUE and
HARMONIA_LEASE_ID in its environment. A non-zero exit fails the attempt with class
`exit_code`. When the execution is cancelled or the lease is lost, the program (and its
process group) is killed and nothing is reported.

Exit codes: 0 after SIGTERM/SIGINT (work in progress is finished and reported first; a
second signal exits at once) or --exit-after; 2 when the server refuses the token or the
request (401, 403, 400, 422), or the arguments are wrong. Nothing is printed on stdout.

As a library:

    from worker import Worker, WorkerFailure

    def handle(lease):
        if lease["input"].get("width", 0) <= 0:
            raise WorkerFailure("validation", "width must be positive", retryable=False)
        return {"resized": True}

    Worker("http://127.0.0.1:8007", token, "w1", ["images"], handle, concurrency=2).run()

The handler gets the lease (a dict, see docs/workers.md) and returns the output (any
JSON value) or raises. An exception fails the attempt with its class name as the error
class and str(exception) as the message; raise WorkerFailure for an explicit class,
`retryable=False` or `details`. A long handler can look at `lease.cancelled` (a
threading.Event) and stop early, or register a callback with `lease.on_cancel(fn)`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_SERVER = "http://127.0.0.1:8007"
QUEUE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
STDERR_TAIL = 2048
MAX_MESSAGE = 4000
REQUEST_TIMEOUT = 30.0


class WorkerFailure(Exception):
    """Raised by a handler to fail the attempt with an explicit error class.

    `cls` naming one of Harmonia's classes (`timeout`, `connection`, `validation`,
    `exit_code`, ...) is kept; any other is recorded as `worker_error` with `cls` in the
    error's details. `retryable=False` means the attempt is never retried, whatever the
    task's retry policy says.
    """

    def __init__(self, cls: str, message: str, retryable: bool = True, details=None):
        super().__init__(message)
        self.cls = cls
        self.message = message
        self.retryable = retryable
        self.details = details


class FatalError(Exception):
    """A problem that polling again will not fix (a refused token, a refused request)."""


class Unavailable(Exception):
    """The server could not be reached, or answered 5xx or 429: try again later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class LeaseLost(Exception):
    """The server answered 409 lease_lost: the work is no longer ours to report."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


class Refused(Exception):
    """The server refused a request body (400, 404, 413, 415, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status


class Lease(dict):
    """A lease as the server sent it, plus the means to notice a cancellation."""

    def __init__(self, data: dict):
        super().__init__(data)
        self.cancelled = threading.Event()
        self._callbacks: list = []
        self._lock = threading.Lock()

    def on_cancel(self, fn) -> None:
        """Call `fn()` (from another thread) when the work is cancelled or lost; at
        once if it already was."""
        with self._lock:
            if not self.cancelled.is_set():
                self._callbacks.append(fn)
                return
        fn()

    def _cancel(self) -> None:
        with self._lock:
            if self.cancelled.is_set():
                return
            self.cancelled.set()
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn()
            except Exception:  # a callback must not stop the heartbeat thread
                pass

    def label(self) -> str:
        item = f"[{self['item']}]" if self.get("item") is not None else ""
        return f"{self.get('execution_id')}/{self.get('task')}{item}#{self.get('attempt')}"


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp}Z {message}\n")
    sys.stderr.flush()


class Client:
    """The worker API over HTTP, with JSON bodies."""

    def __init__(self, server: str, token: str | None, worker_id: str):
        self.server = server.rstrip("/")
        self.token = token
        self.worker_id = worker_id

    def call(self, path: str, body: dict, timeout: float = REQUEST_TIMEOUT) -> dict:
        data = json.dumps(body).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "harmonia-reference-worker/1",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.server + path, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raise self._error(e) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise Unavailable(f"{self.server} unreachable: {reason}") from None
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            raise Unavailable(f"{path}: the answer is not JSON") from None

    def _error(self, e: urllib.error.HTTPError) -> Exception:
        status = e.code
        try:
            error = json.loads(e.read().decode("utf-8")).get("error") or {}
        except Exception:
            error = {}
        if not isinstance(error, dict):
            error = {}
        message = error.get("message") or e.reason or "no message"
        code = error.get("code")
        if status == 401:
            return FatalError(
                f"the server refused the token (401 {code or 'unauthorized'}): {message}; "
                "pass a valid token with --token or HARMONIA_TOKEN"
            )
        if status == 403:
            return FatalError(
                f"the token may not do this (403 {code or 'forbidden'}): {message}; "
                "a worker needs a token of role `worker` or `admin`"
            )
        if status == 409:
            details = error.get("details") or {}
            reason = details.get("reason") if isinstance(details, dict) else None
            return LeaseLost(reason or "unknown", message)
        if status == 429 or status >= 500:
            retry_after = None
            try:
                retry_after = float(e.headers.get("Retry-After", ""))
            except (TypeError, ValueError):
                pass
            return Unavailable(f"the server answered {status}: {message}", retry_after)
        return Refused(status, f"{code or 'error'}: {message}")

    def poll(self, queues: list, max_tasks: int, wait: int) -> list:
        body = {"worker_id": self.worker_id, "queues": queues, "max_tasks": max_tasks, "wait": wait}
        answer = self.call("/api/workers/poll", body, timeout=wait + REQUEST_TIMEOUT)
        return answer.get("leases") or []

    def heartbeat(self, lease_id: str) -> dict:
        return self.call(f"/api/workers/leases/{quote(lease_id)}/heartbeat", {})

    def complete(self, lease_id: str, output) -> dict:
        return self.call(f"/api/workers/leases/{quote(lease_id)}/complete", {"output": output})

    def fail(self, lease_id: str, cls: str, message: str, retryable: bool, details=None) -> dict:
        error = {"class": cls, "message": message}
        if details is not None:
            error["details"] = details
        body = {"error": error, "retryable": retryable}
        return self.call(f"/api/workers/leases/{quote(lease_id)}/fail", body)


def quote(segment: str) -> str:
    return urllib.parse.quote(str(segment), safe="")


class Backoff:
    """0.5 s doubling to 10 s; reset after a success."""

    def __init__(self):
        self.delay = BACKOFF_FIRST

    def next(self, hint: float | None = None) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, BACKOFF_MAX)
        if hint is not None and hint > delay:
            delay = min(hint, 60.0)
        return delay

    def reset(self) -> None:
        self.delay = BACKOFF_FIRST


class Worker:
    """Polls `queues` with `concurrency` loops and runs `handler(lease)` for each lease.

    `run()` blocks until `stop()` (or a signal, or `exit_after` reports) and returns 0;
    it raises FatalError when the server refuses the token or the requests.
    """

    def __init__(
        self,
        server: str,
        token: str | None,
        worker_id: str,
        queues: list,
        handler,
        concurrency: int = 1,
        wait: int = 20,
        max_tasks: int = 1,
        exit_after: int | None = None,
        log_leases: bool = False,
    ):
        if not 1 <= len(worker_id) <= 128:
            raise ValueError("the worker id must be 1 to 128 characters")
        if not 1 <= len(queues) <= 32:
            raise ValueError("give 1 to 32 queues")
        for q in queues:
            if not QUEUE_NAME.match(q):
                raise ValueError(f"queue `{q}`: 1 to 128 letters, digits, `.`, `_` or `-`")
        if not 0 <= wait <= 60:
            raise ValueError("wait must be 0 to 60 seconds")
        if not 1 <= max_tasks <= 100:
            raise ValueError("max_tasks must be 1 to 100")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = Client(server, token, worker_id)
        self.worker_id = worker_id
        self.queues = list(dict.fromkeys(queues))
        self.handler = handler
        self.concurrency = concurrency
        self.wait = wait
        self.max_tasks = max_tasks
        self.log_leases = log_leases
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._fatal: str | None = None
        self._budget = exit_after  # leases this worker may still take, None: no limit
        self._outage = False

    # -- control -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop polling; work in progress is finished and reported."""
        self._stopping.set()

    def run(self, handle_signals: bool = True) -> int:
        if handle_signals and threading.current_thread() is threading.main_thread():
            self._install_signals()
        slots = [
            threading.Thread(target=self._slot, name=f"slot-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for t in slots:
            t.start()
        while any(t.is_alive() for t in slots):
            for t in slots:
                t.join(timeout=0.2)  # short joins, so that signals are handled promptly
        if self._fatal:
            raise FatalError(self._fatal)
        return 0

    def _install_signals(self) -> None:
        def on_signal(signum, _frame):
            if self._stopping.is_set():
                log(f"{signal.Signals(signum).name} again: exiting now; leases in progress will expire")
                os._exit(1)
            log(f"{signal.Signals(signum).name}: no new work; finishing what is in progress")
            self.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _die(self, message: str) -> None:
        with self._lock:
            if self._fatal is None:
                self._fatal = message
        self.stop()

    # -- polling -------------------------------------------------------------------

    def _take(self) -> int:
        """How many leases the next poll may ask for (0: stop)."""
        with self._lock:
            if self._budget is None:
                return self.max_tasks
            n = min(self.max_tasks, self._budget)
            self._budget -= n
            return n

    def _give_back(self, n: int) -> None:
        with self._lock:
            if self._budget is not None:
                self._budget += n

    def _slot(self) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            n = self._take()
            if n == 0:
                return
            try:
                leases = self.client.poll(self.queues, n, self.wait)
            except Unavailable as e:
                self._give_back(n)
                delay = backoff.next(e.retry_after)
                self._note_outage(f"poll: {e}; trying again in {delay:g}s")
                self._stopping.wait(delay)
                continue
            except FatalError as e:
                self._give_back(n)
                self._die(str(e))
                return
            except (Refused, LeaseLost) as e:
                self._give_back(n)
                self._die(f"the server refused the poll ({e})")
                return
            backoff.reset()
            self._note_recovery()
            leases = [Lease(d) for d in leases if isinstance(d, dict) and d.get("lease_id")]
            self._give_back(max(0, n - len(leases)))
            # Every lease taken is heartbeated from now on, also while it waits its turn.
            jobs = [Job(self, lease) for lease in leases]
            for job in jobs:
                job.start_heartbeats()
            for job in jobs:
                if self._fatal:
                    job.abandon()
                    continue
                if not job.work():
                    self._give_back(1)

    def _note_outage(self, message: str) -> None:
        with self._lock:
            first, self._outage = not self._outage, True
        if first or self.log_leases:
            log(message)

    def _note_recovery(self) -> None:
        with self._lock:
            was, self._outage = self._outage, False
        if was:
            log("server reachable again")


class Job:
    """One lease: its heartbeat thread, the handler's run and the report."""

    def __init__(self, worker: Worker, lease: Lease):
        self.worker = worker
        self.client = worker.client
        self.lease = lease
        self.lease_id = str(lease["lease_id"])
        timeout_ms = lease.get("heartbeat_timeout_ms") or 30000
        self.heartbeat_timeout = max(float(timeout_ms) / 1000.0, 0.1)
        self.interval = self.heartbeat_timeout / 3.0
        self.lost_reason: str | None = None
        self.last_contact = time.monotonic()
        self._done = threading.Event()
        self._lock = threading.Lock()
        if worker.log_leases:
            log(f"leased {lease.label()} (queue {lease.get('queue')}, lease {self.lease_id})")

    def start_heartbeats(self) -> None:
        threading.Thread(target=self._heartbeats, name=f"hb-{self.lease_id}", daemon=True).start()

    def abandon(self) -> None:
        self._done.set()

    def _lose(self, reason: str) -> None:
        with self._lock:
            if self._done.is_set() or self.lost_reason is not None:
                return
            self.lost_reason = reason
        self.lease._cancel()

    def _heartbeats(self) -> None:
        backoff = Backoff()
        delay = self.interval
        while not self._done.wait(delay):
            try:
                answer = self.client.heartbeat(self.lease_id)
            except LeaseLost as e:
                self._lose(e.reason)
                return
            except Unavailable as e:
                # Try again sooner than the interval, but never later.
                delay = min(self.interval, backoff.next(e.retry_after))
                if self.worker.log_leases:
                    log(f"heartbeat {self.lease.label()}: {e}")
                continue
            except FatalError as e:
                self._lose("unauthorized")
                self.worker._die(str(e))
                return
            except Refused as e:
                if self.worker.log_leases:
                    log(f"heartbeat {self.lease.label()} refused: {e}")
                delay = self.interval
                continue
            backoff.reset()
            delay = self.interval
            self.last_contact = time.monotonic()
            if answer.get("cancel_requested"):
                self._lose("cancelled")
                return

    def work(self) -> bool:
        """Runs the handler and reports; True when a result was reported."""
        try:
            return self._work()
        finally:
            self._done.set()

    def _work(self) -> bool:
        lease, w = self.lease, self.worker
        outcome = None  # ("complete", output) or ("fail", cls, message, retryable, details)
        if lease.cancelled.is_set():
            return self._lost()
        try:
            output = w.handler(lease)
            try:
                json.dumps(output)  # an output the server cannot take fails here, clearly
                outcome = ("complete", output)
            except (TypeError, ValueError) as e:
                outcome = ("fail", "validation", f"the output is not JSON: {e}", True, None)
        except WorkerFailure as e:
            outcome = ("fail", e.cls, e.message, e.retryable, e.details)
        except Exception as e:
            if w.log_leases:
                sys.stderr.write(traceback.format_exc())
            outcome = ("fail", type(e).__name__, str(e) or type(e).__name__, True, None)
        if lease.cancelled.is_set():
            return self._lost()
        return self._report(outcome)

    def _lost(self) -> bool:
        if self.worker.log_leases:
            log(f"lost {self.lease.label()} ({self.lost_reason or 'cancelled'}): result dropped")
        return False

    def _report(self, outcome) -> bool:
        """Sends the outcome, again and again while the server is unreachable, until
        it answers or the lease must have expired on the server's side."""
        backoff = Backoff()
        give_up = max(30.0, 2 * self.heartbeat_timeout)
        started = time.monotonic()
        while True:
            try:
                if outcome[0] == "complete":
                    self.client.complete(self.lease_id, outcome[1])
                else:
                    _, cls, message, retryable, details = outcome
                    self.client.fail(self.lease_id, cls, clip(message), bool(retryable), details)
            except LeaseLost as e:
                self.lost_reason = e.reason
                return self._lost()
            except FatalError as e:
                self.worker._die(str(e))
                return False
            except Refused as e:
                if outcome[0] == "complete":
                    # The server would not take this output (too large, say): report why.
                    outcome = ("fail", "validation", f"the server refused the output: {e}", True, None)
                    continue
                log(f"failed {self.lease.label()}: the server refused the failure report: {e}")
                return False
            except Unavailable as e:
                now = time.monotonic()
                if now - self.last_contact > give_up or now - started > 10 * give_up:
                    self.lost_reason = f"not reported: {e}"
                    return self._lost()
                delay = backoff.next(e.retry_after)
                if self.worker.log_leases:
                    log(f"report {self.lease.label()}: {e}; trying again in {delay:g}s")
                time.sleep(delay)
                continue
            break
        if self.worker.log_leases:
            if outcome[0] == "complete":
                log(f"completed {self.lease.label()}")
            else:
                log(f"failed {self.lease.label()}: {outcome[1]}: {clip(outcome[2], 200)}")
        return True


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- handlers for the command line -----------------------------------------------------


def echo_handler(worker_id: str):
    def handle(lease: Lease):
        return {"echo": lease.get("input"), "worker": worker_id}

    return handle


def command_handler(argv: list):
    """Runs `argv` per lease: input as JSON on stdin, output from stdout."""

    def handle(lease: Lease):
        env = dict(os.environ)
        env.pop("HARMONIA_TOKEN", None)  # the command gets the work, not the credentials
        env.update(
            {
                "HARMONIA_EXECUTION_ID": str(lease.get("execution_id", "")),
                "HARMONIA_WORKFLOW": str(lease.get("workflow", "")),
                "HARMONIA_TASK": str(lease.get("task", "")),
                "HARMONIA_ATTEMPT": str(lease.get("attempt", "")),
                "HARMONIA_QUEUE": str(lease.get("queue", "")),
                "HARMONIA_LEASE_ID": str(lease.get("lease_id", "")),
            }
        )
        if lease.get("item") is not None:
            env["HARMONIA_ITEM"] = str(lease["item"])
        posix = os.name == "posix"
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=posix,  # its own process group: killed as a whole, and
            # a Ctrl-C at the terminal does not reach it (work in progress finishes)
        )

        def kill():
            try:
                if posix:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
            except OSError:
                pass

        lease.on_cancel(kill)
        stdin = json.dumps(lease.get("input")).encode("utf-8")
        out, err = proc.communicate(stdin)
        if lease.cancelled.is_set():
            raise WorkerFailure("cancelled", "the work was cancelled")  # not reported
        text = out.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            tail = err[-STDERR_TAIL:].decode("utf-8", errors="replace").strip()
            if proc.returncode < 0:
                what = f"was killed by signal {-proc.returncode}"
            else:
                what = f"exited with code {proc.returncode}"
            message = f"`{argv[0]}` {what}"
            if tail:
                message += f"; stderr: {tail}"
            raise WorkerFailure("exit_code", message, details={"exit_code": proc.returncode})
        try:
            return json.loads(text)
        except ValueError:
            return {"stdout": text}

    return handle


# -- command line ------------------------------------------------------------------------


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="worker.py",
        description="A reference external worker for Harmonia: polls queues, runs each "
        "lease (a command, or an echo), heartbeats and reports the result. "
        "Logs go to stderr.",
        epilog="Exit codes: 0 after SIGTERM/SIGINT (work in progress is reported "
        "first) or --exit-after; 2 when the server refuses the token or the requests. "
        "See docs/workers.md for the protocol.",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("HARMONIA_SERVER", DEFAULT_SERVER),
        metavar="URL",
        help="the Harmonia server (default: $HARMONIA_SERVER or %(default)s)",
    )
    parser.add_argument(
        "--queue",
        action="append",
        required=True,
        metavar="Q",
        help="a queue to poll; repeat for several (at most 32)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("HARMONIA_TOKEN"),
        metavar="T",
        help="an API token of role `worker` (default: $HARMONIA_TOKEN; prefer the "
        "variable, a command line is visible to other users)",
    )
    parser.add_argument(
        "--id",
        dest="worker_id",
        default=f"{socket.gethostname()}-{os.getpid()}"[-128:],
        metavar="NAME",
        help="this worker's id, shown in leases and errors (default: hostname-pid)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="leases worked on at once; each has its own polling loop (default 1)",
    )
    parser.add_argument(
        "--wait",
        type=int,
        default=20,
        metavar="SECONDS",
        help="how long a poll waits when no work is ready, 0-60 (default 20)",
    )
    parser.add_argument(
        "--max-tasks",
        type=int,
        default=1,
        metavar="N",
        help="leases asked for per poll, 1-100, worked one after the other by the "
        "loop that polled them (default 1)",
    )
    parser.add_argument(
        "--exit-after",
        type=int,
        metavar="N",
        help="exit 0 once N leases were reported, completed or failed (for tests)",
    )
    parser.add_argument(
        "--log",
        action="store_true",
        help="one line per lease on stderr: leased, completed, failed, lost",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--command",
        metavar="CMD",
        help="run CMD per lease (no shell): input as JSON on stdin, output from "
        "stdout (JSON, or {\"stdout\": text}); HARMONIA_EXECUTION_ID, HARMONIA_TASK, "
        "HARMONIA_ATTEMPT and more in its environment; a non-zero exit fails the "
        "attempt with class exit_code",
    )
    mode.add_argument(
        "--echo",
        action="store_true",
        help="answer {\"echo\": input, \"worker\": id} (for tests and benchmarks)",
    )
    args = parser.parse_args(argv)
    if urllib.parse.urlparse(args.server).scheme not in ("http", "https"):
        parser.error(f"--server: `{args.server}` is not an http:// or https:// URL")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if not 0 <= args.wait <= 60:
        parser.error("--wait must be 0 to 60 seconds")
    if not 1 <= args.max_tasks <= 100:
        parser.error("--max-tasks must be 1 to 100")
    if args.exit_after is not None and args.exit_after < 1:
        parser.error("--exit-after must be at least 1")
    if not 1 <= len(args.worker_id) <= 128:
        parser.error("--id must be 1 to 128 characters")
    if len(args.queue) > 32:
        parser.error("--queue: at most 32 queues")
    for q in args.queue:
        if not QUEUE_NAME.match(q):
            parser.error(f"--queue `{q}`: 1 to 128 letters, digits, `.`, `_` or `-`")
    if args.command is not None:
        try:
            args.argv = shlex.split(args.command)
        except ValueError as e:
            parser.error(f"--command: {e}")
        if not args.argv:
            parser.error("--command is empty")
        if shutil.which(args.argv[0]) is None:
            parser.error(f"--command: `{args.argv[0]}` is not an executable file")
    return args


def main(argv: list | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.echo:
        handler = echo_handler(args.worker_id)
    else:
        handler = command_handler(args.argv)
    worker = Worker(
        args.server,
        args.token,
        args.worker_id,
        args.queue,
        handler,
        concurrency=args.concurrency,
        wait=args.wait,
        max_tasks=args.max_tasks,
        exit_after=args.exit_after,
        log_leases=args.log,
    )
    if args.log:
        log(
            f"worker {args.worker_id} polling {', '.join(worker.queues)} on {args.server} "
            f"with {args.concurrency} slot(s)"
        )
    try:
        return worker.run()
    except FatalError as e:
        sys.stderr.write(f"worker.py: error: {e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
