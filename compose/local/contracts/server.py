#!/usr/bin/python3
"""Local contract server: stand-ins for the outside systems Convene talks to.

    python3 server.py --host 127.0.0.1 --port N [--state-dir DIR]

One HTTP server; each provider is a module (MODULES below) that claims path
prefixes. The server routes every request to the module with the longest
matching prefix, answers JSON, and logs one line per request to stderr with
tokens, keys and signatures masked. See README.md in this folder.

Server-wide admin endpoints:
    GET  /_admin/health   {"status": "ok", "modules": [...]}
    POST /_admin/reset    forget every robot, endpoint and message of every module
"""

import argparse
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import Context, Request, error, json_response  # noqa: E402

# Provider modules, in this folder. Add a new one here (see README.md).
MODULES = ["dingtalk_robot", "wecom_robot", "webhook_receiver", "wechatpay", "alipay", "stripe_api",
           "zoom", "tencent_meeting", "dingtalk_open"]

MAX_BODY = 4 * 1024 * 1024


class BodyError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# Where log lines go: stderr, unless a test puts something with write() here.
LOG_SINK = None


def log(line):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sink = LOG_SINK or sys.stderr
    sink.write(f"{stamp}Z contracts: {line}\n")
    sink.flush()


class App:
    def __init__(self, state_dir, module_names=MODULES):
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
        ctx = Context(state_dir)
        self.modules = []
        self.prefixes = []          # (prefix, module), longest first
        seen = {}
        for name in module_names:
            module = importlib.import_module(name).Module(ctx)
            self.modules.append(module)
            for prefix in module.prefixes:
                if prefix in seen:
                    raise SystemExit(f"contracts: prefix {prefix} claimed by both {seen[prefix]} and {module.name}")
                seen[prefix] = module.name
                self.prefixes.append((prefix, module))
        self.prefixes.sort(key=lambda p: len(p[0]), reverse=True)

    def module_for(self, path):
        for prefix, module in self.prefixes:
            if prefix.endswith("/"):
                if path.startswith(prefix):
                    return module
            elif path == prefix or path.startswith(prefix + "/"):
                return module
        return None

    def handle(self, req):
        if req.path == "/_admin/health":
            if req.method != "GET":
                return error(405, "method not allowed", allowed=["GET"])
            return json_response(200, {"status": "ok", "modules": [m.name for m in self.modules]})
        if req.path == "/_admin/reset":
            if req.method != "POST":
                return error(405, "method not allowed", allowed=["POST"])
            for m in self.modules:
                m.reset()
            return json_response(200, {"reset": [m.name for m in self.modules]})
        module = self.module_for(req.path)
        if module is None:
            return error(404, "no contract module serves this path")
        return module.handle(req)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "convene-contracts/1"

    def version_string(self):
        return self.server_version

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BodyError(400, "bad chunked encoding") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass            # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise BodyError(413, "body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise BodyError(400, "bad Content-Length") from None
        if n < 0:
            raise BodyError(400, "bad Content-Length")
        if n > MAX_BODY:
            raise BodyError(413, "body too large")
        return self.rfile.read(n)

    def _serve(self):
        started = time.monotonic()
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            body = self._read_body()
            req = Request(self.command, self.path, headers, body, self.client_address[0])
            try:
                resp = self.server.app.handle(req)
            except Exception:       # a bug in a module: say so, keep serving
                traceback.print_exc(file=sys.stderr)
                resp = error(500, "contract server error (see its log)")
        except BodyError as e:
            req = Request(self.command, self.path, headers, b"", self.client_address[0])
            resp = error(e.status, str(e))
            self.close_connection = True
        if resp.delay:
            time.sleep(resp.delay)
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if resp.status >= 200 and resp.status not in (204, 304):
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and resp.body and resp.status not in (204, 304):
            self.wfile.write(resp.body)
        ms = (time.monotonic() - started) * 1000
        note = f" {req.note}" if req.note else ""
        log(f'{req.client} "{req.method} {req.log_target()}" {resp.status}{note} {ms:.1f} ms')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    # http.server's own logging would print the raw request line (tokens and
    # all): ours is above; keep only its error messages, which carry no path.
    def log_request(self, code="-", size="-"):
        pass

    def log_message(self, format, *args):
        log(f"{self.client_address[0]} {format % args}")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128        # socketserver's default listen backlog of 5 resets bursts of connections

    def __init__(self, address, app):
        super().__init__(address, Handler)
        self.app = app

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log(f"{client_address[0]} connection lost: {exc.__class__.__name__}")
        else:
            super().handle_error(request, client_address)


def make_server(host, port, state_dir):
    """The server, bound (port 0 = any free one) but not yet serving."""
    return Server((host, port), App(state_dir))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Convene's local contract server (provider stand-ins)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", default=None,
                        help="where modules keep their state (JSON files); without it, in memory only: every "
                             "change rewrites a module's whole file, which a benchmark's thousands of orders cannot afford")
    args = parser.parse_args(argv)

    server = make_server(args.host, args.port, args.state_dir)

    def stop(signum, frame):
        # serve_forever() runs in this thread; shutdown() must come from another.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    log(f"listening on http://{host}:{port} (modules: {', '.join(m.name for m in server.app.modules)}; "
        + (f"state in {os.path.abspath(args.state_dir)})" if args.state_dir else "state in memory only)"))
    try:
        server.serve_forever()
    finally:
        server.server_close()
        log("stopped")


if __name__ == "__main__":
    main()
