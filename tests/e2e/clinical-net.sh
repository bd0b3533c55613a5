#!/usr/bin/env bash
# Builds a small clinical and building network out of network namespaces on one bridge, runs
# real DICOM, HL7, MQTT, Modbus and BACnet software on it while tcpdump captures the bridge,
# and leaves the capture in OUT_DIR.
#
#   tests/e2e/clinical-net.sh OUT_DIR     run the network; OUT_DIR/capture.pcap, one log per host,
#                                         OUT_DIR/versions.txt (the peers' versions, key=value)
#   tests/e2e/clinical-net.sh --check     print what is missing (nothing when all is there)
#
# Hosts (10.78.0.0/24, MAC 02:78:00:00:00:<last octet>):
#   pacs    .10  DCMTK storescp (AE PACS01, port 104) and DCMTK wlmscpfs (Modality Worklist,
#                AE PACS01, port 105)
#   ct      .11  DCMTK echoscu, storescu of a CT image and findscu (worklist query), AE CT01
#   us      .12  a pynetdicom SCU (AE US01): C-ECHO and C-STORE of an ultrasound image
#   emr     .20  python-hl7 MLLP server (port 2575) answering ACKs as WARDEMR/WARDHOSP
#   his     .21  python-hl7 MLLP client: ADT^A01 and ORM^O01 from WARDHIS/WARDHOSP, v2.6
#   monitor .22  python-hl7 MLLP client: IHE PCD-01 ORU^R01 from WARDMONGW/ICU3, v2.6, MSH-21
#                profile and OBX-18 equipment ids (EUI-64 0009FB7800000022)
#   broker  .30  mosquitto: port 1883 with a password file, port 1884 anonymous
#   pump    .31  mosquitto_pub with user biomed and a password (v3.1.1, client id
#                infusion-gw-17), and one refused attempt with a wrong password
#   vent    .32  mosquitto_pub anonymously (MQTT 5, client id vent-7)
#   dash    .33  mosquitto_sub anonymously (client id ward-dashboard) on ward/#
#   plc     .40  pymodbus TCP server, unit 1, device identification (vendor, product code,
#                revision, model)
#   scada   .41  pymodbus client: read holding registers, read device identification
#   bms     .50  bacpypes3 device 1078 (vendor 999, model, firmware, application software)
#   bmsws   .51  bacpypes3 client (device 1051): Who-Is, then ReadProperty of those
#
# Every DICOM dataset and HL7 message carries the same synthetic patient: ZZWARDTEST^QUINCE,
# id WPID-5523917, born 19230417, so that the test can look for them in Ward's output.
#
# Versions this was written and run with (Debian 12, Python 3.11): DCMTK 3.6.7, mosquitto
# 2.0.11, tcpdump 4.99.3, pydicom 3.0.2, pynetdicom 3.0.4, hl7 (python-hl7) 0.4.5, pymodbus
# 3.16.1, bacpypes3 0.0.110. Installed with `apt-get install dcmtk mosquitto mosquitto-clients
# tcpdump ethtool` and `pip install pynetdicom hl7 pymodbus bacpypes3`.
#
# pynetdicom installs its own `storescp`, `echoscu`, `storescu` and `findscu` commands, which
# may come first on PATH; the DCMTK ones are found by what `--version` says.
#
# Needs root. Leaves nothing behind: a trap removes the namespaces, their /etc/netns files and
# stops every process. Each exchange is checked (exit codes, what the servers logged); the
# script fails, after the capture is complete, naming every exchange that did not happen.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$here/clinical

# A DCMTK tool: the first one in /usr/bin, /usr/local/bin or on PATH whose --version says DCMTK.
dcmtk() {
  local d
  for d in /usr/bin /usr/local/bin $(tr : ' ' <<<"$PATH"); do
    if [ -x "$d/$1" ] && "$d/$1" --version 2>/dev/null | grep '\$dcmtk' >/dev/null; then echo "$d/$1"; return 0; fi
  done
  return 1
}

check() {
  local t m
  for t in ip tcpdump ss mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd; do
    command -v "$t" >/dev/null || echo "$t"
  done
  for t in storescp storescu echoscu findscu wlmscpfs; do dcmtk "$t" >/dev/null || echo "DCMTK $t"; done
  python3 - <<'PY' 2>/dev/null || echo "python3"
import importlib.util
for m in ("pydicom", "pynetdicom", "hl7", "pymodbus", "bacpypes3"):
    if importlib.util.find_spec(m) is None:
        print(f"python3 module {m}")
PY
}
if [ "${1:-}" = --check ]; then check; exit 0; fi

out=$(realpath "$1")
mkdir -p "$out"
missing=$(check)
if [ -n "$missing" ]; then echo "missing: $missing" >&2; exit 2; fi
storescp=$(dcmtk storescp) storescu=$(dcmtk storescu) echoscu=$(dcmtk echoscu) findscu=$(dcmtk findscu)
wlmscpfs=$(dcmtk wlmscpfs)

