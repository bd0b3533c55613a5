"""Servers and clients for the firewall test (tests/e2e/policy-net.sh): plain sockets and
python-hl7's MLLP, each client with a short timeout so that a dropped conversation ends fast.

    python3 peers.py serve ADDR TCP_PORTS UDP_PORTS MLLP_PORT
        TCP echo on each of TCP_PORTS (comma-separated), UDP echo on each of UDP_PORTS, and an
        MLLP listener (python-hl7) answering each message with an ACK (AA) on MLLP_PORT (0: none)
    python3 peers.py tcp ADDR PORT      connect, send a line, expect it back
    python3 peers.py udp ADDR PORT      send a datagram, expect it back
    python3 peers.py hl7 ADDR PORT      an ORU^R01 over MLLP, expect ACK AA
    python3 peers.py ping ADDR          an ICMP echo request (raw socket: root), expect the reply

A client prints what happened and exits 0 when the exchange completed, 1 when it did not
(timeout, refused, wrong answer). The messages carry no patient data.
"""
import asyncio
import os
import socket
import struct
import sys
import time

TIMEOUT = 1.5


async def serve(addr, tcp_ports, udp_ports, mllp_port):
    loop = asyncio.get_running_loop()

    async def echo(reader, writer):
        try:
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    class Udp(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, peer):
            self.transport.sendto(data, peer)

    servers = []
    for p in tcp_ports:
        servers.append(await asyncio.start_server(echo, host=addr, port=p))
    for p in udp_ports:
        await loop.create_datagram_endpoint(Udp, local_addr=(addr, p))
    if mllp_port:
        from hl7.mllp import start_hl7_server

        async def handle(reader, writer):
            try:
                while not writer.is_closing():
                    message = await reader.readmessage()
                    print(f"received {message.segment('MSH')[9]} {message.segment('MSH')[10]}", flush=True)
                    writer.writemessage(message.create_ack(ack_code="AA", application="WARDENGINE",
                                                           facility="WARDHOSP"))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        servers.append(await start_hl7_server(handle, host=addr, port=mllp_port))
    print(f"listening on {addr}: tcp {tcp_ports} udp {udp_ports} mllp {mllp_port}", flush=True)
    await asyncio.Event().wait()


def tcp(addr, port):
    with socket.create_connection((addr, port), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(b"ward firewall test\n")
        got = s.recv(64)
    if got != b"ward firewall test\n":
        sys.exit(f"tcp {addr}:{port}: answered {got!r}")
    print(f"tcp {addr}:{port}: echoed")


def udp(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(b"ward firewall test", (addr, port))
        got, peer = s.recvfrom(64)
    if got != b"ward firewall test":
        sys.exit(f"udp {addr}:{port}: answered {got!r} from {peer}")
    print(f"udp {addr}:{port}: echoed")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(addr):
    ident = os.getpid() & 0xFFFF
    payload = b"ward firewall test"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.sendto(packet, (addr, 0))
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            data, peer = s.recvfrom(2048)
            icmp = data[(data[0] & 0x0F) * 4:]
            kind, _, _, got_ident, _ = struct.unpack("!BBHHH", icmp[:8])
            if peer[0] == addr and kind == 0 and got_ident == ident:
                print(f"ping {addr}: echo reply")
                return
    raise TimeoutError(f"no echo reply from {addr}")


async def hl7_send(addr, port):
    import hl7
    from hl7.mllp import open_hl7_connection

    text = "\r".join([
        "MSH|^~\\&|WARDMON|ICU3|WARDENGINE|WARDHOSP|20240611101500||ORU^R01^ORU_R01|WFW0001|P|2.6",
        "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    ])
    reader, writer = await asyncio.wait_for(open_hl7_connection(addr, port), TIMEOUT)
    writer.writemessage(hl7.parse(text))
    await writer.drain()
    ack = await asyncio.wait_for(reader.readmessage(), TIMEOUT)
    code = str(ack.segment("MSA")[1])
    writer.close()
    if code != "AA":
        sys.exit(f"hl7 {addr}:{port}: ACK {code}")
    print(f"hl7 {addr}:{port}: ACK {code}")


def main():
    role = sys.argv[1]
    try:
        if role == "serve":
            ports = lambda s: [int(p) for p in s.split(",") if p]  # noqa: E731
            asyncio.run(serve(sys.argv[2], ports(sys.argv[3]), ports(sys.argv[4]), int(sys.argv[5])))
        elif role == "tcp":
            tcp(sys.argv[2], int(sys.argv[3]))
        elif role == "udp":
            udp(sys.argv[2], int(sys.argv[3]))
        elif role == "ping":
            ping(sys.argv[2])
        elif role == "hl7":
            asyncio.run(hl7_send(sys.argv[2], int(sys.argv[3])))
        else:
            sys.exit(f"unknown role {role}")
    except (OSError, asyncio.TimeoutError) as e:
        print(f"{role} {' '.join(sys.argv[2:])}: {type(e).__name__} {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
