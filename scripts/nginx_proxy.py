"""nginx from ops/nginx in front of a web on this machine, on a free loopback port.

The tests and ``scripts.slow_clients`` put the web behind nginx with this, using the
same configuration as docker-compose.yml, rendered here instead of by the image.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from scripts.processes import ROOT, Process, free_port

TEMPLATE = ROOT / "ops" / "nginx" / "sev.conf.template"
CLIENT_TIMEOUT = "10s"
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")


def nginx_binary() -> str | None:
    """The nginx on PATH (or in /usr/sbin, often not on a user's PATH), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``${NGINX_...}`` placeholder replaced by its value, as
    the nginx image's entrypoint does; raises KeyError naming a placeholder without one."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


class NginxProxy:
    """nginx listening on 127.0.0.1:``port`` and passing requests to the web at
    127.0.0.1:``upstream_port``, its log in ``log_dir``/nginx.log."""

    def __init__(self, upstream_port: int, log_dir, client_timeout: str = CLIENT_TIMEOUT):
        self.upstream_port = upstream_port
        self.log_dir = Path(log_dir)
        self.client_timeout = client_timeout
        self.port = free_port()
        self.run_dir: Path | None = None
        self.process: Process | None = None

    @property
    def url(self) -> str:
        """The base URL clients use instead of the web's."""
        return f"http://127.0.0.1:{self.port}"

    def configuration(self, run_dir: Path) -> str:
        """The rendered configuration for this proxy."""
        return render(
            TEMPLATE.read_text(),
            {
                "NGINX_LISTEN": f"127.0.0.1:{self.port}",
                "NGINX_UPSTREAM": f"127.0.0.1:{self.upstream_port}",
                "NGINX_RUN_DIR": str(run_dir),
                "NGINX_CLIENT_TIMEOUT": self.client_timeout,
            },
        )

    def start(self) -> NginxProxy:
        """Write the configuration to a fresh directory and start nginx; returns once
        it accepts connections. Raises RuntimeError when nginx is not installed or
        exits (its log says why)."""
        binary = nginx_binary()
        if not binary:
            raise RuntimeError("nginx is not installed (Debian package nginx)")
        self.run_dir = Path(tempfile.mkdtemp(prefix="sev-nginx-"))
        # Run as root, nginx's workers are "nobody" and must reach the temporary paths.
        self.run_dir.chmod(0o755)
        config = self.run_dir / "nginx.conf"
        config.write_text(self.configuration(self.run_dir))
        args = [binary, "-e", "stderr", "-p", str(self.run_dir), "-c", str(config)]
        self.process = Process("nginx", args, dict(os.environ), self.log_dir, self.port).start()
        return self

    def log(self) -> str:
        """What nginx wrote to stderr so far."""
        return self.process.log() if self.process else ""

    def stop(self) -> None:
        """Stop nginx (SIGTERM: a fast shutdown) and remove its directory."""
        if self.process:
            self.process.stop()
        if self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
