#!/usr/bin/env bash
# Puts Ward's compiled firewall on a router between four segments made of network namespaces,
# and sends real traffic through it three times: with no ruleset, with the ruleset in monitor
# mode (while tcpdump captures the router's ports), and enforcing. It records what got through
# each time, the rules' counters and the kernel's log lines; tests/e2e_policy.rs judges them.
#
#   WARD=path/to/ward tests/e2e/policy-net.sh OUT_DIR
#   tests/e2e/policy-net.sh --check     print what is missing (nothing when all is there)
#
# The router (ip_forward=1) has one bridge per segment, each host its own veth on it:
#   clinical 10.10.0.0/24  clin1 .10, clin2 .11 (the engine's denylist names clin2)
#   imaging  10.20.0.0/24  img1 .10 (on the PACS's allowlist, TCP 8080 listener), img2 .11
#   servers  10.40.0.0/24  pacs .30 (DCMTK storescp AE PACS01 on 104; TCP echo on 23 and
#                          8080, UDP echo on 5514), engine .40 (python-hl7 MLLP on 2575, UDP
#                          echo on 5514)
#   guest    172.16.0.0/24 guest .10
# The policy is tests/e2e/policy/firewall.toml; the exchanges are listed below (EXCHANGES),
# each with a client that exits 0 only when the conversation completed.
#
# Output in OUT_DIR:
#   open.tsv monitor.tsv enforce.tsv   one line per exchange: name src dst proto port pass|fail
#   counters-monitor.json counters-enforce.json   `ward policy counters --json` in the router
#   apply-monitor.json apply-enforce.json         what `ward policy apply --json` said
#   capture-*.pcap    the monitor run, one file per router port, packets entering the router
#   kernel.log        the kernel's log lines of this run's router ("ward drop", "ward would drop")
#   kernel.txt        "readable" or why the kernel log could not be read
#   *.log             servers' and clients' output
#
# Needs root; leaves nothing behind (a trap deletes the namespaces and their /etc/netns files,
# stops every process, and puts net.netfilter.nf_log_all_netns back as it found it). Traffic
# only flows between the namespaces it makes. Takes about 15 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
peers=$here/policy/peers.py
policy=$here/policy/firewall.toml

dcmtk() {
  local d
  for d in /usr/bin /usr/local/bin $(tr : ' ' <<<"$PATH"); do
    if [ -x "$d/$1" ] && "$d/$1" --version 2>/dev/null | grep '\$dcmtk' >/dev/null; then echo "$d/$1"; return 0; fi
  done
  return 1
}

check() {
  local t
  for t in ip nft tcpdump ss dmesg; do command -v "$t" >/dev/null || echo "$t"; done
  for t in storescp echoscu; do dcmtk "$t" >/dev/null || echo "DCMTK $t"; done
  python3 -c 'import hl7.mllp' 2>/dev/null || echo "python3 module hl7"
}
if [ "${1:-}" = --check ]; then check; exit 0; fi

out=$(realpath "$1")
mkdir -p "$out"
missing=$(check)
if [ -n "$missing" ]; then echo "missing: $missing" >&2; exit 2; fi
ward=${WARD:-ward}
command -v "$ward" >/dev/null || { echo "no ward binary at $ward (set WARD)" >&2; exit 2; }
ward=$(command -v "$ward")
storescp=$(dcmtk storescp) echoscu=$(dcmtk echoscu)

started=$(date +%s%N)
# Names carry the process id: two runs at once do not meet, and the kernel's log lines of
# this run are told apart by the router's interface names (IN=<tag>...).
tag=w$$
rt=$tag-rt
hosts=(clin1 clin2 img1 img2 pacs engine guest)
declare -A addr=([clin1]=10.10.0.10 [clin2]=10.10.0.11 [img1]=10.20.0.10 [img2]=10.20.0.11
  [pacs]=10.40.0.30 [engine]=10.40.0.40 [guest]=172.16.0.10)
declare -A seg=([clin1]=clin [clin2]=clin [img1]=img [img2]=img [pacs]=srv [engine]=srv [guest]=gst)
declare -A gw=([clin]=10.10.0.1 [img]=10.20.0.1 [srv]=10.40.0.1 [gst]=172.16.0.1)
pids=()
nf_log_before=$(cat /proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null || echo "")

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for h in "${hosts[@]}"; do
    ip netns del "$tag-$h" 2>/dev/null || true
    rm -rf "/etc/netns/$tag-$h"
  done
  ip netns del "$rt" 2>/dev/null || true
  if [ -n "$nf_log_before" ]; then sysctl -qw net.netfilter.nf_log_all_netns="$nf_log_before" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on() { local h=$1; shift; ip netns exec "$tag-$h" "$@"; }
