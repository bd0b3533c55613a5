"""pymodbus TCP server and client, for the clinical network test.

    python3 modbus_peer.py server ADDR PORT
        a PLC (unit 1) with holding registers and device identification
    python3 modbus_peer.py client ADDR PORT
        reads holding registers and the basic and regular device identification; exits
        non-zero unless the identification came back
"""
import asyncio
import sys

import pymodbus
from pymodbus.pdu.device import ModbusDeviceIdentification

IDENTITY = {
    "VendorName": "Ward E2E Automation",
    "ProductCode": "WPLC-220",
    "MajorMinorRevision": "3.4.1",
    "VendorUrl": "http://plc.example.invalid",
    "ProductName": "Ward chiller PLC",
    "ModelName": "WPLC-220-HVAC",
}


def context():
    """Unit 1 with ten holding registers, in whichever datastore API this pymodbus has."""
    try:
        from pymodbus.simulator import DataType, SimData, SimDevice

        return SimDevice(id=1, simdata=[SimData(address=0, count=10, values=2150, datatype=DataType.REGISTERS)])
    except ImportError:
        pass
    from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext

    block = ModbusSequentialDataBlock(0, [2150] * 10)
    try:
        from pymodbus.datastore import ModbusDeviceContext

        return ModbusServerContext(devices={1: ModbusDeviceContext(hr=block)}, single=False)
    except ImportError:
        from pymodbus.datastore import ModbusSlaveContext

        return ModbusServerContext(slaves={1: ModbusSlaveContext(hr=block)}, single=False)


async def serve(addr, port):
    from pymodbus.server import StartAsyncTcpServer

    identity = ModbusDeviceIdentification(info_name=IDENTITY)
    print(f"pymodbus {pymodbus.__version__} listening on {addr}:{port}", flush=True)
    await StartAsyncTcpServer(context=context(), identity=identity, address=(addr, port))


def query(addr, port):
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient(addr, port=port, timeout=5)
    if not client.connect():
        sys.exit("cannot connect")
    unit = {"device_id": 1}
    regs = client.read_holding_registers(0, count=4, **unit)
    if regs.isError():
        sys.exit(f"registers: {regs}")
    print(f"registers {regs.registers}")
    seen = {}
    for code in (1, 2):
        info = client.read_device_information(read_code=code, object_id=0, **unit)
        if info.isError():
            sys.exit(f"device identification {code}: {info}")
        seen.update({k: v.decode() if isinstance(v, bytes) else v for k, v in info.information.items()})
    client.close()
    print(f"device identification {seen}")
    if seen.get(0) != IDENTITY["VendorName"] or seen.get(1) != IDENTITY["ProductCode"]:
        sys.exit("identification does not match")


def main():
    role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if role == "server":
        asyncio.run(serve(addr, port))
    elif role == "client":
        query(addr, port)
    else:
        sys.exit(f"unknown role {role}")


if __name__ == "__main__":
    main()
