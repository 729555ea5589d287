"""The browser tests' own server: a browser that drops a request must not leave a file open."""

import gc
import socket
import struct
import time
from urllib.parse import urlsplit


def test_a_dropped_static_request_leaves_no_file_open(live):
    # Chromium drops favicon requests it no longer needs. Werkzeug's server then skipped closing
    # the static file, and the ResourceWarning came later, failing whichever test ran then.
    # (Warnings are errors here: a file left open would fail this test at the collection below.)
    address = urlsplit(live.url)
    for _ in range(20):
        client = socket.create_connection((address.hostname, address.port))
        client.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(12).startswith(b"HTTP/1.1 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # a reset, not a goodbye
    time.sleep(0.2)  # the server's threads finish their requests
    gc.collect()
