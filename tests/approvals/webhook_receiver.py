"""A real HTTP server on a free loopback port standing in for a webhook receiver."""

import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: Message
    body: bytes


class WebhookReceiver:
    """Records every POST and answers as told: set ``status`` (200, 500, 302 with
    ``location``) and ``delay`` (seconds to wait before answering, to provoke a
    client timeout)."""

    def __init__(self):
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self.location = ""
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, self.headers, body))
                    status, delay = receiver.status, receiver.delay
                    location = receiver.location
                if delay:
                    time.sleep(delay)
                answer = b"ok" if status < 300 else b"receiver says no"
                try:
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gatehouse"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
