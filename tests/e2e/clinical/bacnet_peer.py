"""bacpypes3 BACnet/IP device and client, for the clinical network test.

    python3 bacnet_peer.py device ADDR/PREFIX INSTANCE
        a building controller with vendor, model name, firmware and application software
    python3 bacnet_peer.py client ADDR/PREFIX INSTANCE TARGET_ADDR TARGET_INSTANCE
        Who-Is for the target, then ReadProperty of its identity; exits non-zero unless the
        I-Am and every property came back

Vendor identifier 999 is bacpypes3's own default (the only one it has vendor information for
without registering a vendor).
"""
import asyncio
import sys

import bacpypes3
from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

IDENTITY = {
    "vendorName": "Ward E2E Controls",
    "modelName": "WBC-3100 AHU controller",
    "firmwareRevision": "4.7.2",
    "applicationSoftwareVersion": "AHU-app 2.1.0",
}
PROPERTIES = ["vendor-name", "vendor-identifier", "model-name", "firmware-revision",
              "application-software-version", "object-name"]


def app(address, instance, name):
    args = SimpleArgumentParser().parse_args(
        ["--address", address, "--instance", str(instance), "--name", name, "--vendoridentifier", "999"])
    return Application.from_args(args)


async def device(address, instance):
    a = app(address, instance, "AHU-3 controller")
    for k, v in IDENTITY.items():
        setattr(a.device_object, k, v)
    print(f"bacpypes3 {bacpypes3.__version__} device {instance} on {address}", flush=True)
    await asyncio.Future()


async def client(address, instance, target, target_instance):
    a = app(address, instance, "BMS workstation")
    i_ams = await a.who_is(target_instance, target_instance, timeout=5)
    if not i_ams:
        sys.exit("no I-Am")
    print(f"I-Am from {i_ams[0].pduSource}: {i_ams[0].iAmDeviceIdentifier}", flush=True)
    objid = ObjectIdentifier(f"device,{target_instance}")
    for prop in PROPERTIES:
        value = await asyncio.wait_for(a.read_property(Address(target), objid, prop), 5)
        print(f"{prop}: {value}", flush=True)
    a.close()


def main():
    role = sys.argv[1]
    if role == "device":
        asyncio.run(device(sys.argv[2], int(sys.argv[3])))
    elif role == "client":
        asyncio.run(client(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
    else:
        sys.exit(f"unknown role {role}")


if __name__ == "__main__":
    main()
