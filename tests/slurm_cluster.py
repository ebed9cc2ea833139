"""A real one-node SLURM cluster on localhost, for the tests of the batch executor.

`one_node_cluster(root)` starts munged, slurmctld and slurmd from Debian's `slurm-wlm` and `munge` packages with
everything they write under `root`: their own munge key and socket, their own `slurm.conf`, free TCP ports, state,
spool, pid and log files. No system-wide SLURM or munge file is used (not /etc/slurm, /etc/munge or the system
munge socket), so it runs next to a real cluster and leaves the machine as it found it: on exit every job is cancelled
and every process the daemons started is ended. A client reaches the cluster through `SlurmCluster.env`
(`SLURM_CONF`, which names the munge socket too). There is no slurmdbd, so `sacct` does not work.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0  # until the node is idle
STOP_TIMEOUT_S = 10.0  # after SIGTERM, before SIGKILL
PARTITION = "debug"
# The daemons live in /usr/sbin, which a non-root PATH may lack.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "slurmstepd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel")
SOCKET_PATH_MAX = 100  # a unix socket's path must fit in 108 bytes; munged adds ".lock" beside it


class ClusterUnavailable(Exception):
    """This machine cannot run the cluster (SLURM or munge missing, or not root); the message says why."""


@dataclass(frozen=True)
class SlurmCluster:
    """A running cluster: its folder, its `slurm.conf`, its one partition and what a client's environment needs."""

    root: Path
    conf: Path
    partition: str
    env: dict[str, str]


def find_programs() -> dict[str, str]:
    """The full path of every SLURM and munge program the cluster needs; ClusterUnavailable when one is missing
    or we are not root (slurmd must run as root to start jobs, and SlurmUser=root keeps the setup to one user)."""
    paths = {name: shutil.which(name, path=SEARCH_PATH) for name in DAEMONS + CLIENTS}
    missing = sorted(name for name, path in paths.items() if path is None)
    if missing:
        raise ClusterUnavailable(
            f"SLURM/munge programs not found: {', '.join(missing)} (apt-get install slurm-wlm munge)"
        )
    if os.geteuid() != 0:
        raise ClusterUnavailable("the one-node SLURM cluster needs root (slurmd starts jobs as their user)")
    return {name: path for name, path in paths.items() if path is not None}


def free_port() -> int:
    """A TCP port nobody listens on now: the kernel picks one for port 0. Another process could take it before
    the daemon binds it, but that is unlikely enough for tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def real_memory_mb() -> int:
    """A bit under this machine's memory in MB: slurmd drains a node that claims more than it has."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(256, int(line.split()[1]) // 1024 * 9 // 10)
    return 1024