bg() { local h=$1; shift; ip netns exec "$tag-$h" "$@" >>"$out/$h.log" 2>&1 & pids+=($!); }
wait_tcp() {
  local h=$1 p=$2
  for _ in $(seq 100); do [ -n "$(on "$h" ss -Hltn "sport = :$p")" ] && return 0; sleep 0.1; done
  echo "$h never listened on tcp/$p" >&2; exit 1
}
wait_udp() {
  local h=$1 p=$2
  for _ in $(seq 100); do [ -n "$(on "$h" ss -Hlun "sport = :$p")" ] && return 0; sleep 0.1; done
  echo "$h never listened on udp/$p" >&2; exit 1
}

# The router. No IPv6 anywhere: the policy and the test speak IPv4, and the capture holds
# only the exchanges.
ip netns add "$rt"
ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$rt" link set lo up
for s in clin img srv gst; do
  ip -n "$rt" link add "$tag$s" type bridge
  ip -n "$rt" link set "$tag$s" up
  ip -n "$rt" addr add "${gw[$s]}/24" dev "$tag$s"
done
for h in "${hosts[@]}"; do
  # Each host its own resolv.conf and hosts file (ip netns exec mounts /etc/netns/NAME/* over
  # /etc), so that DCMTK's reverse lookups answer at once.
  mkdir -p "/etc/netns/$tag-$h"
  echo "nameserver 127.0.0.1" >"/etc/netns/$tag-$h/resolv.conf"
  { echo "127.0.0.1 localhost"; for o in "${hosts[@]}"; do echo "${addr[$o]} $o"; done; } >"/etc/netns/$tag-$h/hosts"
  ip netns add "$tag-$h"
  on "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add eth0 netns "$tag-$h" type veth peer name "$h" netns "$rt"
  ip -n "$rt" link set "$h" master "$tag${seg[$h]}" up
  ip -n "$tag-$h" link set lo up
  ip -n "$tag-$h" link set eth0 up
  ip -n "$tag-$h" addr add "${addr[$h]}/24" dev eth0
  ip -n "$tag-$h" route add default via "${gw[${seg[$h]}]}"
  # Offloads off: the capture holds packets as they would cross a wire.
  if command -v ethtool >/dev/null; then
    on "$h" ethtool -K eth0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$rt" ethtool -K "$h" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
  fi
done
# The kernel logs what nftables logs in a namespace only when this is set (in the initial
# namespace; put back on exit).
kernel_log="readable"
if ! sysctl -qw net.netfilter.nf_log_all_netns=1 2>/dev/null; then
  kernel_log="net.netfilter.nf_log_all_netns cannot be set here"
elif ! dmesg >/dev/null 2>&1; then
  kernel_log="dmesg cannot read the kernel log here"
fi
echo "$kernel_log" >"$out/kernel.txt"

# Servers.
mkdir -p "$out/pacs-store"
bg pacs "$storescp" -aet PACS01 -od "$out/pacs-store" 104
bg pacs python3 "$peers" serve "${addr[pacs]}" 23,8080 5514 0
bg engine python3 "$peers" serve "${addr[engine]}" "" 5514 2575
bg img1 python3 "$peers" serve "${addr[img1]}" 8080 "" 0
wait_tcp pacs 104
wait_tcp pacs 23
wait_tcp pacs 8080
wait_udp pacs 5514
wait_tcp engine 2575
wait_udp engine 5514
wait_tcp img1 8080

# The exchanges: name, client host, kind, destination host, port. What the policy says of
# each is tests/e2e_policy.rs's business; this script only records what happened.
EXCHANGES=(
  "hl7-clin1-engine clin1 hl7 engine 2575"
  "hl7-clin2-engine clin2 hl7 engine 2575"
  "hl7-guest-engine guest hl7 engine 2575"
  "dicom-img1-pacs img1 dicom pacs 104"
  "dicom-img2-pacs img2 dicom pacs 104"
  "tcp-img1-pacs img1 tcp pacs 8080"
  "telnet-clin1-pacs clin1 tcp pacs 23"
  "tcp-clin1-img1 clin1 tcp img1 8080"
  "udp-clin1-pacs clin1 udp pacs 5514"
  "udp-img1-pacs img1 udp pacs 5514"
  "udp-clin2-engine clin2 udp engine 5514"
  "ping-clin1-engine clin1 ping engine 0"
  "ping-guest-engine guest ping engine 0"
)

