"""A pynetdicom SCU: the ultrasound cart. Verifies the PACS with C-ECHO, then stores its image.

    python3 dicom_scu.py HOST PORT CALLING_AE CALLED_AE FILE

Exits non-zero unless both the echo and the store succeed.
"""
import sys

import pynetdicom
from pydicom import dcmread
from pynetdicom import AE
from pynetdicom.sop_class import UltrasoundImageStorage, Verification


def main():
    host, port, calling, called, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    ds = dcmread(path)
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    ae.add_requested_context(UltrasoundImageStorage, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate(host, port, ae_title=called)
    if not assoc.is_established:
        sys.exit("association refused or failed")
    echo = assoc.send_c_echo()
    store = assoc.send_c_store(ds)
    assoc.release()
    if not echo or echo.Status != 0 or not store or store.Status != 0:
        sys.exit(f"echo {echo} store {store}")
    print(f"pynetdicom {pynetdicom.__version__}: C-ECHO and C-STORE to {called} succeeded")


if __name__ == "__main__":
    main()