def slurm_conf(
    root: Path, munge_socket: Path, host: str, ctld_port: int, slurmd_port: int, cpus: int, memory_mb: int
) -> str:
    """The smallest slurm.conf for one node that is its own controller. Plugins are the ones that need no cgroups,
    no accounting database and no MPI; ReturnToService=2 lets the node come back by itself."""
    return f"""\
ClusterName=gantest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "slurmctld.pid"}
SlurmdPidFile={root / "slurmd.pid"}
SlurmctldLogFile={root / "slurmctld.log"}
SlurmdLogFile={root / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={memory_mb // cpus}
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=2
MailProg=/bin/true
InactiveLimit=0
MinJobAge=300
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def log_tails(root: Path, lines: int = 15) -> str:
    """The last lines of every log and daemon output under `root`, for an error message."""
    parts = []
    for log in sorted([*root.glob("*.log"), *root.glob("*.out")]):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name} ---\n" + "\n".join(tail))
    return "\n".join(parts)


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        # The command name (field 2) may hold spaces and parentheses: the fields after the last ")" are plain.
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    return parents


def cluster_processes(conf: Path, roots: list[int] | None = None) -> set[int]:
    """The processes of the cluster whose config is `conf`: those with `SLURM_CONF=<conf>` in their environment
    (the daemons, every slurmstepd they start, and the jobs, which inherit it from sbatch) and every descendant
    of them or of `roots`. slurmd starts slurmstepd through a short-lived child, so slurmstepd and its jobs are
    orphans, not slurmd's descendants, and the environment is what ties them to this cluster. This process and
    its ancestors are left out: a test may have the same SLURM_CONF."""
    parents = _parents()
    mine = {os.getpid()}
    pid = os.getpid()
    while pid in parents and parents[pid] > 0:
        pid = parents[pid]
        mine.add(pid)
    marker = f"SLURM_CONF={conf}".encode()
    found = {pid for pid in roots or [] if pid in parents}
    for pid in parents:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ:
            found.add(pid)
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found - mine


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _kill_leftovers(conf: Path, roots: list[int]) -> None:
    """End whatever of the cluster still runs after its daemons stopped (a slurmstepd, a job): SIGTERM, then
    SIGKILL after STOP_TIMEOUT_S. Looked up again each round since a dying step may leave orphans behind. Then
    wait a little for the dead to be reaped: they are orphans, which init reaps in its own time (here about a
    second), and until then `pgrep slurm` still lists them."""
    deadline = time.monotonic() + STOP_TIMEOUT_S
    seen: set[int] = set()
    while True:
        seen |= cluster_processes(conf, roots)
        alive = {pid for pid in seen if _alive(pid)}
        if not alive:
            break
        sig = signal.SIGKILL if time.monotonic() > deadline else signal.SIGTERM
        for pid in alive:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(Path(f"/proc/{pid}").exists() for pid in seen) and time.monotonic() < deadline:
        time.sleep(0.1)


def _cancel_jobs(programs: dict[str, str], env: dict[str, str]) -> None:
    """scancel every job of the cluster and give them a little time to go (KillWait is 2 s)."""
    listed = subprocess.run(
        [programs["squeue"], "-h", "-o", "%i"], env=env, capture_output=True, text=True, timeout=10, check=False
    )
    jobs = listed.stdout.split()
    if listed.returncode != 0 or not jobs:
        return
    subprocess.run([programs["scancel"], *jobs], env=env, capture_output=True, timeout=10, check=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        listed = subprocess.run(
            [programs["squeue"], "-h", "-o", "%i"], env=env, capture_output=True, text=True, timeout=10, check=False
        )
        if listed.returncode != 0 or not listed.stdout.split():
            return
        time.sleep(0.25)


@contextmanager
def one_node_cluster(root: Path) -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd with their files under `root` (an empty folder) and yield the cluster
    once its node is idle; on exit, also after an error, cancel its jobs and stop all of its processes.
    RuntimeError, with the tails of the daemons' logs, when the node is not idle within START_TIMEOUT_S."""
    programs = find_programs()
    root = root.resolve()
    host = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    env = {"SLURM_CONF": str(conf)}
    # Daemons get a clean environment: no SLURM_* variable of the caller's may point them elsewhere.
    daemon_env = {key: value for key, value in os.environ.items() if not key.startswith(("SLURM_", "MUNGE"))}
    daemon_env.update(env)
    client_env = {**daemon_env}
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        munge_dir = root / "munge"
        if len(str(munge_dir / "munge.socket")) > SOCKET_PATH_MAX:
            # A long tmp path would not fit in a unix socket's address: the socket goes to a short folder.
            munge_dir = Path(tempfile.mkdtemp(prefix="munge-"))
            stack.callback(shutil.rmtree, munge_dir, ignore_errors=True)
        # munged refuses a socket folder that others may write to, and a key that others may read.
        munge_dir.mkdir(exist_ok=True)
        munge_dir.chmod(0o755)
        for folder in ("state", "spool"):
            (root / folder).mkdir(mode=0o755)
        key = root / "munge.key"
        subprocess.run([programs["mungekey"], "--create", "--keyfile", str(key)], check=True, capture_output=True)
        key.chmod(0o400)
        munge_socket = munge_dir / "munge.socket"
        conf.write_text(
            slurm_conf(root, munge_socket, host, free_port(), free_port(), os.cpu_count() or 1, real_memory_mb())
        )

        def start(name: str, args: list[str]) -> None:
            """Start a daemon in the foreground, its output in <name>.out under root (its log is <name>.log)."""
            with open(root / f"{name}.out", "wb") as out:
                processes.append(
                    subprocess.Popen(
                        [programs[name], *args],
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=daemon_env,
                        cwd=root,
                        # Its own session: a Ctrl-C meant for pytest does not kill it before the cleanup runs.
                        start_new_session=True,
                    )
                )

        def stop() -> None:
            """Cancel the jobs, stop the daemons (the last started first), then anything they left."""
            # Taken before the jobs are cancelled: a slurmstepd that then ends is a zombie with no environment
            # to know it by, and the wait for its reaping needs its pid.
            roots = [*(process.pid for process in processes), *cluster_processes(conf)]
            try:
                if len(processes) == 3:
                    _cancel_jobs(programs, client_env)
            finally:
                for process in reversed(processes):
                    _stop(process)
                _kill_leftovers(conf, roots)

        stack.callback(stop)
        start(
            "munged",
            [
                "--foreground",
                # pytest's folders are 0700, so other users cannot reach the socket: munged refuses that without
                # --force, which makes it a warning (every client here is root).
                "--force",
                f"--socket={munge_socket}",
                f"--key-file={key}",
                f"--pid-file={root / 'munged.pid'}",
                f"--log-file={root / 'munged.log'}",  # unused in the foreground: it logs to munged.out
                f"--seed-file={root / 'munged.seed'}",
            ],
        )
        _wait_for(lambda: munge_socket.exists(), "munged's socket", processes, root)
        start("slurmctld", ["-D", "-c", "-i", "-f", str(conf)])
        start("slurmd", ["-D", "-c", "-f", str(conf), "-N", host])
        _wait_for(lambda: _node_state(programs, client_env) == "idle", "an idle node", processes, root)
        yield SlurmCluster(root=root, conf=conf, partition=PARTITION, env=env)


def _node_state(programs: dict[str, str], env: dict[str, str]) -> str:
    """The node's state as sinfo prints it ("idle", "unknown*", ...), or "" while slurmctld does not answer."""
    try:
        listed = subprocess.run(
            [programs["sinfo"], "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        return ""
    return listed.stdout.strip() if listed.returncode == 0 else ""


def _wait_for(ready: Callable[[], bool], what: str, processes: list[subprocess.Popen[bytes]], root: Path) -> None:
    """Poll `ready` until it holds; RuntimeError with the daemons' logs when a daemon dies or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        dead = [process for process in processes if process.poll() is not None]
        if dead:
            names = ", ".join(f"{Path(str(p.args[0])).name} (exit {p.returncode})" for p in dead)  # type: ignore[index]
            raise RuntimeError(f"SLURM test cluster: {names} stopped while waiting for {what}\n{log_tails(root)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"SLURM test cluster: no {what} after {START_TIMEOUT_S:.0f} s\n{log_tails(root)}")
        time.sleep(0.25)
