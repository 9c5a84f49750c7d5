"""What an operator copies from ``deploy/``, checked the way the machines will use it:
nginx loads the site and carries pages, static files and dashboard sockets to a real
daphne; systemd accepts the units; the example environment passes ``check --deploy``."""

import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
import websockets.sync.client
from django.core.management import call_command

from tests.realtime.servers import BASE_DIR, Daphne, _port_open, free_port, running, wait_until

DEPLOY = BASE_DIR / "deploy"
SITE = DEPLOY / "nginx" / "portguard.conf"
UNITS = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "portguard.env.example"

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (make system-packages installs it)")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=portguard.example.vn", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_config(folder: Path, site: str) -> Path:
    """A main nginx.conf of the test's own (pid, logs and temporary files in ``folder``)
    that includes ``site`` in its http block, as Debian's does with sites-enabled."""
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    # Run as root (CI), nginx's workers would be `nobody`, who cannot read the test's files.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        user + f"pid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    access_log off;\n"
        + "".join(
            f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {folder}/site.conf;\n"
        "}\n"
    )
    return main


def site_with_certificate(folder: Path) -> str:
    cert, key = self_signed_certificate(folder)
    site = SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/portguard.example.vn/fullchain.pem", str(cert))
    return site.replace("/etc/letsencrypt/live/portguard.example.vn/privkey.pem", str(key))


@needs_nginx
def test_the_nginx_site_passes_nginx_t(tmp_path):
    main = nginx_config(tmp_path, site_with_certificate(tmp_path))

    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True)

    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


@needs_nginx
def test_nginx_carries_pages_static_files_and_dashboard_sockets_to_daphne(tmp_path, transactional_db, inspector):
    http_port, https_port = free_port(), free_port()
    static = tmp_path / "staticfiles"
    static.mkdir()
    (static / "hello.txt").write_text("tĩnh")
    site = site_with_certificate(tmp_path)
    # The site as shipped, on the test's own ports, in front of one real daphne.
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("/srv/portguard/staticfiles/", f"{static}/")
    token = issued_token(inspector)

    with running(Daphne(None)) as (daphne,):
        site = re.sub(
            r"(upstream portguard \{).*?(keepalive)",
            rf"\1\n    server 127.0.0.1:{daphne.port};\n    \2",
            site,
            flags=re.S,
        )
        main = nginx_config(tmp_path, site)
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: _port_open(https_port), what="nginx")
            https = f"https://127.0.0.1:{https_port}"
            insecure = ssl.create_default_context()
            insecure.check_hostname = False
            insecure.verify_mode = ssl.CERT_NONE

            # Plain HTTP is sent to HTTPS.
            with pytest.raises(urllib.error.HTTPError) as redirected:
                urllib.request.build_opener(NoRedirect).open(f"http://127.0.0.1:{http_port}/login/", timeout=10)
            assert redirected.value.code == 301
            assert redirected.value.headers["Location"] == "https://127.0.0.1/login/"

            with urllib.request.urlopen(f"{https}/login/", context=insecure, timeout=10) as page:
                assert page.status == 200
                assert "Đăng nhập" in page.read().decode()
            with urllib.request.urlopen(f"{https}/static/hello.txt", context=insecure, timeout=10) as file:
                assert file.read().decode() == "tĩnh"

            # A dashboard socket through nginx's upgrade: the wharf's snapshot arrives. As
            # long as daphne gives a handshake in production (--websocket_connect_timeout
            # 30): in a fresh clone's make test, with the other pass loading both cores, the
            # embedded pass once took longer than 10 s (passing in under 2 s alone).
            with websockets.sync.client.connect(
                f"wss://127.0.0.1:{https_port}/ws/wharves/CP-03/",
                ssl=insecure,
                additional_headers={"Authorization": f"Token {token}"},
                open_timeout=30,
            ) as socket:
                first = json.loads(socket.recv(timeout=30))
            assert first["type"] == "snapshot"
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def issued_token(user) -> str:
    """A token as an operator gets one: ``issue_token`` prints it alone on stdout."""
    out = StringIO()
    call_command("issue_token", user.username, stdout=out)
    return out.getvalue().strip()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_accepts_the_units_as_they_are_installed(tmp_path):
    (tmp_path / "etc").mkdir()
    env = tmp_path / "etc" / "portguard.env"
    env.write_text(ENV_EXAMPLE.read_text())
    for unit in UNITS.iterdir():
        text = (
            unit.read_text().replace("/srv/portguard", str(BASE_DIR)).replace("/etc/portguard/portguard.env", str(env))
        )
        # A template is verified as the instance the README enables.
        (tmp_path / unit.name.replace("@.", "@8001.")).write_text(text)
    units = sorted(str(path) for path in tmp_path.glob("portguard*"))

    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        env=dict(os.environ, SYSTEMD_UNIT_PATH=f"{tmp_path}:"),
    )

    assert verified.returncode == 0, verified.stderr
    assert len(units) == 3  # a daphne instance, the clock and the target


def example_environment() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_example_environment_passes_the_deployment_checks_once_its_key_is_set():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "SECRET_KEY")}
    env.update(example_environment())
    env["SECRET_KEY"] = secrets.token_urlsafe(50)  # the one value the example asks to replace

    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_every_variable_of_the_example_environment_is_documented():
    readme = (BASE_DIR / "README.md").read_text()
    named = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.M)

    assert "SECRET_KEY" in named and "DATABASE_URL" in named
    assert [name for name in named if f"`{name}`" not in readme] == []
