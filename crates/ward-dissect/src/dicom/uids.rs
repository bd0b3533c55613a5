//! The UIDs Ward names: the SOP classes that matter on a hospital network, with the modality
//! their storage implies, the transfer syntaxes, and the implementation class UID roots of the
//! common DICOM stacks. Written from PS3.6 Annex A (registry of DICOM unique identifiers); the
//! stack roots are those the stacks themselves send (checked against their sources and logs).

/// What a SOP class is for, as far as roles go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Composite instance storage; the modality the instances come from, if one.
    Storage(Option<Modality>),
    /// Verification (C-ECHO).
    Verification,
    /// Patient/Study Root and composite-instance Query/Retrieve (FIND, MOVE, GET).
    QueryRetrieve,
    /// Modality Worklist FIND.
    Worklist,
    /// Modality Performed Procedure Step.
    Mpps,
    /// Storage Commitment.
    Commitment,
    /// Print management.
    Print,
    /// Anything else named.
    Other,
}

/// The modalities storage classes imply: `label` is what a sender of them is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Modality {
    Ct,
    Mr,
    Us,
    Cr,
    Dx,
    Mg,
    Io,
    Nm,
    Pet,
    Rt,
    Xa,
    Rf,
    Ophthalmic,
    Endoscopy,
    Microscopy,
    Photo,
    Ecg,
    Waveform,
    SecondaryCapture,
    Sr,
    Document,
    PresentationState,
    Octa,
}

impl Modality {
    /// A device that sends instances of this kind (the `role` value).
    pub(crate) fn role(self) -> &'static str {
        match self {
            Modality::Ct => "CT modality",
            Modality::Mr => "MR modality",
            Modality::Us => "Ultrasound modality",
            Modality::Cr => "CR modality",
            Modality::Dx => "DX modality",
            Modality::Mg => "Mammography modality",
            Modality::Io => "Intra-oral X-ray modality",
            Modality::Nm => "Nuclear medicine modality",
            Modality::Pet => "PET modality",
            Modality::Rt => "Radiotherapy system",
            Modality::Xa => "X-ray angiography modality",
            Modality::Rf => "Radiofluoroscopy modality",
            Modality::Ophthalmic => "Ophthalmic modality",
            Modality::Endoscopy => "Endoscopy system",
            Modality::Microscopy => "Microscopy system",
            Modality::Photo => "Photographic imaging device",
            Modality::Ecg => "ECG device",
            Modality::Waveform => "Waveform device",
            Modality::SecondaryCapture => "Secondary capture device",
            Modality::Sr => "DICOM SR creator",
            Modality::Document => "DICOM document creator",
            Modality::PresentationState => "DICOM workstation",
            Modality::Octa => "Intravascular OCT modality",
        }
    }

    /// Whether sending this kind makes a device an acquisition modality, rather than a
    /// workstation or reporting system (only those count for the PACS rule).
    pub(crate) fn acquires(self) -> bool {
        !matches!(
            self,
            Modality::SecondaryCapture | Modality::Sr | Modality::Document | Modality::PresentationState
        )
    }

    /// A bit for sets of modalities.
    pub(crate) fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A named SOP class.
