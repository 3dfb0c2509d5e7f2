"""gevent's StreamServer echo server, the same protocol as bench/io/echo-*.js.

Usage: /usr/bin/python3 bench/python/echo_gevent.py   -> prints "PORT <n>"
"""
import resource
import socket
import sys

from gevent.server import StreamServer

# 10,000 idle connections need more than the default 1024 descriptors.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def handle(sock, address):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        data = sock.recv(65536)
        if not data:
            break
        sock.sendall(data)


server = StreamServer(("127.0.0.1", 0), handle, backlog=4096)
server.start()
print("PORT %d" % server.server_port, flush=True)
sys.stdout.flush()
server.serve_forever()
