"""The patient monitor's announcements for the end-to-end test, and the workstation's search.

  announce.py mdns-ssdp ADDRESS   publish an mDNS service (python-zeroconf) with model TXT
                                  keys, send SSDP NOTIFYs and answer M-SEARCHes; until killed
  announce.py search ADDRESS      send an SSDP M-SEARCH and print the answers
"""
import socket
import struct
import sys
import threading
import time

GROUP = ("239.255.255.250", 1900)
SERVER = "Linux/5.10 UPnP/1.0 IntelliVue-MX450/M.03.01"
USN = "uuid:6a0c5e2e-77aa-4b1e-9c1d-00095b770012"
DEVICE = "urn:schemas-upnp-org:device:PatientMonitor:1"


def ssdp(address):
    location = f"http://{address}:49152/description.xml"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", 1900))
    mreq = struct.pack("4s4s", socket.inet_aton(GROUP[0]), socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    notify = (
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
        f"LOCATION: {location}\r\nNT: {DEVICE}\r\nNTS: ssdp:alive\r\nSERVER: {SERVER}\r\n"
        f"USN: {USN}::{DEVICE}\r\n\r\n"
    ).encode()

    def announce():
        while True:
            sock.sendto(notify, GROUP)
            time.sleep(1)

    threading.Thread(target=announce, daemon=True).start()
    while True:
        data, peer = sock.recvfrom(4096)
        if data.startswith(b"M-SEARCH"):
            answer = (
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                f"LOCATION: {location}\r\nSERVER: {SERVER}\r\nST: {DEVICE}\r\n"
                f"USN: {USN}::{DEVICE}\r\n\r\n"
            ).encode()
            sock.sendto(answer, peer)


def mdns(address):
    from zeroconf import ServiceInfo, Zeroconf

    zc = Zeroconf(interfaces=[address])
    info = ServiceInfo(
        "_http._tcp.local.",
        "IntelliVue MX450 bed 7._http._tcp.local.",
        addresses=[socket.inet_aton(address)],
        port=80,
        properties={"model": "MX450", "manufacturer": "Philips", "firmware": "M.03.01"},
        server="intellivue-mx450-7.local.",
    )
    zc.register_service(info)
    return zc


def search(address):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.bind((address, 0))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    sock.settimeout(2)
    query = (
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
        f"ST: {DEVICE}\r\nUSER-AGENT: WardE2E-Workstation/1.0 UPnP/1.1\r\n\r\n"
    ).encode()
    sock.sendto(query, GROUP)
    try:
        while True:
            data, peer = sock.recvfrom(4096)
            print(peer, data.split(b"\r\n")[0].decode())
    except socket.timeout:
        pass


if __name__ == "__main__":
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "search":
        search(address)
    else:
        zc = mdns(address)
        ssdp(address)
