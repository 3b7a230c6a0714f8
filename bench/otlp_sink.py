"""An OTLP/HTTP trace sink for the benchmarks (`traced` mode, bench/lib.sh): it takes every
POST to /v1/traces and answers 200 with an empty ExportTraceServiceResponse (zero bytes is a
valid empty protobuf message), as a collector does, so the gateway's exporter does all of its
work (batch, build, encode, post, read the answer). Prints its URL on the first line.

    python3 bench/otlp_sink.py     ->  "otlp sink listening on http://127.0.0.1:PORT"
"""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(f"otlp sink listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
