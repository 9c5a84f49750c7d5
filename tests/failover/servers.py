"""Replicated servers of the failover tests' own, on free ports, never the machine's:
a Redis master with a replica and three sentinels; a PostgreSQL primary with a hot
standby. Each waits on what it promises (a replica in sync, sentinels that know each
other), never on time alone."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import redis

from tests.realtime.servers import free_port, wait_until

MASTER_NAME = "portguard"


def _redis_answers(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


class RedisNode:
    def __init__(self, directory: Path, *args: str, sentinel: bool = False):
        self.port = free_port()
        self.directory = directory
        self.args = args
        self.sentinel = sentinel
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make system-packages installs it)")
        command = [binary]
        if self.sentinel:
            # A sentinel rewrites its configuration file: one of its own, in the test's folder.
            config = self.directory / f"sentinel-{self.port}.conf"
            config.write_text("\n".join((f"port {self.port}", *self.args)) + "\n")
            command += [str(config), "--sentinel"]
        else:
            command += [*self.args]
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        if not self.sentinel:
            command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _redis_answers(self.port), what="redis-server")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as a machine that loses power."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class SentinelRedis:
    """A master, its replica and three sentinels watching it (quorum 2). A master silent
    for a second is taken for down, and a replica promoted in its place."""

    def __init__(self, directory: Path):
        self.master = RedisNode(directory)
        self.replica = RedisNode(directory, "--replicaof", "127.0.0.1", str(self.master.port))
        monitor = (
            "bind 127.0.0.1",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} 2",
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
            f"sentinel failover-timeout {MASTER_NAME} 10000",
        )
        self.sentinels = [RedisNode(directory, *monitor, sentinel=True) for _ in range(3)]

    @property
    def env(self) -> dict[str, str]:
        """What a PortGuard process is given to find the master."""
        return {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
        }

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(self._replica_in_sync, what="the replica's sync")
        wait_until(self._sentinels_see_everyone, what="three sentinels that know each other")

    def stop(self) -> None:
        for node in (*self.sentinels, self.replica, self.master):
            node.stop()

    def _replica_in_sync(self) -> bool:
        return self.replica.client().info("replication").get("master_link_status") == "up"

    def _sentinels_see_everyone(self) -> bool:
        for sentinel in self.sentinels:
            state = sentinel.client().sentinel_master(MASTER_NAME)
            if state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                return False
        return True

    def master_port(self) -> int:
        """The master's port as every sentinel names it (0 while they disagree)."""
        ports = {int(s.client().sentinel_get_master_addr_by_name(MASTER_NAME)[1]) for s in self.sentinels}
        return ports.pop() if len(ports) == 1 else 0

    @staticmethod
    def subscribers(node: RedisNode) -> int:
        """How many clients of this server, sentinels aside, are subscribed to something: the
        pub/sub connections of PortGuard's processes."""
        return sum(
            1
            for client in node.client().client_list()
            if (int(client["sub"]) or int(client["psub"])) and not client["name"].startswith("sentinel-")
        )

    def replica_promoted(self) -> bool:
        """The sentinels name the replica as master, and it takes writes."""
        if self.master_port() != self.replica.port:
            return False
        return self.replica.client().info("replication")["role"] == "master"


DATABASE_NAME = "portguard"


def postgres_binary(name: str) -> str:
    """Debian keeps the server's programs (initdb, pg_ctl, pg_basebackup) off the PATH, in
    /usr/lib/postgresql/<version>/bin: the newest installed, else whatever the PATH has."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name), reverse=True)
    for directory in versions:
        if (directory / name).exists():
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: the PostgreSQL failover test needs the server's programs")
    return found


class PostgresPair:
    """A PostgreSQL primary and a hot standby streaming from it, in a folder of the test's
    own. Commits are synchronous: the primary answers a COMMIT once the standby has the
    transaction on disk, so a write the primary acknowledged survives the primary's loss.
    The servers run as the ``postgres`` user when the tests run as root (initdb refuses root)."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="portguard-failover-"))
        self.primary_port, self.standby_port = free_port(), free_port()
        self.primary_dir, self.standby_dir = self.directory / "primary", self.directory / "standby"
        self.running: list[Path] = []

    @property
    def database_url(self) -> str:
        """Both servers, as PortGuard is given them: libpq connects to whichever takes writes."""
        return (
            f"postgres://postgres@/{DATABASE_NAME}?host=127.0.0.1,127.0.0.1"
            f"&port={self.primary_port},{self.standby_port}&target_session_attrs=read-write&connect_timeout=3"
        )

    def url_of(self, port: int, database: str = DATABASE_NAME) -> str:
        """One server alone."""
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_postgres, *command], capture_output=True, text=True, cwd=self.directory)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")

    def _configure(self, data: Path, *lines: str) -> None:
        with open(data / "postgresql.auto.conf", "a") as conf:
            conf.write("\n".join(lines) + "\n")

    def _pg_ctl(self, data: Path, *args: str) -> None:
        self._run(postgres_binary("pg_ctl"), "-D", str(data), "-w", "-t", "60", *args)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run(postgres_binary("initdb"), "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "--no-sync")
        common = (
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.directory}'",
            "fsync = off",  # the promise under test is the standby's copy, not this disk's
            "full_page_writes = off",
        )
        self._configure(
            self.primary_dir,
            *common,
            f"port = {self.primary_port}",
            "wal_level = replica",
            "synchronous_standby_names = 'standby'",
            "synchronous_commit = on",
        )
        self._pg_ctl(self.primary_dir, "-l", str(self.directory / "primary.log"), "start")
        self.running.append(self.primary_dir)
        self._run(
            postgres_binary("pg_basebackup"),
            "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.standby_dir), "-X", "stream", "--no-sync",
        )  # fmt: skip
        (self.standby_dir / "standby.signal").touch()
        if os.geteuid() == 0:
            shutil.chown(self.standby_dir / "standby.signal", "postgres")
        self._configure(
            self.standby_dir,
            f"port = {self.standby_port}",
            "hot_standby = on",
            # Once promoted it has no standby of its own: waiting for one would hold every commit.
            "synchronous_standby_names = ''",
            f"primary_conninfo = 'host=127.0.0.1 port={self.primary_port} user=postgres application_name=standby'",
        )
        self._pg_ctl(self.standby_dir, "-l", str(self.directory / "standby.log"), "start")
        self.running.append(self.standby_dir)
        wait_until(self._standby_synchronous, what="the standby's synchronous streaming")
        with psycopg.connect(self.url_of(self.primary_port, "postgres"), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {DATABASE_NAME}")

    def _standby_synchronous(self) -> bool:
        with psycopg.connect(self.url_of(self.primary_port, "postgres")) as db:
            rows = db.execute("SELECT state, sync_state FROM pg_stat_replication").fetchall()
        return rows == [("streaming", "sync")]

    def stop_primary(self) -> None:
        """``pg_ctl stop -m immediate``: the primary quits at once, as on a crash."""
        self._pg_ctl(self.primary_dir, "-m", "immediate", "stop")
        self.running.remove(self.primary_dir)

    def promote_standby(self) -> None:
        self._pg_ctl(self.standby_dir, "promote")

    def stop(self) -> None:
        for data in reversed(self.running):
            self._pg_ctl(data, "-m", "immediate", "stop")
        self.running = []
        shutil.rmtree(self.directory, ignore_errors=True)
