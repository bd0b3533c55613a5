"""python-hl7's MLLP server and client, for the clinical network test.

    python3 hl7_peer.py server ADDR PORT APPLICATION FACILITY
        answers each message with an ACK (AA) from APPLICATION/FACILITY; logs its type
    python3 hl7_peer.py his ADDR PORT
        the hospital information system: ADT^A01 then ORM^O01
    python3 hl7_peer.py monitor ADDR PORT
        a patient monitor gateway: an IHE PCD-01 ORU^R01 (MSH-21 profile, OBX-18 equipment ids)

Every message is HL7 v2.6 and carries the synthetic patient ZZWARDTEST^QUINCE, id
WPID-5523917, born 19230417 in PID. A client exits non-zero unless every message got AA.
"""
import asyncio
import sys

import hl7
from hl7.mllp import open_hl7_connection, start_hl7_server

PID = "PID|1||WPID-5523917^^^WARDHOSP^MR||ZZWARDTEST^QUINCE||19230417|F|||12 Nowhere Lane^^Testville"
# The monitor's EUI-64, as IHE PCD-01 puts it in OBX-18 (EI: entity id^^universal id^EUI-64).
EQUIPMENT = "0009FB7800000022^^0009FB7800000022^EUI-64"
PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"


def msh(app, facility, kind, control, profile=""):
    # MSH-3..MSH-12, then MSH-15/16 (accept/application ack), MSH-18 charset, MSH-21 profile.
    fields = ["MSH", "^~\\&", app, facility, "WARDEMR", "WARDHOSP", "20240611101500", "", kind, control,
              "P", "2.6", "", "", "AL", "NE", "", "UNICODE UTF-8", "", "", profile]
    return "|".join(fields).rstrip("|")


def obx(set_id, kind, ident, sub, value, units, status, when):
    fields = ["OBX", str(set_id), kind, ident, sub, value, units, "", "", "", "", status, "", "", when, "", "",
              "", EQUIPMENT]
    return "|".join(fields)


def his_messages():
    adt = [
        msh("WARDHIS", "WARDHOSP", "ADT^A01^ADT_A01", "WHIS0001"),
        "EVN|A01|20240611101500",
        PID,
        "PV1|1|I|ICU3^BED7^1^WARDHOSP||||1234^ATTENDING^ALICE",
    ]
    orm = [
        msh("WARDHIS", "WARDHOSP", "ORM^O01^ORM_O01", "WHIS0002"),
        PID,
        "PV1|1|I|ICU3^BED7^1^WARDHOSP",
        "ORC|NW|ORD0042^WARDHIS||||||||||1234^ATTENDING^ALICE",
        "OBR|1|ORD0042^WARDHIS||71020^CHEST XRAY^CPT",
    ]
    return ["\r".join(adt), "\r".join(orm)]


def monitor_messages():
    oru = [
        msh("WARDMONGW", "ICU3", "ORU^R01^ORU_R01", "WMON0001", PROFILE),
        PID,
        "PV1|1|I|ICU3^BED7^1^WARDHOSP",
        "OBR|1|WMON0001^WARDMONGW^0009FB7800000022^EUI-64|WMON0001^WARDMONGW^0009FB7800000022^EUI-64|"
        "182777000^monitoring of patient^SNOMED-CT|||20240611101500",
        obx(1, "", "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC", "1.0.0.0", "", "", "X", ""),
        obx(2, "NM", "150456^MDC_PULS_OXIM_SAT_O2^MDC", "1.0.1.1", "97", "262688^MDC_DIM_PERCENT^MDC", "R",
            "20240611101500"),
        obx(3, "NM", "147842^MDC_ECG_HEART_RATE^MDC", "1.0.1.2", "72", "264864^MDC_DIM_BEAT_PER_MIN^MDC", "R",
            "20240611101500"),
    ]
    return ["\r".join(oru)]


async def serve(addr, port, app, facility):
    async def handle(reader, writer):
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                kind = str(message.segment("MSH")[9])
                print(f"received {kind} {message.segment('MSH')[10]}", flush=True)
                writer.writemessage(message.create_ack(ack_code="AA", application=app, facility=facility))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await start_hl7_server(handle, host=addr, port=port)
    print(f"listening on {addr}:{port}", flush=True)
    async with server:
        await server.serve_forever()


async def send(addr, port, messages):
    reader, writer = await open_hl7_connection(addr, port)
    for text in messages:
        writer.writemessage(hl7.parse(text))
        await writer.drain()
        ack = await asyncio.wait_for(reader.readmessage(), 10)
        code = str(ack.segment("MSA")[1])
        print(f"sent {hl7.parse(text).segment('MSH')[9]}: ACK {code}", flush=True)
        if code != "AA":
            sys.exit(f"not accepted: {ack}")
    writer.close()
    await writer.wait_closed()


def main():
    role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if role == "server":
        asyncio.run(serve(addr, port, sys.argv[4], sys.argv[5]))
    elif role == "his":
        asyncio.run(send(addr, port, his_messages()))
    elif role == "monitor":
        asyncio.run(send(addr, port, monitor_messages()))
    else:
        sys.exit(f"unknown role {role}")


if __name__ == "__main__":
    main()
