#!/usr/bin/env bash
# Builds a small hospital network out of network namespaces on one bridge, runs real
# software on it while tcpdump captures the bridge, and leaves the capture in OUT_DIR.
#
#   tests/e2e/identity-net.sh OUT_DIR
#
# Hosts (10.77.0.0/24):
#   switch  .2   lldpd announcing an access switch (a kernel bridge in its namespace, so LLDP's
#                bridge capability is real), with a switch maker's MAC prefix
#   gw      .1   dnsmasq (DHCP), openssl s_server (TLS 1.2, certificate for pump-gw.biomed.local),
#                snmpd (communities public and a site one), an FTP server (pyftpdlib)
#   pump    .11  dhclient (vendor class, host name), lldpd (LLDP-MED inventory and CDP)
#   monitor .12  busybox udhcpc (vendor class, host name), python-zeroconf (mDNS service with
#                model TXT keys), an SSDP announcer and responder
#   ws      .13  curl over TLS (SNI), snmpget, FTP logins (one default, one site password,
#                one refused), an SSDP search
# Needs root, iproute2, tcpdump, dnsmasq, dhclient, busybox, lldpd, snmpd/snmpget, curl,
# openssl, python3 with zeroconf and pyftpdlib. Leaves nothing behind (a trap removes the
# namespaces and stops every process).
set -euo pipefail
out=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tag=w$$
sw=${tag}sw
hosts=(gw switch pump monitor ws)
declare -A addr=([gw]=10.77.0.1 [switch]=10.77.0.2 [pump]=10.77.0.11 [monitor]=10.77.0.12 [ws]=10.77.0.13)
declare -A mac=([gw]=02:77:00:00:00:01 [switch]=00:1b:54:77:00:02 [pump]=00:09:fb:77:00:11 [monitor]=00:09:fb:77:00:12 [ws]=02:77:00:00:00:13)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for h in "${hosts[@]}"; do ip netns del "$tag-$h" 2>/dev/null || true; done
  ip netns del "$sw" 2>/dev/null || true
}
trap cleanup EXIT

on() { local h=$1; shift; ip netns exec "$tag-$h" "$@"; }
bg() { local h=$1; shift; ip netns exec "$tag-$h" "$@" >>"$out/$h.log" 2>&1 & pids+=($!); }

# The switch: a bridge in its own namespace, one veth per host.
ip netns add "$sw"
# LLDP's group address (01:80:c2:00:00:0e) is link-local: a bridge keeps it unless told to
# forward it, as a capture port on a switch would see it.
ip -n "$sw" link add br0 type bridge group_fwd_mask 0x4000
ip -n "$sw" link set br0 up
for h in "${hosts[@]}"; do
  ip netns add "$tag-$h"
  ip link add eth0 netns "$tag-$h" address "${mac[$h]}" type veth peer name "p-$h" netns "$sw"
  ip -n "$sw" link set "p-$h" master br0 up
  ip -n "$tag-$h" link set lo up
  ip -n "$tag-$h" link set eth0 up
  ip -n "$tag-$h" addr add "${addr[$h]}/24" dev eth0
  ip -n "$tag-$h" route add default dev eth0
done

ip netns exec "$sw" tcpdump -i br0 -U -w "$out/capture.pcap" >"$out/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 50); do grep -q "listening" "$out/tcpdump.log" 2>/dev/null && break; sleep 0.1; done

# Servers.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/O=Ward E2E/CN=pump-gw.biomed.local" -keyout "$out/tls.key" -out "$out/tls.pem" 2>/dev/null
cat >"$out/snmpd.conf" <<CONF
agentaddress udp:${addr[gw]}:161
rocommunity public default
rocommunity s3cr3t-comm default
sysDescr Ward E2E infusion gateway, firmware 4.2.1
sysName pump-gw-1
sysLocation ICU 3
sysObjectID .1.3.6.1.4.1.8072.3.2.10
CONF
bg gw dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --interface=eth0 --bind-interfaces \
  --dhcp-range=10.77.0.100,10.77.0.150,1h --dhcp-leasefile="$out/dnsmasq.leases" --pid-file="$out/dnsmasq.pid"
