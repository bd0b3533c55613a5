"""Writes the DICOM objects the clinical network test sends, with pydicom.

    python3 make_dicom.py OUT_DIR

OUT_DIR/ct.dcm      a CT image (Modality CT, Manufacturer, Model, Serial, Software Versions,
                    Station Name, Institution Department) of the synthetic patient
OUT_DIR/us.dcm      an ultrasound image of the same patient
OUT_DIR/worklist/PACS01/ward.wl
                    a Modality Worklist entry for DCMTK's wlmscpfs (with its lockfile)

The patient is synthetic and distinctive so that the test can search Ward's output for it:
ZZWARDTEST^QUINCE, id WPID-5523917, born 19230417.
"""
import os
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

PATIENT = {"PatientName": "ZZWARDTEST^QUINCE", "PatientID": "WPID-5523917", "PatientBirthDate": "19230417"}
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
WORKLIST = "1.2.840.10008.5.1.4.31"


def with_meta(ds, sop_class):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", generate_uid())
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def image(sop_class, modality, identity, study):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyDate = ds.SeriesDate = "20240611"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "WACC0042"
    ds.Modality = modality
    for k, v in identity.items():
        setattr(ds, k, v)
    for k, v in PATIENT.items():
        setattr(ds, k, v)
    ds.PatientSex = "F"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = bytes((i * 7) & 0xFF for i in range(16 * 16 * 2))
    return with_meta(ds, sop_class)


def main():
    out = sys.argv[1]
    study = generate_uid()
    ct = image(CT_IMAGE, "CT", {
        "Manufacturer": "Ward E2E Medical",
        "ManufacturerModelName": "Tomoscan W64",
        "DeviceSerialNumber": "CTSN-880123",
        "SoftwareVersions": "VA44B",
        "StationName": "CTROOM2",
        "InstitutionalDepartmentName": "Radiology",
        "InstitutionName": "Ward General",
    }, study)
    ct.save_as(os.path.join(out, "ct.dcm"), enforce_file_format=True)
    us = image(US_IMAGE, "US", {
        "Manufacturer": "Ward E2E Sonics",
        "ManufacturerModelName": "Sonoline W5",
        "DeviceSerialNumber": "USSN-550077",
        "SoftwareVersions": "2.3.1",
        "StationName": "USCART5",
        "InstitutionalDepartmentName": "Cardiology",
    }, study)
    us.save_as(os.path.join(out, "us.dcm"), enforce_file_format=True)

    wl = Dataset()
    wl.SpecificCharacterSet = "ISO_IR 100"
    for k, v in PATIENT.items():
        setattr(wl, k, v)
    wl.PatientSex = "F"
    wl.AccessionNumber = "WACC0042"
    wl.StudyInstanceUID = study
    wl.RequestedProcedureID = "RP0042"
    wl.RequestedProcedureDescription = "CT HEAD"
    sps = Dataset()
    sps.Modality = "CT"
    sps.ScheduledStationAETitle = "CT01"
    sps.ScheduledProcedureStepStartDate = "20240611"
    sps.ScheduledProcedureStepStartTime = "101500"
    sps.ScheduledProcedureStepID = "SPS0042"
    sps.ScheduledProcedureStepDescription = "CT HEAD"
    wl.ScheduledProcedureStepSequence = Sequence([sps])
    wl.SOPInstanceUID = generate_uid()
    wldir = os.path.join(out, "worklist", "PACS01")
    os.makedirs(wldir, exist_ok=True)
    # wlmscpfs locks this file while it reads the folder (DCMTK 3.6.7 names it "lockfile").
    for lock in ("lockfile", ".lockfile"):
        open(os.path.join(wldir, lock), "w").close()
    with_meta(wl, WORKLIST).save_as(os.path.join(wldir, "ward.wl"), enforce_file_format=True)


if __name__ == "__main__":
    main()