started=$(date +%s%N)
tag=c$$
sw=${tag}sw
hosts=(pacs ct us emr his monitor broker pump vent dash plc scada bms bmsws)
declare -A addr=([pacs]=10 [ct]=11 [us]=12 [emr]=20 [his]=21 [monitor]=22 [broker]=30 [pump]=31 [vent]=32
  [dash]=33 [plc]=40 [scada]=41 [bms]=50 [bmsws]=51)
for h in "${hosts[@]}"; do addr[$h]=10.78.0.${addr[$h]}; done
pids=()
failures=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for h in "${hosts[@]}"; do
    ip netns del "$tag-$h" 2>/dev/null || true
    rm -rf "/etc/netns/$tag-$h"
  done
  ip netns del "$sw" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on() { local h=$1; shift; ip netns exec "$tag-$h" "$@"; }
bg() { local h=$1; shift; ip netns exec "$tag-$h" "$@" >>"$out/$h.log" 2>&1 & pids+=($!); }
# Runs a client on host h, its output in h.log; records a failure when it exits non-zero.
run() {
  local h=$1 what=$2; shift 2
  echo "== $what" >>"$out/$h.log"
  on "$h" timeout 20 "$@" >>"$out/$h.log" 2>&1 || failures+=("$what (exit $?, see $h.log)")
}
fail_unless() { local what=$1; shift; "$@" >/dev/null 2>&1 || failures+=("$what"); }
# Waits until host h listens on TCP port p.
wait_tcp() {
  local h=$1 p=$2
  for _ in $(seq 100); do
    [ -n "$(on "$h" ss -Hltn "sport = :$p")" ] && return 0
    sleep 0.1
  done
  failures+=("$h never listened on tcp/$p")
}
wait_log() {
  local h=$1 text=$2
  for _ in $(seq 100); do grep -q -- "$text" "$out/$h.log" 2>/dev/null && return 0; sleep 0.1; done
  failures+=("$h never logged '$text'")
}

