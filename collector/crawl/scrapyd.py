"""Scrapyd nodes: the HTTP API the scheduler uses, and a safe ``scrapyd.conf``.

Scrapyd (https://scrapyd.readthedocs.io) runs uploaded code: a node must listen on
127.0.0.1 or a private address only, with a username and password (``scrapyd_conf``
refuses anything else). The nodes are named by COLLECTOR_SCRAPYD_NODES (URLs separated by
commas or spaces); their credentials come from the environment, never from the repository:
COLLECTOR_SCRAPYD_USERNAME with COLLECTOR_SCRAPYD_PASSWORD or COLLECTOR_SCRAPYD_PASSWORD_FILE
(a file holding the password), or a URL's own ``user:password@`` part. See docs/scrapyd.md.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from ..core.errors import ScrapydError, ScrapydRefused

PROJECT = "collector"


@dataclass(frozen=True)
class Node:
    """One Scrapyd node: its base URL (no credentials in it) and its basic-auth credentials."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line

    def __str__(self) -> str:
        return self.url

    # --- the API -------------------------------------------------------------------------
    def get(self, endpoint: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        return self._call(f"{self.url}/{endpoint}" + (f"?{query}" if query else ""), None, {})

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode("utf-8")
        return self._call(f"{self.url}/{endpoint}", data, {"Content-Type": "application/x-www-form-urlencoded"})

    def upload_egg(self, egg_path: str, version: str, project: str = PROJECT) -> dict:
        """``addversion.json``: what ``scrapyd-deploy`` does with the egg it built."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (("project", project), ("version", version)):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        with open(egg_path, "rb") as f:
            egg = f.read()
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="{project}.egg"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + egg + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self._call(f"{self.url}/addversion.json", b"".join(parts),
                          {"Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout=120)

    def _call(self, url: str, data: bytes | None, headers: dict, timeout: float = 10.0) -> dict:
        request = urllib.request.Request(url, data=data, headers=headers)
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise ScrapydRefused(f"{self.url}: wrong username or password") from None
            raise ScrapydError(f"{self.url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ScrapydError(f"{self.url}: {getattr(exc, 'reason', exc)}") from None
        if answer.get("status") != "ok":
            raise ScrapydError(f"{url.split('?')[0]}: {answer.get('message', answer)}")
        return answer


def nodes_from(value: str, environ=os.environ) -> list[Node]:
    """The nodes of COLLECTOR_SCRAPYD_NODES, with the credentials the environment gives."""
    username = environ.get("COLLECTOR_SCRAPYD_USERNAME")
    password = environ.get("COLLECTOR_SCRAPYD_PASSWORD")
    password_file = environ.get("COLLECTOR_SCRAPYD_PASSWORD_FILE")
    if password is None and password_file:
        password = read_password(password_file)
    nodes = []
    for raw in value.replace(",", " ").split():
        parts = urllib.parse.urlsplit(raw if "://" in raw else f"http://{raw}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ScrapydError(f"COLLECTOR_SCRAPYD_NODES: {raw!r} is not an http(s) URL")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        user = urllib.parse.unquote(parts.username) if parts.username else username
        secret = urllib.parse.unquote(parts.password) if parts.password else password
        if url not in {n.url for n in nodes}:
            nodes.append(Node(url, user, secret))
    return nodes


def read_password(path: str) -> str:
    """The password a file holds (its first line's text, without the line break)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as exc:
        raise ScrapydError(f"{path}: cannot read the Scrapyd password: {exc.strerror}") from None


# --- scrapyd.conf ----------------------------------------------------------------------------

def private_address(host: str) -> bool:
    """127.0.0.1, ::1, 10/8, 172.16/12, 192.168/16, fc00::/7 (not 0.0.0.0: every interface)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return (address.is_loopback or address.is_private) and not address.is_unspecified


def scrapyd_conf(bind: str, port: int, username: str, password: str, root: str, max_proc: int = 0,
                 poll_interval: float = 1.0) -> str:
    """A ``scrapyd.conf`` for a crawl node: listening on ``bind`` (loopback or a private
    address only), basic auth on, eggs, logs and the job queue under ``root``. ``max_proc``
    0 means Scrapyd's default (4 crawls per CPU)."""
    if not private_address(bind):
        raise ScrapydError(f"--bind {bind}: Scrapyd runs uploaded code; bind it to 127.0.0.1 or a private address")
    if not username or not password:
        raise ScrapydError("Scrapyd runs uploaded code: a node needs a username and a password")
    if any(c in username + password for c in "\r\n:") or password != password.strip():
        raise ScrapydError("the Scrapyd username and password cannot contain ':', line breaks or surrounding spaces")
    root = os.path.abspath(root)
    lines = [
        "# Written by `collector scrapyd-conf`: keep it out of the repository (it holds a password).",
        "[scrapyd]",
        f"bind_address = {bind}",
        f"http_port = {int(port)}",
        f"username = {username}",
        f"password = {password}",
        f"max_proc = {int(max_proc)}",
        f"poll_interval = {poll_interval}",
        f"eggs_dir = {os.path.join(root, 'eggs')}",
        f"logs_dir = {os.path.join(root, 'logs')}",
        f"dbs_dir = {os.path.join(root, 'dbs')}",
        "items_dir =",
        "jobs_to_keep = 20",
        "finished_to_keep = 500",
        "",
    ]
    return "\n".join(lines)
