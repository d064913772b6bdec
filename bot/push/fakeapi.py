"""A local stand-in for the WeChat and WeCom API servers: speaks their JSON, records every call.

Used by the tests and the offline demo (`python -m bot fake-api`). Control endpoints:
GET /_calls (what was sent), POST /_reset, POST /_fail {"path", "errcode", "times"},
POST /_latency {"ms"}.

Also the WeCom robots: a group robot's `webhook/send?key=KEY` (20 messages a minute per key, as WeCom
allows, then errcode 45009) and the intelligent robot's one-time `aibot/response?response_code=CODE`.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SEND_PATHS = ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send",
              "/cgi-bin/message/send", "/cgi-bin/appchat/send", "/cgi-bin/message/mass/send")
WEBHOOK_PATH, AIBOT_RESPONSE_PATH = "/cgi-bin/webhook/send", "/cgi-bin/aibot/response"
ROBOT_PER_MINUTE = 20


class FakeState:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[dict] = []
        self.failures: list[dict] = []   # scripted errors, consumed in order per path
        self.latency_s = 0.0
        self.tokens_issued = 0
        self.robot_posts: dict[str, list[float]] = {}   # webhook key → times of its recent posts
        self.used_response_codes: set[str] = set()

    def next_failure(self, path: str) -> int | None:
        with self.lock:
            for failure in self.failures:
                if failure["path"] == path and failure["times"] > 0:
                    failure["times"] -= 1
                    return failure["errcode"]
        return None


class Handler(BaseHTTPRequestHandler):
    state: FakeState  # set on the subclass made by `serve`
    protocol_version = "HTTP/1.1"   # keep-alive, as the real API servers

    def log_message(self, *args):  # quiet: tests read /_calls instead
        pass

    def _json(self, payload: dict, status: int = 200) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_calls":
            with self.state.lock:
                return self._json({"calls": list(self.state.calls)})
        if url.path in ("/cgi-bin/token", "/cgi-bin/gettoken"):
            with self.state.lock:
                self.state.tokens_issued += 1
                token = f"FAKE-TOKEN-{self.state.tokens_issued}"
            self._record(url, {})
            return self._json({"errcode": 0, "access_token": token, "expires_in": 7200})
        self._json({"errcode": 404, "errmsg": "unknown path"}, 404)

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json({"errcode": 47001, "errmsg": "data format error"})
        if url.path.startswith("/_"):
            return self._control(url.path, body)
        if self.state.latency_s:
            time.sleep(self.state.latency_s)
        self._record(url, body)
        errcode = self.state.next_failure(url.path)
        if errcode is not None:
            return self._json({"errcode": errcode, "errmsg": f"scripted error {errcode}"})
        if url.path in SEND_PATHS:
            return self._json({"errcode": 0, "errmsg": "ok", "msgid": len(self.state.calls)})
        if url.path in (WEBHOOK_PATH, AIBOT_RESPONSE_PATH):
            return self._json(self._robot(url))
        self._json({"errcode": 0, "errmsg": "ok"})

    def _robot(self, url) -> dict:
        """A group robot's post (a key, at most 20 a minute) or a response_url's one answer."""
        query = parse_qs(url.query)
        with self.state.lock:
            if url.path == AIBOT_RESPONSE_PATH:
                code = (query.get("response_code") or [""])[0]
                if not code or code in self.state.used_response_codes:
                    return {"errcode": 40029, "errmsg": "invalid or used response_code"}
                self.state.used_response_codes.add(code)
                return {"errcode": 0, "errmsg": "ok"}
            key = (query.get("key") or [""])[0]
            if not key:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            now = time.time()
            recent = [t for t in self.state.robot_posts.get(key, []) if now - t < 60]
            if len(recent) >= ROBOT_PER_MINUTE:
                return {"errcode": 45009, "errmsg": "api freq out of limit"}
            self.state.robot_posts[key] = recent + [now]
            return {"errcode": 0, "errmsg": "ok"}

    def _record(self, url, body: dict) -> None:
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.calls.append({"path": url.path, "query": query, "body": body, "at": time.time()})

    def _control(self, path: str, body: dict):
        with self.state.lock:
            if path == "/_reset":
                self.state.calls.clear()
                self.state.failures.clear()
                self.state.latency_s = 0.0
                self.state.robot_posts.clear()
                self.state.used_response_codes.clear()
            elif path == "/_fail":
                self.state.failures.append({"path": body["path"], "errcode": int(body["errcode"]),
                                            "times": int(body.get("times", 1))})
            elif path == "/_latency":
                self.state.latency_s = float(body.get("ms", 0)) / 1000
            else:
                return self._json({"errcode": 404, "errmsg": "unknown control"}, 404)
        self._json({"errcode": 0})


def serve(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, FakeState]:
    """Start in a background thread; returns the server (see .server_address) and its state."""
    state = FakeState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server_class = type("FakeServer", (ThreadingHTTPServer,), {"request_queue_size": 256})
    server = server_class((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fake-wechat-api", daemon=True).start()
    return server, state
