"""Real local servers standing in for the outside world: an SMTP server (aiosmtpd) and an
HTTP endpoint (SMS provider or webhook receiver) that honours Idempotency-Key."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class HttpEndpoint:
    """Answers `fail_with` for the next `failures` requests, then 200. A request whose
    Idempotency-Key was already delivered is answered 200 and not delivered again."""

    failures: int = 0
    fail_with: int = 503
    fail_body: bytes = b'{"error": "try later"}'
    fail_headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering each of the next accepted requests (delivered first,
    #: then answered late: a client timing out must not make it a second delivery).
    delays: list[float] = field(default_factory=list)
    #: Set to cut every pending delay short.
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[Request] = field(default_factory=list)
    delivered: dict[str, Request] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, request: Request) -> int:
        with self.lock:
            self.requests.append(request)
            if self.failures > 0:
                self.failures -= 1
                return self.fail_with
            key = request.headers.get("Idempotency-Key", "")
            self.delivered.setdefault(key, request)
            delay = self.delays.pop(0) if self.delays else 0
        if delay:
            self.release.wait(delay)
        return 200


def start_http(endpoint: HttpEndpoint):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = endpoint.handle(Request(self.path, dict(self.headers), body))
            try:
                self.send_response(status)
                for name, value in ({} if status == 200 else endpoint.fail_headers).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else endpoint.fail_body)
            except OSError:
                pass  # the client gave up (timed out or was killed) before the answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    return server


class Inbox:
    """aiosmtpd handler keeping every received email."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox
