"""SMTP servers for appeal's tests, on 127.0.0.1 only.

  smtp_server.py --out DIR [--starttls | --smtps] [--auth USER:PASSWORD] [--tls-dir DIR]
      A real server (aiosmtpd). Saves each message as DIR/NNNN.eml with DIR/NNNN.json
      ({"mail_from", "rcpt_tos", "auth_user", "tls"}).
  smtp_server.py --out DIR --fault KIND [--fault-count N] [--delay SECONDS]
      Our own fault-injecting server (plain SMTP). KIND: 421-connect, 451-data, 452-data, 554-data,
      550-rcpt, 553-rcpt, drop-data, slow, none; 550-mail (our sender refused), 554-rcpt-relay (relay access
      denied, 5.7.1), 554-data-plain (554 without an enhanced code, after the message), stall-ehlo (greets,
      then never answers), stall-mail (answers EHLO, never MAIL). The fault hits the first N transactions
      (default: all), then the server behaves.
  --reject-rcpt TEXT: RCPT for an address containing TEXT gets 550 5.1.1 (any KIND, or none).

Prints "READY <port>" once it listens, then runs until stdin closes or it gets SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()
        os.makedirs(folder, exist_ok=True)

    def save(self, data, meta):
        with self.lock:
            self.count += 1
            name = os.path.join(self.folder, "%05d" % self.count)
        with open(name + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(name + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(name + ".eml.tmp", name + ".eml")


def tls_context(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def run_aiosmtpd(args, store):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            store.save(envelope.original_content or envelope.content, {
                "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "auth_user": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
                # Under implicit TLS (smtps) aiosmtpd leaves session.ssl unset: the whole connection is TLS.
                "tls": bool(args.smtps) or session.ssl is not None,
            })
            return "250 2.0.0 Message accepted for delivery"

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            # handled=False: aiosmtpd then answers 535 itself (handled=True would leave the client waiting).
            return AuthResult(success=True, auth_data=auth_data) if ok else AuthResult(success=False, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.starttls or args.smtps))
    if args.starttls:
        kwargs.update(tls_context=tls_context(args.tls_dir), require_starttls=True)
    if args.smtps:
        kwargs.update(ssl_context=tls_context(args.tls_dir))
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=False, **kwargs)
    controller.start()
    return port, controller.stop


class FaultServer:
    def __init__(self, args, store):
        self.args = args
        self.store = store
        self.transactions = 0

    def faulty(self):
        return self.args.fault_count < 0 or self.transactions < self.args.fault_count

    async def handle(self, reader, writer):
        fault = self.args.fault
        try:
            if fault == "421-connect" and self.faulty():
                self.transactions += 1
                writer.write(b"421 4.3.2 Service not available, closing channel\r\n")
                await writer.drain()
                return
            writer.write(b"220 127.0.0.1 fault server ready\r\n")
            await writer.drain()
            mail_from, rcpts = None, []
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                stall = {"stall-ehlo": (b"EHLO", b"HELO"), "stall-mail": (b"MAIL",)}.get(fault, ())
                if verb in stall and self.faulty():
                    self.transactions += 1
                    await reader.read()
                    return
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-127.0.0.1\r\n250 8BITMIME\r\n" if verb == b"EHLO" else b"250 127.0.0.1\r\n")
                elif verb == b"MAIL":
                    mail_from, rcpts = line[10:].strip().strip(b"<>").decode(), []
                    if fault == "550-mail" and self.faulty():
                        self.transactions += 1
                        writer.write(b"550 5.1.0 <" + mail_from.encode() + b">: Sender address rejected: User unknown in local recipient table\r\n")
                    else:
                        writer.write(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    address = line[8:].strip().strip(b"<>").decode()
                    if self.args.reject_rcpt and self.args.reject_rcpt in address:
                        writer.write(b"550 5.1.1 <" + address.encode() + b">: Recipient address rejected: User unknown in virtual mailbox table\r\n")
                    elif fault == "554-rcpt-relay" and self.faulty():
                        self.transactions += 1
                        writer.write(b"554 5.7.1 <" + address.encode() + b">: Relay access denied\r\n")
                    elif fault == "550-rcpt" and self.faulty():
                        self.transactions += 1
                        writer.write(b"550 5.1.1 <" + address.encode() + b">: Recipient address rejected: mailbox unavailable\r\n")
                    elif fault == "553-rcpt" and self.faulty():
                        self.transactions += 1
                        writer.write(b"553 5.1.3 <" + address.encode() + b">: bad destination mailbox address syntax\r\n")
                    else:
                        rcpts.append(address)
                        writer.write(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    if fault == "drop-data" and self.faulty():
                        self.transactions += 1
                        await reader.read(64)
                        writer.transport.abort()
                        return
                    data = await reader.readuntil(b"\r\n.\r\n")
                    faulty = self.faulty()
                    self.transactions += 1
                    if fault == "slow" and faulty:
                        await asyncio.sleep(self.args.delay)
                    codes = {"451-data": b"451 4.3.0 Temporary failure, try again later\r\n",
                             "452-data": b"452 4.3.1 Insufficient system storage\r\n",
                             "554-data": b"554 5.7.1 Message rejected\r\n",
                             "554-data-plain": b"554 Transaction failed\r\n"}
                    if fault in codes and faulty:
                        writer.write(codes[fault])
                    else:
                        body = data[:-5].replace(b"\r\n..", b"\r\n.") + b"\r\n"
                        self.store.save(body, {"mail_from": mail_from, "rcpt_tos": rcpts, "auth_user": None, "tls": False})
                        writer.write(b"250 2.0.0 Ok: queued\r\n")
                elif verb == b"RSET":
                    mail_from, rcpts = None, []
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif verb == b"NOOP":
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"502 5.5.2 Command not recognized\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


def run_fault(args, store):
    port = free_port()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(FaultServer(args, store).handle, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop():
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
    return port, stop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--smtps", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--tls-dir")
    parser.add_argument("--fault")
    parser.add_argument("--fault-count", type=int, default=-1)
    parser.add_argument("--delay", type=float, default=5)
    parser.add_argument("--reject-rcpt")
    args = parser.parse_args()
    args.tls_dir = args.tls_dir or args.out
    store = Store(args.out)
    if args.reject_rcpt and not args.fault:
        args.fault = "none"
    port, stop = run_fault(args, store) if args.fault else run_aiosmtpd(args, store)
    print("READY %d" % port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    stop()


if __name__ == "__main__":
    main()