#[derive(Debug)]
pub(crate) struct SopClass {
    pub(crate) uid: &'static str,
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

use Kind::*;
use Modality::*;

const fn st(uid: &'static str, name: &'static str, m: Modality) -> SopClass {
    SopClass { uid, name, kind: Storage(Some(m)) }
}

const fn sop(uid: &'static str, name: &'static str, kind: Kind) -> SopClass {
    SopClass { uid, name, kind }
}

/// SOP classes (PS3.6 Annex A, table A-1), the storage ones with their modality.
pub(crate) static SOP_CLASSES: &[SopClass] = &[
    sop("1.2.840.10008.1.1", "Verification", Verification),
    sop("1.2.840.10008.1.20.1", "Storage Commitment Push Model", Commitment),
    sop("1.2.840.10008.1.40", "Procedural Event Logging", Other),
    sop("1.2.840.10008.1.42", "Substance Administration Logging", Other),
    // Print management.
    sop("1.2.840.10008.5.1.1.1", "Basic Film Session", Print),
    sop("1.2.840.10008.5.1.1.2", "Basic Film Box", Print),
    sop("1.2.840.10008.5.1.1.4", "Basic Grayscale Image Box", Print),
    sop("1.2.840.10008.5.1.1.4.1", "Basic Color Image Box", Print),
    sop("1.2.840.10008.5.1.1.9", "Basic Grayscale Print Management", Print),
    sop("1.2.840.10008.5.1.1.14", "Print Job", Print),
    sop("1.2.840.10008.5.1.1.15", "Basic Annotation Box", Print),
    sop("1.2.840.10008.5.1.1.16", "Printer", Print),
    sop("1.2.840.10008.5.1.1.16.376", "Printer Configuration Retrieval", Print),
    sop("1.2.840.10008.5.1.1.18", "Basic Color Print Management", Print),
    sop("1.2.840.10008.5.1.1.23", "Presentation LUT", Print),
    // Workflow.
    sop("1.2.840.10008.3.1.2.3.3", "Modality Performed Procedure Step", Mpps),
    sop("1.2.840.10008.3.1.2.3.4", "Modality Performed Procedure Step Retrieve", Mpps),
    sop("1.2.840.10008.3.1.2.3.5", "Modality Performed Procedure Step Notification", Mpps),
    sop("1.2.840.10008.5.1.4.31", "Modality Worklist Find", Worklist),
    sop("1.2.840.10008.5.1.4.32.1", "General Purpose Worklist Find", Other),
    sop("1.2.840.10008.5.1.4.33", "Instance Availability Notification", Other),
    sop("1.2.840.10008.5.1.4.34.6.1", "UPS Push", Other),
    sop("1.2.840.10008.5.1.4.34.6.2", "UPS Watch", Other),
    sop("1.2.840.10008.5.1.4.34.6.3", "UPS Event", Other),
    sop("1.2.840.10008.5.1.4.34.6.4", "UPS Pull", Other),
    // Query/Retrieve.
    sop("1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve Find", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Query/Retrieve Move", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.1.3", "Patient Root Query/Retrieve Get", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve Find", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve Move", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve Get", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.3.1", "Patient/Study Only Query/Retrieve Find", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.3.2", "Patient/Study Only Query/Retrieve Move", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.3.3", "Patient/Study Only Query/Retrieve Get", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.4.2", "Composite Instance Root Retrieve Move", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.4.3", "Composite Instance Root Retrieve Get", QueryRetrieve),
    sop("1.2.840.10008.5.1.4.1.2.5.3", "Composite Instance Retrieve Without Bulk Data Get", QueryRetrieve),
    // Storage.
    st("1.2.840.10008.5.1.4.1.1.1", "CR Image Storage", Cr),
    st("1.2.840.10008.5.1.4.1.1.1.1", "DX Image Storage - For Presentation", Dx),
    st("1.2.840.10008.5.1.4.1.1.1.1.1", "DX Image Storage - For Processing", Dx),
    st("1.2.840.10008.5.1.4.1.1.1.2", "Mammography Image Storage - For Presentation", Mg),
    st("1.2.840.10008.5.1.4.1.1.1.2.1", "Mammography Image Storage - For Processing", Mg),
    st("1.2.840.10008.5.1.4.1.1.1.3", "Intra-oral X-Ray Image Storage - For Presentation", Io),
    st("1.2.840.10008.5.1.4.1.1.1.3.1", "Intra-oral X-Ray Image Storage - For Processing", Io),
    st("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", Ct),
    st("1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage", Ct),
    st("1.2.840.10008.5.1.4.1.1.2.2", "Legacy Converted Enhanced CT Image Storage", Ct),
    st("1.2.840.10008.5.1.4.1.1.3", "US Multi-frame Image Storage (Retired)", Us),
    st("1.2.840.10008.5.1.4.1.1.3.1", "US Multi-frame Image Storage", Us),
    st("1.2.840.10008.5.1.4.1.1.4", "MR Image Storage", Mr),
    st("1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage", Mr),
    st("1.2.840.10008.5.1.4.1.1.4.2", "MR Spectroscopy Storage", Mr),
    st("1.2.840.10008.5.1.4.1.1.4.3", "Enhanced MR Color Image Storage", Mr),
    st("1.2.840.10008.5.1.4.1.1.4.4", "Legacy Converted Enhanced MR Image Storage", Mr),
    st("1.2.840.10008.5.1.4.1.1.5", "NM Image Storage (Retired)", Nm),
    st("1.2.840.10008.5.1.4.1.1.6", "US Image Storage (Retired)", Us),
    st("1.2.840.10008.5.1.4.1.1.6.1", "US Image Storage", Us),
    st("1.2.840.10008.5.1.4.1.1.6.2", "Enhanced US Volume Storage", Us),
    st("1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage", SecondaryCapture),
    st("1.2.840.10008.5.1.4.1.1.7.1", "Multi-frame Single Bit SC Image Storage", SecondaryCapture),
    st("1.2.840.10008.5.1.4.1.1.7.2", "Multi-frame Grayscale Byte SC Image Storage", SecondaryCapture),
    st("1.2.840.10008.5.1.4.1.1.7.3", "Multi-frame Grayscale Word SC Image Storage", SecondaryCapture),
    st("1.2.840.10008.5.1.4.1.1.7.4", "Multi-frame True Color SC Image Storage", SecondaryCapture),
    st("1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform Storage", Ecg),
    st("1.2.840.10008.5.1.4.1.1.9.1.2", "General ECG Waveform Storage", Ecg),
    st("1.2.840.10008.5.1.4.1.1.9.1.3", "Ambulatory ECG Waveform Storage", Ecg),
    st("1.2.840.10008.5.1.4.1.1.9.2.1", "Hemodynamic Waveform Storage", Waveform),
    st("1.2.840.10008.5.1.4.1.1.9.3.1", "Cardiac Electrophysiology Waveform Storage", Waveform),
    st("1.2.840.10008.5.1.4.1.1.9.4.1", "Basic Voice Audio Waveform Storage", Waveform),
    st("1.2.840.10008.5.1.4.1.1.9.5.1", "Arterial Pulse Waveform Storage", Waveform),
    st("1.2.840.10008.5.1.4.1.1.9.6.1", "Respiratory Waveform Storage", Waveform),
    st("1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State Storage", PresentationState),
    st("1.2.840.10008.5.1.4.1.1.11.2", "Color Softcopy Presentation State Storage", PresentationState),
    st("1.2.840.10008.5.1.4.1.1.11.3", "Pseudo-Color Softcopy Presentation State Storage", PresentationState),
    st("1.2.840.10008.5.1.4.1.1.11.4", "Blending Softcopy Presentation State Storage", PresentationState),
    st("1.2.840.10008.5.1.4.1.1.12.1", "XA Image Storage", Xa),
    st("1.2.840.10008.5.1.4.1.1.12.1.1", "Enhanced XA Image Storage", Xa),
    st("1.2.840.10008.5.1.4.1.1.12.2", "XRF Image Storage", Rf),
    st("1.2.840.10008.5.1.4.1.1.12.2.1", "Enhanced XRF Image Storage", Rf),
    st("1.2.840.10008.5.1.4.1.1.13.1.1", "X-Ray 3D Angiographic Image Storage", Xa),
    st("1.2.840.10008.5.1.4.1.1.13.1.2", "X-Ray 3D Craniofacial Image Storage", Dx),
    st("1.2.840.10008.5.1.4.1.1.13.1.3", "Breast Tomosynthesis Image Storage", Mg),
    st("1.2.840.10008.5.1.4.1.1.13.1.4", "Breast Projection X-Ray Image Storage - For Presentation", Mg),
    st("1.2.840.10008.5.1.4.1.1.13.1.5", "Breast Projection X-Ray Image Storage - For Processing", Mg),
    st("1.2.840.10008.5.1.4.1.1.14.1", "Intravascular OCT Image Storage - For Presentation", Octa),
    st("1.2.840.10008.5.1.4.1.1.14.2", "Intravascular OCT Image Storage - For Processing", Octa),
    st("1.2.840.10008.5.1.4.1.1.20", "NM Image Storage", Nm),
    st("1.2.840.10008.5.1.4.1.1.77.1.1", "VL Endoscopic Image Storage", Endoscopy),
    st("1.2.840.10008.5.1.4.1.1.77.1.1.1", "Video Endoscopic Image Storage", Endoscopy),
    st("1.2.840.10008.5.1.4.1.1.77.1.2", "VL Microscopic Image Storage", Microscopy),
    st("1.2.840.10008.5.1.4.1.1.77.1.2.1", "Video Microscopic Image Storage", Microscopy),
    st("1.2.840.10008.5.1.4.1.1.77.1.3", "VL Slide-Coordinates Microscopic Image Storage", Microscopy),
    st("1.2.840.10008.5.1.4.1.1.77.1.4", "VL Photographic Image Storage", Photo),
    st("1.2.840.10008.5.1.4.1.1.77.1.4.1", "Video Photographic Image Storage", Photo),
    st("1.2.840.10008.5.1.4.1.1.77.1.5.1", "Ophthalmic Photography 8 Bit Image Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.77.1.5.2", "Ophthalmic Photography 16 Bit Image Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.77.1.5.3", "Stereometric Relationship Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.77.1.5.4", "Ophthalmic Tomography Image Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.77.1.6", "VL Whole Slide Microscopy Image Storage", Microscopy),
    st("1.2.840.10008.5.1.4.1.1.78.1", "Lensometry Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.2", "Autorefraction Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.3", "Keratometry Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.4", "Subjective Refraction Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.5", "Visual Acuity Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.7", "Ophthalmic Axial Measurements Storage", Ophthalmic),
    st("1.2.840.10008.5.1.4.1.1.78.8", "Intraocular Lens Calculations Storage", Ophthalmic),
    st(
        "1.2.840.10008.5.1.4.1.1.80.1",
        "Ophthalmic Visual Field Static Perimetry Measurements Storage",
        Ophthalmic,
    ),
    st("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.34", "Comprehensive 3D SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.40", "Procedure Log Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.50", "Mammography CAD SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.65", "Chest CAD SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.68", "Radiopharmaceutical Radiation Dose SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.69", "Colon CAD SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.88.70", "Implantation Plan SR Storage", Sr),
    st("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage", Document),
    st("1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage", Document),
    st("1.2.840.10008.5.1.4.1.1.104.3", "Encapsulated STL Storage", Document),
    st("1.2.840.10008.5.1.4.1.1.128", "PET Image Storage", Pet),
    st("1.2.840.10008.5.1.4.1.1.128.1", "Legacy Converted Enhanced PET Image Storage", Pet),
    st("1.2.840.10008.5.1.4.1.1.130", "Enhanced PET Image Storage", Pet),
    st("1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.2", "RT Dose Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.4", "RT Beams Treatment Record Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.6", "RT Brachy Treatment Record Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.7", "RT Treatment Summary Record Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.8", "RT Ion Plan Storage", Rt),
    st("1.2.840.10008.5.1.4.1.1.481.9", "RT Ion Beams Treatment Record Storage", Rt),
    sop("1.2.840.10008.5.1.4.1.1.66", "Raw Data Storage", Storage(None)),
    sop("1.2.840.10008.5.1.4.1.1.66.1", "Spatial Registration Storage", Storage(None)),
    sop("1.2.840.10008.5.1.4.1.1.66.2", "Spatial Fiducials Storage", Storage(None)),
    sop("1.2.840.10008.5.1.4.1.1.66.4", "Segmentation Storage", Storage(None)),
    sop("1.2.840.10008.5.1.4.1.1.30", "Parametric Map Storage", Storage(None)),
    sop("1.2.840.10008.5.1.4.1.1.67", "Real World Value Mapping Storage", Storage(None)),
];

/// The SOP class named by `uid` (trailing NUL padding already stripped).
pub(crate) fn sop_class(uid: &[u8]) -> Option<(u16, &'static SopClass)> {
    SOP_CLASSES.iter().enumerate().find(|(_, s)| s.uid.as_bytes() == uid).map(|(i, s)| (i as u16, s))
}

/// How a transfer syntax encodes the data set (PS3.5 section 10 and Annex A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Implicit VR Little Endian.
    ImplicitLe,
    /// Explicit VR Little Endian, including every encapsulated (compressed pixel data) syntax.
    ExplicitLe,
    /// Explicit VR Big Endian (retired).
    ExplicitBe,
    /// Deflated, or unknown (private): the data set is not read.
    Unreadable,
}

