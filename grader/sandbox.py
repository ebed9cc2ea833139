"""The sandbox boundary: the one place where the grader starts and talks to a process running student code.

A `Worker` is one long-lived process per submission, run one of three ways (`SANDBOXES`), chosen once per
grading process by `choose_sandbox`:
- "bubblewrap" (the grader is root and bubblewrap can make namespaces): the worker sees a read-only system, the
  Python installation, the worker package, `gankit`, the submission's code at /submission and the grader's
  chosen inputs at /inputs, and a private /tmp; nothing else: not `reference/`, not `tasks/` (the hidden check
  parameters), not other submissions, not the output folder, no network.
- "uid" (root, but bubblewrap cannot make namespaces, as under Docker's default seccomp profile, Gradescope's
  container): no namespaces, but the same unprivileged uid; the worker package and `gankit` are copied where it
  can read them, and the grader's own folders are root-only, so they stay unreadable to it.
- "none" (the grader is not root, as on a student's own machine): a plain child process of the same user.
Student code never runs as root: as root without either sandbox, `choose_sandbox` refuses (`SandboxUnavailable`).
In every mode the worker gets rlimits (CPU time, memory, processes, file size, open files); under a uid of its
own they hold (root ignores RLIMIT_NPROC), and that uid is killed wholesale when the worker ends.

Requests and replies are `wire` messages on the worker's stdin and on a private copy of its stdout; whatever
the student's code prints goes to a log the parent reads back only as escaped, truncated text. The parent
enforces a wall-clock limit on every request and kills the whole process tree when it runs out.
"""

from __future__ import annotations

import fcntl
import functools
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.worker import wire

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKER_PACKAGE = Path(__file__).resolve().parent / "worker"
GANKIT_PACKAGE = PROJECT_DIR / "gankit"
# What the worker must never read: the hidden check parameters and the reference solutions (a checkout has
# both; the Gradescope bundle has no reference and keeps the catalogue in a root-only folder).
GRADER_SECRETS = (PROJECT_DIR / "tasks", PROJECT_DIR / "reference")
SANDBOX_LIB = "/opt/gan"  # where the worker package and gankit appear inside the sandbox
SANDBOX_SUBMISSION = "/submission"
SANDBOX_INPUTS = "/inputs"
FIRST_WORKER_UID = 61000  # one uid per live worker on the host, so RLIMIT_NPROC counts each worker alone
WORKER_UIDS = 4096
# Host-wide, whatever $TMPDIR says (SLURM gives each job its own): two grader processes must see each other's
# claims, or one kills the other's workers when it cleans up "its" uid.
UID_LOCK_BASES = ("/run/lock", "/run", "/var/lock", "/tmp")
LOG_TAIL_CHARS = 2000
# One thread per worker whatever the machine or `--jobs`: float reductions split over a different number of threads
# round differently, and over thousands of training steps that moves the figures a grade is scored on. One is
# also what a batch wants: `--jobs N` then keeps N cores busy without two workers fighting over one.
WORKER_THREADS = 1


class WorkerError(RuntimeError):
    """The worker could not answer: it crashed, timed out or sent something malformed."""


class WorkerTimeout(WorkerError):
    pass


class WorkerKilled(WorkerError):
    """The worker died of a signal the grader did not send (a timeout is `WorkerTimeout`): the machine (an
    out-of-memory killer, an administrator, a neighbour), a resource limit, or the student's own code."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number

    @property
    def by_limit(self) -> str | None:
        """The rlimit that sends this signal, if one does."""
        return {signal.SIGXCPU: "the CPU-time limit", signal.SIGXFSZ: "the file-size limit"}.get(self.signal_number)


class StudentError(RuntimeError):
    """The student's code raised; `kind` is the exception's class name, the message is already truncated."""

    def __init__(self, kind: str, message: str, where: str = "") -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.where = where


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits. `memory_bytes` becomes RLIMIT_AS on CPU (CUDA reserves address space)."""

    cpu_seconds: int = 1800
    memory_bytes: int = 6 * 1024**3
    processes: int = 64  # threads count too: torch's pools need a few dozen
    file_bytes: int = 64 * 1024**2
    open_files: int = 256


SANDBOXES = ("bubblewrap", "uid", "none")
# Every namespace but the user one: the worker must get a real unprivileged uid for RLIMIT_NPROC to count.
NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")


