"""A reverse proxy for tests: each request goes to the next backend in turn, so that consecutive requests of
one browser land on different `appeal-cli serve` processes, as behind a load balancer without sticky sessions.

    round_robin_proxy.py PORT BACKEND_PORT...     # listens on 127.0.0.1:PORT, forwards to 127.0.0.1:BACKEND_PORT

Forwards the method, path, headers (Host kept as the client sent it) and body; passes redirects and errors
through as they are. Prints "ready" when listening. Each response says which backend answered in
`X-Backend`.
"""
import http.client
import http.server
import itertools
import sys
import threading

port, backends = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
turns = itertools.cycle(backends)
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        with lock:
            backend = next(turns)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        connection = http.client.HTTPConnection("127.0.0.1", backend, timeout=30)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except OSError as error:
            self.send_error(502, f"backend {backend}: {error}")
            return
        finally:
            connection.close()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Backend", str(backend))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = forward

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy)
print("ready", flush=True)
server.serve_forever()
