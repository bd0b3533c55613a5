//! The device classes a rule may name, each with its category and default criticality.
//!
//! A const table rather than a file: a class is vocabulary that policies, reports and the
//! criticality of findings depend on, so adding one is a code review, not a rule edit.
//! `docs/taxonomy.md` describes each class and what usually identifies it; a test keeps the
//! two in step.

use std::fmt;

use ward_core::Criticality;

/// The broad family of a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Diagnoses, treats or watches patients, or holds clinical data.
    Clinical,
    /// Runs the hospital's buildings and operations (nurse call, HVAC, access, cold chain).
    Infrastructure,
    /// Office and network IT.
    It,
    /// Consumer devices brought in or installed without the hospital's IT.
    ConsumerIot,
}

impl Category {
    /// Its name in JSON and documents: `clinical`, `infrastructure`, `it`, `consumer_iot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Clinical => "clinical",
            Category::Infrastructure => "infrastructure",
            Category::It => "it",
            Category::ConsumerIot => "consumer_iot",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One device class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassInfo {
    /// Its id in rules, the store and policies (`infusion_pump`).
    pub id: &'static str,
    /// For people ("Infusion pump").
    pub name: &'static str,
    /// Its family.
    pub category: Category,
    /// The criticality a device of this class gets unless a rule or a person says otherwise.
    pub criticality: Criticality,
}

const fn class(
    id: &'static str,
    name: &'static str,
    category: Category,
    criticality: Criticality,
) -> ClassInfo {
    ClassInfo { id, name, category, criticality }
}

use Category::{Clinical, ConsumerIot, Infrastructure, It};
use Criticality::{Critical, High, Low, Medium};

const TAXONOMY: &[ClassInfo] = &[
    // Therapy and life support: an outage or a tampered setting reaches a patient directly.
    class("infusion_pump", "Infusion pump", Clinical, Critical),
    class("patient_monitor", "Patient monitor", Clinical, Critical),
    class("ventilator", "Ventilator", Clinical, Critical),
    class("anesthesia_machine", "Anaesthesia workstation", Clinical, Critical),
    class("dialysis_machine", "Dialysis machine", Clinical, Critical),
    // Diagnosis and clinical systems.
    class("ct_modality", "CT scanner", Clinical, High),
    class("mr_modality", "MR scanner", Clinical, High),
    class("us_modality", "Ultrasound system", Clinical, High),
    class("xray_modality", "X-ray system (CR, DX, angiography, fluoroscopy)", Clinical, High),
    class("mammography_modality", "Mammography system", Clinical, High),
    class("nuclear_medicine_modality", "Nuclear medicine or PET system", Clinical, High),
    class("radiotherapy_system", "Radiotherapy system", Clinical, Critical),
    class("ecg_device", "Electrocardiograph", Clinical, High),
    class("imaging_workstation", "Imaging workstation (viewer, reporting)", Clinical, High),
    class("pacs", "PACS (image archive)", Clinical, High),
    class("modality_worklist", "Modality worklist server", Clinical, High),
    class("dicom_printer", "DICOM film printer", Clinical, Medium),
    class("hl7_interface_engine", "HL7 interface engine", Clinical, High),
    class("ehr_server", "EHR or clinical information system", Clinical, High),
    class("clinical_gateway", "Medical device integration gateway", Clinical, High),
    class("lab_analyser", "Laboratory analyser", Clinical, High),
    class("point_of_care_device", "Point-of-care test device", Clinical, High),
    class("poct_data_manager", "Point-of-care data manager", Clinical, High),
    class("medication_cabinet", "Automated medication cabinet", Clinical, High),
    // Hospital operations.
    class("nurse_call", "Nurse call system", Infrastructure, Medium),
    class("building_automation", "Building automation controller", Infrastructure, Medium),
    class("temperature_sensor", "Temperature or fridge sensor", Infrastructure, Medium),
    class("badge_reader", "Access control or badge reader", Infrastructure, Medium),
    class("ip_camera", "IP camera", Infrastructure, Medium),
    class("plc", "Industrial controller (PLC)", Infrastructure, Medium),
    class("ups", "UPS or power distribution", Infrastructure, Medium),
    class("iot_gateway", "IoT gateway", Infrastructure, Medium),
    class("rtls", "Real-time location system", Infrastructure, Medium),
    // IT.
    class("printer", "Printer", It, Medium),
    class("voip_phone", "VoIP phone", It, Medium),
    class("workstation", "Workstation or laptop", It, Low),
    class("server", "Server", It, Medium),
    class("mqtt_broker", "MQTT broker", It, Medium),
    class("switch", "Network switch", It, Medium),
    class("router", "Router", It, Medium),
    class("firewall", "Firewall", It, Medium),
    class("access_point", "Wireless access point", It, Medium),
    // Consumer devices.
    class("phone", "Smartphone", ConsumerIot, Low),
    class("tablet", "Tablet", ConsumerIot, Low),
    class("smart_plug", "Smart plug or switch", ConsumerIot, Low),
    class("smart_hub", "Smart home hub or bridge", ConsumerIot, Low),
    class("consumer_camera", "Consumer camera or doorbell", ConsumerIot, Low),
    class("smart_sensor", "Consumer sensor", ConsumerIot, Low),
    class("smart_speaker", "Smart speaker or voice assistant", ConsumerIot, Low),
    class("media_player", "TV or media player", ConsumerIot, Low),
    class("smart_appliance", "Household appliance", ConsumerIot, Low),
    class("wearable", "Wearable, scale or fitness device", ConsumerIot, Low),
];

/// Every class, in a fixed order (clinical first).
pub fn taxonomy() -> &'static [ClassInfo] {
    TAXONOMY
}

/// The class with this id.
pub fn class_info(id: &str) -> Option<&'static ClassInfo> {
    TAXONOMY.iter().find(|c| c.id == id)
}