class SandboxUnavailable(RuntimeError):
    """Student code cannot run safely here (the grader is root, and neither bubblewrap nor an unprivileged uid
    can be used): a fault of the machine, said before anything is graded; the message says what to fix."""


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a worker here, or None when it can: it must be installed, run by root, and
    able to make the namespaces the worker gets (Docker's default seccomp profile forbids that)."""
    if os.geteuid() != 0:
        return "the grader is not root"
    if shutil.which("bwrap") is None or shutil.which("setpriv") is None:
        return "bubblewrap (bwrap) or setpriv is not installed"
    try:
        probe = subprocess.run(
            ["bwrap", *NAMESPACES, "--ro-bind", "/", "/", "--", "true"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap did not start ({error})"
    if probe.returncode != 0:
        said = probe.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap cannot make namespaces here ({said[-1] if said else f'exit code {probe.returncode}'})"
    return None


def bwrap_available() -> bool:
    return bubblewrap_problem() is None


def _unreachable_for_others(paths: list[Path]) -> str | None:
    """What stops a uid of no group and no ownership from passing through every folder on the way to `paths`
    and reading the paths themselves, or None when nothing does."""
    for path in paths:
        for step in [*reversed(path.parents), path]:
            need, fix = (0o005, "o+rx") if step == path else (0o001, "o+x")
            if step.stat().st_mode & need != need:
                return f"{step} needs `chmod {fix}` so that other users reach {path}"
    return None


def uid_problem() -> str | None:
    """Why the worker cannot run under an unprivileged uid without namespaces, or None when it can: setpriv is
    needed, that uid must reach the Python installation and the temporary folder, and must not reach the
    grader's secrets (without namespaces it sees the file system as any user does)."""
    if os.geteuid() != 0:
        return "the grader is not root"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    needed = [Path(sys.executable).resolve(), *python_roots(), Path(tempfile.gettempdir()).resolve()]
    unreachable = _unreachable_for_others(needed)
    if unreachable:
        return unreachable
    for secret in GRADER_SECRETS:
        if secret.exists() and _unreachable_for_others([secret]) is None:
            return f"{secret} is readable by other users, so by the worker's uid too (`chmod -R o-rwx {secret}`)"
    return None


def choose_sandbox(requested: str = "auto") -> str:
    """The sandbox a worker runs in: with "auto", bubblewrap where it works, else an unprivileged uid, else
    (only when the grader is not root) a plain child process. Raises SandboxUnavailable when the requested
    one cannot be had, and always rather than run student code as root."""
    if requested not in ("auto", *SANDBOXES):
        raise ValueError(f"unknown sandbox {requested!r}; choose auto or one of {', '.join(SANDBOXES)}")
    if os.geteuid() != 0:
        if requested in ("auto", "none"):
            return "none"
        raise SandboxUnavailable(f"the {requested} sandbox needs the grader to run as root")
    if requested == "none":
        raise SandboxUnavailable("the grader runs as root: student code never runs without a sandbox")
    bubblewrap = bubblewrap_problem()
    if requested in ("auto", "bubblewrap") and bubblewrap is None:
        return "bubblewrap"
    if requested == "bubblewrap":
        raise SandboxUnavailable(f"no bubblewrap sandbox: {bubblewrap}")
    uid = uid_problem()
    if uid is None:
        return "uid"
    if requested == "uid":
        raise SandboxUnavailable(f"no unprivileged uid sandbox: {uid}")
    raise SandboxUnavailable(
        f"student code cannot be sandboxed here: no bubblewrap ({bubblewrap}) and no unprivileged uid ({uid})"
    )


def _ancestors(path: Path) -> list[str]:
    return [str(parent) for parent in reversed(path.parents) if str(parent) != "/"]


def python_roots() -> list[Path]:
    """The folders the interpreter and its packages live in, without the project itself."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path and path.is_dir() and "-packages" in path.name and PROJECT_DIR not in (path, *path.parents):
            roots.add(path)
    # Keep only the outermost folders: binding a folder also binds what is inside it.
    return sorted(root for root in roots if not any(other in root.parents for other in roots))


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


def bwrap_command(submission: Path, inputs: Path | None, library: Path, uid: int, cuda: bool) -> list[str]:
    command = ["bwrap", *NAMESPACES, "--die-with-parent", "--new-session"]
    for system in SYSTEM_DIRS:
        command += ["--ro-bind-try", system, system]
    binds = [(root, str(root)) for root in python_roots() if not str(root).startswith(SYSTEM_DIRS)]
    binds.append((library, SANDBOX_LIB))
    binds.append((submission, SANDBOX_SUBMISSION))
    if inputs is not None:
        binds.append((inputs, SANDBOX_INPUTS))
    made: set[str] = set()
    for source, target in binds:
        # bwrap makes missing parents mode 0700, which the unprivileged uid could not enter.
        for parent in _ancestors(Path(target)):
            if parent not in made:
                command += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        command += ["--ro-bind", str(source), target]
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    if cuda:
        command += ["--ro-bind-try", "/sys", "/sys"]
        for node in sorted(Path("/dev").glob("nvidia*")):
            command += ["--dev-bind", str(node), str(node)]
    return command + drop_to(uid)


def drop_to(uid: int) -> list[str]:
    """The command prefix that runs what follows as `uid` (its own group, no supplementary groups, no
    capabilities, and no way back up through setuid programs)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--"]


ISOLATION = {
    "bubblewrap": "bubblewrap sandbox: no network, read-only system, only the submission visible, unprivileged uid",
    "uid": "unprivileged uid without namespaces (bubblewrap cannot make them here): resource limits, the grader's "
    "folders unreadable, but the network and world-readable files reachable",
    "none": "NOT isolated: a child process of the grader's own (not root) user with resource limits only, no "
    "bubblewrap sandbox",
}


def _worker_environment(threads: int = WORKER_THREADS, gpu: str | None = None) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (no tokens, no GAN_* settings) reaches student code; with
    `gpu`, that GPU is the only one CUDA shows the worker."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    if gpu is not None:
        environment["CUDA_VISIBLE_DEVICES"] = gpu
    return environment


def uid_lock_dir() -> Path:
    """The folder of the worker-uid locks: the first of `UID_LOCK_BASES` this process can write, never $TMPDIR."""
    base = next((b for b in UID_LOCK_BASES if os.path.isdir(b) and os.access(b, os.W_OK)), UID_LOCK_BASES[-1])
    return Path(base) / "gan-grader-uids"


def _claim_uid(preferred: int) -> tuple[int, int]:
    """(offset, fd of its held lock) of a worker uid no other live worker on this host uses, from any grader
    process: the uid's processes are killed wholesale when its worker ends, so it must never be shared."""
    locks = uid_lock_dir()
    locks.mkdir(mode=0o700, exist_ok=True)
    for step in range(WORKER_UIDS):
        offset = (preferred + step) % WORKER_UIDS
        fd = os.open(locks / f"{offset}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return offset, fd
    raise RuntimeError(f"all {WORKER_UIDS} worker uids are in use")


def killed_by(code: int | None) -> int | None:
    """The signal an exit code reports: −n from a child Python started, 128 + n from bubblewrap's."""
    number = -code if code is not None and code < 0 else code - 128 if code is not None and code > 128 else None
    valid = {int(s) for s in signal.Signals}
    return number if number in valid else None


class Worker:
    """One sandboxed process that loads a submission's modules and answers probe requests.

    `call(op, timeout, **args)` sends one request and returns the probe's result; the student's exceptions
    come back as `StudentError`, a crash or timeout as `WorkerError` (the process is then gone, and the next
    call starts a fresh one, which the caller re-`prepare`s).
    """

    def __init__(
        self,
        submission: Path,
        inputs: Path | None = None,
        *,
        slot: int = 0,
        limits: Limits = Limits(),
        device: str = "cpu",
        sandbox: str = "auto",
        gpu: str | None = None,
        threads: int = WORKER_THREADS,
    ) -> None:
        self.submission = submission
        self.inputs = inputs
        self._uid_lock = _claim_uid(slot)
        self.uid = FIRST_WORKER_UID + self._uid_lock[0]
        self.limits = limits
        self.device = device
        self.gpu = gpu
        self.threads = threads
        self.sandbox = choose_sandbox(sandbox)
        self.isolated = self.sandbox == "bubblewrap"  # the worker sees the sandbox's paths, not the host's
        self._process: subprocess.Popen[bytes] | None = None
        self._replies: int | None = None
        self._private = Path(tempfile.mkdtemp(prefix="gan-worker-"))
        self.log_path = self._private / "output.log"
        self.starts = 0
        self._requests_sent = 0

    # ---- the submission and inputs folders, as the host and the worker see them -------------------------------

    def stage(self, files: dict[str, str | bytes]) -> dict[str, Path]:
        """Write {file name: source text, or bytes (a checkpoint)} into the submission folder, readable by the
        worker's unprivileged uid; returns {file name: host path}."""
        self.submission.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(self.submission, 0o755)
        staged = {}
        for name, content in files.items():
            path = self.submission / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            os.chmod(path, 0o644)
            staged[name] = path
        return staged

    def submission_path(self, host_path: Path) -> str:
        """The path the worker process sees for `host_path`, a file in the submission folder."""
        return f"{SANDBOX_SUBMISSION}/{host_path.name}" if self.isolated else str(host_path)

    def inputs_path(self, host_path: Path) -> str:
        """The path the worker process sees for `host_path`, a file in the inputs folder."""
        return f"{SANDBOX_INPUTS}/{host_path.name}" if self.isolated else str(host_path)

    @property
    def isolation(self) -> str:
        """Which isolation held, in words, for the report."""
        return ISOLATION[self.sandbox]

    # ---- life cycle ------------------------------------------------------------------------------------------

    def _command(self) -> list[str]:
        launcher = (
            "import sys; sys.path[:0] = [{lib!r}, {sub!r}]; sys.argv = ['gan_worker', {dev!r}, {inputs!r}]; "
            "import runpy; runpy.run_module('gan_worker', run_name='__main__', alter_sys=True)"
        )
        if self.sandbox == "bubblewrap":
            cuda = self.device.startswith("cuda")
            prefix = bwrap_command(self.submission, self.inputs, self._library(), self.uid, cuda)
            lib, sub, inputs = SANDBOX_LIB, SANDBOX_SUBMISSION, SANDBOX_INPUTS if self.inputs else ""
        else:
            prefix = drop_to(self.uid) if self.sandbox == "uid" else []
            lib, sub, inputs = str(self._library()), str(self.submission), str(self.inputs or "")
        code = launcher.format(lib=lib, sub=sub, dev=self.device, inputs=inputs)
        return [*prefix, sys.executable, "-I", "-c", code]

    def _library(self) -> Path:
        """The worker package and gankit as the worker imports them: links to the grader's own for a worker of
        the grader's user; for a worker under its own uid (bubblewrap binds this folder at /opt/gan), a
        world-readable copy, since the grader's install may be root-only (the Gradescope bundle's is)."""
        lib = self._private / "lib"
        if lib.is_dir():
            return lib
        lib.mkdir()
        for name, package in (("gan_worker", WORKER_PACKAGE), ("gankit", GANKIT_PACKAGE)):
            if self.sandbox == "none":
                (lib / name).symlink_to(package)
                continue
            shutil.copytree(package, lib / name, ignore=shutil.ignore_patterns("__pycache__"))
        if self.sandbox != "none":
            if self.sandbox == "uid":
                os.chmod(self._private, 0o711)  # passable, not listable: the uid reaches lib/ and home/ only
            for folder, _, files in os.walk(lib):
                os.chmod(folder, 0o755)
                for file in files:
                    os.chmod(Path(folder) / file, 0o644)
        return lib

    def _home(self) -> Path | None:
        """The uid's own writable folder outside bubblewrap (its cwd, HOME and TMPDIR); None in the others."""
        if self.sandbox != "uid":
            return None
        home = self._private / "home"
        if not home.is_dir():
            home.mkdir(mode=0o700)
            os.chown(home, self.uid, self.uid)
        return home

    def _limit_resources(self) -> None:
        """Runs in the child before exec: the limits are inherited by everything the worker starts."""
        limits = self.limits
        settings = [
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ]
        if not self.device.startswith("cuda"):
            settings.append((resource.RLIMIT_AS, limits.memory_bytes))
        for which, value in settings:
            resource.setrlimit(which, (value, value))

    def start(self) -> None:
        self.close()
        if self.sandbox == "uid":
            blocked = _unreachable_for_others([self.submission, *([self.inputs] if self.inputs else [])])
            if blocked:  # the student's code would fail to load: the machine's fault, not theirs
                raise SandboxUnavailable(f"the worker's uid cannot read its files: {blocked}")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed right after
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        try:
            home = self._home()
            environment = _worker_environment(self.threads, self.gpu)
            if home is not None:
                environment.update(HOME=str(home), TMPDIR=str(home))
            self._process = subprocess.Popen(
                self._command(),
                stdin=requests_read,
                stdout=replies_write,
                stderr=log,
                cwd=home,
                env=environment,
                start_new_session=True,
                preexec_fn=self._limit_resources,
                close_fds=True,
            )
        finally:
            os.close(requests_read)
            os.close(replies_write)
            log.close()
        self._requests = os.fdopen(requests_write, "wb")
        self._replies = replies_read
        self.starts += 1

    def close(self) -> None:
        """Kill the worker and everything it started; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        self._kill_leftovers()
        try:
            self._requests.close()
        except OSError:
            pass  # the pipe broke when the worker died: nothing left to flush
        if self._replies is not None:
            os.close(self._replies)
            self._replies = None

    def _processes_of_uid(self) -> dict[int, int]:
        """pid → parent pid of every process running as the worker's uid (a /proc/<pid> folder belongs to its
        process's uid, so only the worker's own have their status read: this runs after every request)."""
        found = {}
        for entry in os.scandir("/proc"):
            try:
                if not entry.name.isdigit() or entry.stat().st_uid != self.uid:
                    continue
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(self.uid)]:
                found[int(entry.name)] = int(fields.get("PPid", "0"))
        return found

    def _kill(self, pids: list[int]) -> None:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _kill_leftovers(self) -> None:
        """Processes that left the session (setsid, daemons) still carry the worker's uid: kill them too, again
        and again until none is left, since a fork bomb makes new ones while the first are killed."""
        if self.sandbox == "none":
            return
        deadline = time.monotonic() + 10
        while (processes := self._processes_of_uid()) and time.monotonic() < deadline:
            self._kill(list(processes))
            time.sleep(0.01)

    def _kill_strays(self) -> None:
        """After each request, every process the student's code started (its parent also runs as the worker's
        uid) is killed: only the worker itself, whose parent is the sandbox, may stay."""
        if self.sandbox != "none":
            processes = self._processes_of_uid()
            self._kill([pid for pid, parent in processes.items() if parent in processes])

    def cleanup(self) -> None:
        self.close()
        shutil.rmtree(self._private, ignore_errors=True)
        offset, fd = self._uid_lock
        if fd >= 0:
            os.close(fd)  # releases the uid for the next worker
            self._uid_lock = (offset, -1)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # ---- requests --------------------------------------------------------------------------------------------

    def output_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The end of what the student's code printed, as text (escaped later by the report)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - chars))
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        assert self._replies is not None
        chunks, remaining = [], size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout("time limit reached")
            ready, _, _ = select.select([self._replies], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._replies, min(remaining, 1 << 20))
            if not chunk:
                raise WorkerError("the worker process ended")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def ensure_started(self) -> None:
        """Start a fresh process if there is none (first use, or after a crash or timeout stopped it)."""
        if self._process is None or self._process.poll() is not None:
            self.start()

    def _exit_code(self) -> int | None:
        """The worker's exit code once it ended; its pipe can close a moment before it can be reaped."""
        try:
            return self._process.wait(timeout=1) if self._process else None
        except subprocess.TimeoutExpired:
            return None

    def call(self, op: str, timeout: float, **args: Any) -> Any:
        self.ensure_started()
        deadline = time.monotonic() + timeout
        self._requests_sent += 1
        request_id = f"{self.starts}.{self._requests_sent}"
        try:
            self._requests.write(wire.encode({"op": op, "args": args, "id": request_id}))
            self._requests.flush()
            reply: dict[str, Any] = {}
            while reply.get("id") != request_id:  # a stray answer (an earlier request's, a fork's) is dropped
                (size,) = wire.HEADER.unpack(self._read_exactly(wire.HEADER.size, deadline))
                if size > wire.MAX_MESSAGE_BYTES:
                    raise WorkerError(f"reply of {size} bytes is over the limit")
                reply = wire.decode(self._read_exactly(size, deadline))
        except WorkerTimeout:
            self.close()
            raise WorkerTimeout(f"no answer within {timeout:.0f} s; the worker was stopped") from None
        except (BrokenPipeError, wire.WireError, WorkerError) as error:
            code = self._exit_code()
            self.close()
            number = killed_by(code)
            if number is not None:
                name = signal.Signals(number).name
                raise WorkerKilled(f"the worker process was killed by {name} (exit code {code})", number) from None
            detail = f" (exit code {code})" if code is not None else ""
            raise WorkerError(f"the worker process failed: {error}{detail}") from None
        finally:
            self._kill_strays()
        if reply.get("ok") is True:
            return reply.get("result")
        raise StudentError(str(reply.get("error", "Error"))[:80], str(reply.get("message", ""))[:1000])
