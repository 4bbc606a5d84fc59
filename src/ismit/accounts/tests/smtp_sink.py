"""A test mail server, a process of its own: `python -m ismit.accounts.tests.smtp_sink PORT [BUSY]`.

It speaks enough SMTP for Django's SMTP backend (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps nothing,
and prints what happened, a line each, on standard output: READY, CONNECT, MESSAGE <recipients>, DROP, QUIT.
A recipient whose address contains "refused" is refused (550), as a real server refuses an unknown mailbox;
one whose address contains "busy" (or the second argument, "" for none) is refused for now (450), as a
full or locked mailbox is; at one whose address contains "drop" the server closes the connection (DROP).
"""

from __future__ import annotations

import socketserver
import sys

BUSY = sys.argv[2] if len(sys.argv) > 2 else "busy"


def say(line: str) -> None:
    print(line, flush=True)


class Session(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        say("CONNECT")
        self.reply("220 sink ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                if "refused" in command:
                    self.reply("550 no such mailbox")
                elif "drop" in command:
                    say("DROP")
                    return  # the connection closed without a word, as by a server that restarts
                elif BUSY and BUSY in command:
                    self.reply("450 mailbox busy, try again later")
                else:
                    recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass  # the message itself is not kept
                say("MESSAGE " + ",".join(recipients))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                say("QUIT")
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # started again on the port of a sink that stopped moments ago
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", int(sys.argv[1])), Session)
    say("READY")
    server.serve_forever()


if __name__ == "__main__":
    main()
