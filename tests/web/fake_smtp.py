"""Just enough SMTP for the outbox tests: accepts messages into `server.received`; answers RCPT
for the addresses in `server.refuse` ({address: b"550 ..."}) with that reply, and MAIL with
`server.refuse_sender` when set; advertises SMTPUTF8 only when `server.utf8`; answers QUIT with
`server.quit_reply`."""

import socketserver
import threading


class FakeSMTP(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 fake\r\n")
        data = None
        while line := self.rfile.readline():
            if data is not None:
                if line == b".\r\n":
                    self.server.received.append(b"".join(data).decode())
                    data = None
                    self.wfile.write(b"250 ok\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = []
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(self.server.quit_reply + b"\r\n")
                return
            elif verb == b"EHLO":
                self.wfile.write(b"250-fake\r\n250 SMTPUTF8\r\n" if self.server.utf8 else b"250 fake\r\n")
            elif verb == b"MAIL" and self.server.refuse_sender:
                self.wfile.write(self.server.refuse_sender + b"\r\n")
            elif verb == b"RCPT":
                to = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                self.wfile.write(self.server.refuse.get(to, b"250 ok") + b"\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


def start():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeSMTP)
    server.daemon_threads = True
    server.received, server.refuse, server.utf8, server.quit_reply = [], {}, False, b"221 bye"
    server.refuse_sender = None  # e.g. b"553 sender not allowed": MAIL FROM is refused
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server):
    server.shutdown()
    server.server_close()