# The switch: a bridge in its own namespace, one veth per host. Offloads off, so that the
# capture holds the packets as they would cross a wire (MTU-sized, with checksums).
ip netns add "$sw"
# The bridge itself stays silent (no IPv6 of its own): only the hosts are on the capture.
ip netns exec "$sw" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for h in "${hosts[@]}"; do
  # Each host gets its own resolv.conf and hosts file (ip netns exec mounts /etc/netns/NAME/*
  # over /etc): reverse lookups answer at once instead of stalling DCMTK on the host's resolver.
  mkdir -p "/etc/netns/$tag-$h"
  echo "nameserver 127.0.0.1" >"/etc/netns/$tag-$h/resolv.conf"
  { echo "127.0.0.1 localhost"; for o in "${hosts[@]}"; do echo "${addr[$o]} $o"; done; } >"/etc/netns/$tag-$h/hosts"
  last=${addr[$h]##*.}
  ip netns add "$tag-$h"
  ip link add eth0 netns "$tag-$h" address "02:78:00:00:00:$last" type veth peer name "p-$h" netns "$sw"
  ip -n "$sw" link set "p-$h" master br0 up
  ip -n "$tag-$h" link set lo up
  ip -n "$tag-$h" link set eth0 up
  ip -n "$tag-$h" addr add "${addr[$h]}/24" dev eth0
  ip -n "$tag-$h" route add default dev eth0
  if command -v ethtool >/dev/null; then
    on "$h" ethtool -K eth0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$sw" ethtool -K "p-$h" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
  fi
done

ip netns exec "$sw" tcpdump -i br0 -U -w "$out/capture.pcap" >"$out/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 50); do grep -q "listening" "$out/tcpdump.log" 2>/dev/null && break; sleep 0.1; done

# What the peers are.
{
  echo "dcmtk=$("$storescp" --version | sed -n 's/.*storescp v\([0-9.]*\).*/\1/p' | head -1)"
  python3 -c 'from importlib.metadata import version as v
for m in ("pynetdicom", "pydicom", "pymodbus", "bacpypes3", "hl7"): print(f"{m}={v(m)}")'
  echo "mosquitto=$(mosquitto -h 2>&1 | sed -n 's/^mosquitto version \([0-9.]*\).*/\1/p')"
} >"$out/versions.txt"

# Data: the DICOM objects and the worklist, the broker's configuration.
python3 "$py/make_dicom.py" "$out"
mkdir -p "$out/pacs-store"
mosquitto_passwd -b -c "$out/mosquitto.passwd" biomed 'Mqtt$ecret-88' 2>/dev/null
cat >"$out/mosquitto.conf" <<CONF
user root
per_listener_settings true
persistence false
log_dest stdout
log_type all
listener 1883 ${addr[broker]}
allow_anonymous false
password_file $out/mosquitto.passwd
listener 1884 ${addr[broker]}
allow_anonymous true
CONF

# Servers.
bg pacs "$storescp" -v -aet PACS01 -od "$out/pacs-store" 104
bg pacs "$wlmscpfs" -v -dfp "$out/worklist" 105
bg emr python3 "$py/hl7_peer.py" server "${addr[emr]}" 2575 WARDEMR WARDHOSP
bg broker mosquitto -c "$out/mosquitto.conf"
bg plc python3 "$py/modbus_peer.py" server "${addr[plc]}" 502
bg bms python3 "$py/bacnet_peer.py" device "${addr[bms]}/24" 1078
wait_tcp pacs 104
wait_tcp pacs 105
wait_tcp emr 2575
wait_tcp broker 1883
wait_tcp broker 1884
wait_tcp plc 502
wait_log bms "device 1078"
bg dash mosquitto_sub -h "${addr[broker]}" -p 1884 -i ward-dashboard -t 'ward/#' -v -C 2 -W 30
# The broker's log is buffered: wait for the subscriber's connection instead.
for _ in $(seq 100); do [ -n "$(on dash ss -Htn state established "dport = :1884")" ] && break; sleep 0.1; done
sleep 0.3

# DICOM: the CT verifies the PACS, stores its image, asks for its worklist; the ultrasound
# cart (pynetdicom) verifies and stores.
run ct "echoscu CT01 -> PACS01" "$echoscu" -v -aet CT01 -aec PACS01 "${addr[pacs]}" 104
run ct "storescu CT01 -> PACS01" "$storescu" -v -aet CT01 -aec PACS01 "${addr[pacs]}" 104 "$out/ct.dcm"
mkdir -p "$out/findscu"
run ct "findscu CT01 -> PACS01 worklist" "$findscu" -v -W -X -od "$out/findscu" -aet CT01 -aec PACS01 \
  -k "(0010,0010)" -k "(0010,0020)" -k "(0010,0030)" -k "(0008,0050)" \
  -k "(0040,0100)[0].Modality=CT" -k "(0040,0100)[0].ScheduledStationAETitle=CT01" \
  -k "(0040,0100)[0].ScheduledProcedureStepStartDate" "${addr[pacs]}" 105
run us "pynetdicom US01 -> PACS01" python3 "$py/dicom_scu.py" "${addr[pacs]}" 104 US01 PACS01 "$out/us.dcm"

# HL7 over MLLP.
run his "HL7 ADT^A01 and ORM^O01" python3 "$py/hl7_peer.py" his "${addr[emr]}" 2575
run monitor "HL7 PCD-01 ORU^R01" python3 "$py/hl7_peer.py" monitor "${addr[emr]}" 2575

# MQTT: a login that works, one that is refused, an anonymous MQTT 5 client.
run pump "mosquitto_pub with a password" mosquitto_pub -h "${addr[broker]}" -p 1883 -u biomed -P 'Mqtt$ecret-88' \
  -i infusion-gw-17 -q 1 -t ward/icu3/pump17/status -m '{"state":"infusing","rate_ml_h":12.5}'
echo "== mosquitto_pub with a wrong password (refused)" >>"$out/pump.log"
if on pump timeout 10 mosquitto_pub -h "${addr[broker]}" -p 1883 -u biomed -P 'wrong-guess-88' \
  -i infusion-gw-17 -q 1 -t ward/icu3/pump17/status -m refused >>"$out/pump.log" 2>&1; then
  failures+=("the broker accepted a wrong password")
fi
run vent "mosquitto_pub anonymous MQTT 5" mosquitto_pub -h "${addr[broker]}" -p 1884 -V 5 -i vent-7 -q 0 \
  -t ward/icu3/vent7/alarm -m '{"alarm":"none"}'

# Modbus and BACnet.
run scada "pymodbus client" python3 "$py/modbus_peer.py" client "${addr[plc]}" 502
run bmsws "bacpypes3 Who-Is and ReadProperty" python3 "$py/bacnet_peer.py" client "${addr[bmsws]}/24" 1051 \
  "${addr[bms]}" 1078

# The servers' side of each exchange.
for _ in $(seq 50); do [ "$(grep -c '^ward/' "$out/dash.log" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
fail_unless "the subscriber did not get both messages" test "$(grep -c '^ward/' "$out/dash.log")" -ge 2
fail_unless "storescp did not store CT and US images" test "$(find "$out/pacs-store" -type f | wc -l)" -eq 2
fail_unless "findscu got no worklist item" test "$(find "$out/findscu" -type f | wc -l)" -ge 1
fail_unless "the HL7 server did not get three messages" test "$(grep -c '^received' "$out/emr.log")" -eq 3
fail_unless "the broker did not refuse the wrong password" grep -q "not authorised" "$out/pump.log"
fail_unless "the BACnet client did not read the model name" grep -q "model-name: WBC-3100" "$out/bmsws.log"
fail_unless "the Modbus client did not read the identification" grep -q "WPLC-220" "$out/scada.log"
sleep 1

kill -INT "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
echo "clinical network: $(( ($(date +%s%N) - started) / 1000000 )) ms"
echo "capture: $out/capture.pcap"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'exchange failed: %s\n' "${failures[@]}" >&2
  exit 1
fi