# Runs every exchange at once (a dropped one waits for its timeout, about 2 s), and writes
# PHASE.tsv.
exchanges() {
  local phase=$1 line name h kind d port proto
  local -a run=()
  for line in "${EXCHANGES[@]}"; do
    read -r name h kind d port <<<"$line"
    (
      {
        echo "== $phase $name"
        case $kind in
          hl7) on "$h" timeout 10 python3 "$peers" hl7 "${addr[$d]}" "$port" ;;
          tcp) on "$h" timeout 10 python3 "$peers" tcp "${addr[$d]}" "$port" ;;
          udp) on "$h" timeout 10 python3 "$peers" udp "${addr[$d]}" "$port" ;;
          dicom) on "$h" timeout 10 "$echoscu" -to 2 -aet "${h^^}" -aec PACS01 "${addr[$d]}" "$port" ;;
          ping) on "$h" timeout 10 python3 "$peers" ping "${addr[$d]}" ;;
        esac
      } >"$out/$phase-$name.log" 2>&1
    ) &
    run+=("$!:$name")
  done
  : >"$out/$phase.tsv"
  for r in "${run[@]}"; do
    local pid=${r%%:*} n=${r#*:} result=pass
    wait "$pid" || result=fail
    for line in "${EXCHANGES[@]}"; do
      read -r name h kind d port <<<"$line"
      [ "$name" = "$n" ] || continue
      case $kind in hl7|tcp|dicom) proto=tcp ;; udp) proto=udp ;; ping) proto=icmp ;; esac
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${addr[$h]}" "${addr[$d]}" "$proto" "$port" "$result" >>"$out/$phase.tsv"
    done
  done
}

ward_rt() { ip netns exec "$rt" "$ward" "$@"; }
# No inventory: the policy names its devices by address.
db=$out/no-inventory.db

# 1. No ruleset: the network itself carries every exchange.
exchanges open

# 2. Monitor mode, while tcpdump captures every router port (packets as they enter the router,
#    so that each is in the capture once).
ward_rt policy apply --policy "$policy" --db "$db" --state-dir "$out/state" --monitor --json >"$out/apply-monitor.json"
# --immediate-mode: each packet reaches the file as it comes (libpcap otherwise hands them
# over in blocks, and a block not handed over when tcpdump stops is lost).
tcpdumps=()
for h in "${hosts[@]}"; do
  ip netns exec "$rt" tcpdump -i "$h" -Q in --immediate-mode -U -w "$out/capture-$h.pcap" >"$out/tcpdump-$h.log" 2>&1 &
  tcpdumps+=($!)
  pids+=($!)
done
for h in "${hosts[@]}"; do
  for _ in $(seq 50); do grep -q "listening" "$out/tcpdump-$h.log" 2>/dev/null && break; sleep 0.1; done
done
exchanges monitor
# Without waiting, the last packets can still sit in the kernel's capture buffer when tcpdump
# stops, and are lost with it.
sleep 1
for p in "${tcpdumps[@]}"; do kill -INT "$p" 2>/dev/null || true; done
for p in "${tcpdumps[@]}"; do wait "$p" 2>/dev/null || true; done
ward_rt policy counters --json >"$out/counters-monitor.json"

# 3. Enforcing: the monitor table is replaced (and kept for rollback).
ward_rt policy apply --policy "$policy" --db "$db" --state-dir "$out/state" --json >"$out/apply-enforce.json"
exchanges enforce
ward_rt policy counters --json >"$out/counters-enforce.json"

# The kernel's log lines of this router: its bridges are named after the tag.
if [ "$kernel_log" = readable ]; then
  dmesg | grep -E "ward (would )?drop" | grep -E "IN=$tag" >"$out/kernel.log" || true
fi
: >>"$out/kernel.log"

echo "policy network: $(( ($(date +%s%N) - started) / 1000000 )) ms"
echo "open: $(grep -c pass "$out/open.tsv") of ${#EXCHANGES[@]} passed;" \
  "monitor: $(grep -c pass "$out/monitor.tsv");" \
  "enforce: $(grep -c pass "$out/enforce.tsv")"
