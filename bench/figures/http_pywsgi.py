"""gevent's pywsgi "hello world" server, beside bench/io/http-*.js in bench/figures.js.

Usage: /usr/bin/python3 bench/figures/http_pywsgi.py   -> prints "PORT <n>"
"""
import socket

from gevent.pywsgi import WSGIServer

BODY = b"hello world"


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


class NoDelayServer(WSGIServer):
    # pywsgi writes the head and the body apart: with Nagle's algorithm each
    # keep-alive response then waits for the client's delayed ACK (~40 ms).
    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


server = NoDelayServer(("127.0.0.1", 0), app, log=None, backlog=4096)
server.start()
print("PORT %d" % server.server_port, flush=True)
server.serve_forever()