/// A named transfer syntax.
#[derive(Debug)]
pub(crate) struct TransferSyntax {
    pub(crate) uid: &'static str,
    pub(crate) name: &'static str,
    pub(crate) encoding: Encoding,
}

const fn ts(uid: &'static str, name: &'static str) -> TransferSyntax {
    TransferSyntax { uid, name, encoding: Encoding::ExplicitLe }
}

/// Transfer syntaxes (PS3.6 Annex A, PS3.5 Annex A).
pub(crate) static TRANSFER_SYNTAXES: &[TransferSyntax] = &[
    TransferSyntax {
        uid: "1.2.840.10008.1.2",
        name: "Implicit VR Little Endian",
        encoding: Encoding::ImplicitLe,
    },
    ts("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
    ts("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian"),
    TransferSyntax {
        uid: "1.2.840.10008.1.2.1.99",
        name: "Deflated Explicit VR Little Endian",
        encoding: Encoding::Unreadable,
    },
    TransferSyntax {
        uid: "1.2.840.10008.1.2.2",
        name: "Explicit VR Big Endian",
        encoding: Encoding::ExplicitBe,
    },
    ts("1.2.840.10008.1.2.4.50", "JPEG Baseline"),
    ts("1.2.840.10008.1.2.4.51", "JPEG Extended"),
    ts("1.2.840.10008.1.2.4.57", "JPEG Lossless"),
    ts("1.2.840.10008.1.2.4.70", "JPEG Lossless SV1"),
    ts("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
    ts("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"),
    ts("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"),
    ts("1.2.840.10008.1.2.4.91", "JPEG 2000"),
    ts("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Lossless"),
    ts("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component"),
    ts("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
    TransferSyntax {
        uid: "1.2.840.10008.1.2.4.95",
        name: "JPIP Referenced Deflate",
        encoding: Encoding::Unreadable,
    },
    ts("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile Main Level"),
    ts("1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile Main Level"),
    ts("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile High Level"),
    ts("1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile High Level"),
    ts("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile"),
    ts("1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile"),
    ts("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile"),
    ts("1.2.840.10008.1.2.4.103.1", "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile"),
    ts("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile For 2D Video"),
    ts("1.2.840.10008.1.2.4.104.1", "Fragmentable MPEG-4 AVC/H.264 High Profile For 2D Video"),
    ts("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile For 3D Video"),
    ts("1.2.840.10008.1.2.4.105.1", "Fragmentable MPEG-4 AVC/H.264 High Profile For 3D Video"),
    ts("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile"),
    ts("1.2.840.10008.1.2.4.106.1", "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile"),
    ts("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile"),
    ts("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile"),
    ts("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
    ts("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
    ts("1.2.840.10008.1.2.4.112", "JPEG XL"),
    ts("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Lossless"),
    ts("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 RPCL Lossless"),
    ts("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
    ts("1.2.840.10008.1.2.4.204", "JPIP HTJ2K Referenced"),
    TransferSyntax {
        uid: "1.2.840.10008.1.2.4.205",
        name: "JPIP HTJ2K Referenced Deflate",
        encoding: Encoding::Unreadable,
    },
    ts("1.2.840.10008.1.2.5", "RLE Lossless"),
];

/// The transfer syntax named by `uid`.
pub(crate) fn transfer_syntax(uid: &[u8]) -> Option<&'static TransferSyntax> {
    TRANSFER_SYNTAXES.iter().find(|t| t.uid.as_bytes() == uid)
}

/// Implementation class UID roots of the common stacks (PS3.7 D.3.3.2: each implementation
/// registers its own root), and what they are called.
static STACK_ROOTS: &[(&str, &str)] = &[
    // DCMTK: dcmtk/dcmdata/include/dcmtk/dcmdata/dcuid.h, OFFIS_UID_ROOT "1.2.276.0.7230010.3".
    ("1.2.276.0.7230010.3", "DCMTK"),
    // pynetdicom: pynetdicom.PYNETDICOM_IMPLEMENTATION_UID is this root plus the version.
    ("1.2.826.0.1.3680043.9.3811", "pynetdicom"),
    // dcm4che 5 (and the dcm4chee archive 5) send "1.2.40.0.13.1.3" with "dcm4che-5.x.y".
    ("1.2.40.0.13.1.3", "dcm4che"),
    // dcm4che 2.
    ("1.2.40.0.13.1.1", "dcm4che"),
    // fo-dicom: DicomImplementation.ClassUID, with "fo-dicom x.y.z".
    ("1.3.6.1.4.1.30071.8", "fo-dicom"),
    // GDCM: "1.2.826.0.1.3680043.2.1143.107.104.103.115." + version, with "GDCM x.y.z".
    ("1.2.826.0.1.3680043.2.1143.107.104.103.115", "GDCM"),
];

/// The stack whose root `uid` is under.
pub(crate) fn stack_of_uid(uid: &str) -> Option<&'static str> {
    STACK_ROOTS.iter().find_map(|(root, name)| {
        let rest = uid.strip_prefix(root)?;
        (rest.is_empty() || rest.starts_with('.')).then_some(*name)
    })
}