bg gw openssl s_server -accept 4433 -cert "$out/tls.pem" -key "$out/tls.key" -tls1_2 -www -quiet
bg gw snmpd -f -Lo -C -c "$out/snmpd.conf" -p "$out/snmpd.pid"
bg gw python3 "$here/ftp_server.py" "${addr[gw]}" "$out/ftp-root"

# The pump: lldpd with its inventory, sending LLDP-MED (-l: even though CDP is forced) and
# CDPv1 (-cc: with no CDP neighbour) every second.
cat >"$out/lldpd.conf" <<CONF
configure system hostname alaris-pc-17
configure system description "Alaris PC unit 8015, BD"
configure lldp tx-interval 1
configure inventory hardware-revision HW-3.1
configure inventory firmware-revision FW-9.33.1
configure inventory software-revision SW-9.33
configure inventory serial-number SN-4711-0815
configure inventory manufacturer BD
configure inventory model "Alaris PC 8015"
CONF
bg pump lldpd -d -l -cc -M 1 -I eth0 -u "$out/lldpd.sock" -O "$out/lldpd.conf"
# The access switch: lldpd may only announce capabilities the kernel has, so the namespace
# gets a bridge of its own.
ip -n "$tag-switch" link add brx type bridge
ip -n "$tag-switch" link set brx up
cat >"$out/lldpd-switch.conf" <<CONF
configure system hostname sw-icu3-01
configure system description "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.3"
configure system capabilities enabled bridge
configure lldp tx-interval 1
CONF
bg switch lldpd -d -I eth0 -u "$out/lldpd-switch.sock" -O "$out/lldpd-switch.conf"
bg monitor python3 "$here/announce.py" mdns-ssdp "${addr[monitor]}"
sleep 1

# Clients.
cat >"$out/dhclient.conf" <<CONF
send vendor-class-identifier "BD.Alaris.PC.8015";
send host-name "alaris-pc-17";
CONF
on pump timeout 20 dhclient -1 -v -sf /bin/true -cf "$out/dhclient.conf" -lf "$out/dhclient.leases" \
  -pf "$out/dhclient.pid" eth0 >>"$out/pump.log" 2>&1 || echo "dhclient got no lease" >>"$out/pump.log"
on monitor timeout 20 busybox udhcpc -i eth0 -n -q -f -s /bin/true -V "Philips IntelliVue MX450" \
  -x hostname:intellivue-mx450-7 >>"$out/monitor.log" 2>&1 || echo "udhcpc got no lease" >>"$out/monitor.log"
on ws curl -sk --tls-max 1.2 --resolve pump-gw.biomed.local:4433:${addr[gw]} \
  https://pump-gw.biomed.local:4433/ -o /dev/null >>"$out/ws.log" 2>&1 || echo "curl failed" >>"$out/ws.log"
on ws snmpget -v2c -c public -On -m '' ${addr[gw]} .1.3.6.1.2.1.1.1.0 .1.3.6.1.2.1.1.2.0 .1.3.6.1.2.1.1.5.0 .1.3.6.1.2.1.1.6.0 >>"$out/ws.log" 2>&1 || true
on ws snmpget -v2c -c s3cr3t-comm -On -m '' ${addr[gw]} .1.3.6.1.2.1.1.5.0 >>"$out/ws.log" 2>&1 || true
on ws curl -s --max-time 5 "ftp://admin:admin@${addr[gw]}/" -o /dev/null >>"$out/ws.log" 2>&1 || true
on ws curl -s --max-time 5 "ftp://biomed:Pump%24ecret-77@${addr[gw]}/" -o /dev/null >>"$out/ws.log" 2>&1 || true
on ws curl -s --max-time 5 "ftp://service:wrong-guess@${addr[gw]}/" -o /dev/null >>"$out/ws.log" 2>&1 || true
on ws python3 "$here/announce.py" search "${addr[ws]}" >>"$out/ws.log" 2>&1 || true
sleep 3

kill -INT "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
echo "capture: $out/capture.pcap"
