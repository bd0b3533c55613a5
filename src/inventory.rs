//! `ward inventory`: reading the store (list, show, peers, events, export) and setting
//! overrides. The store answers; this file only asks and prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ward_core::{
    Classification, Criticality, Derived, Device, DeviceId, EventKind, IpProto, Lifecycle, Override,
};
use ward_store::{Blocking, DeviceQuery, DeviceRef, EventQuery};

use crate::report::{event_line, fit, list};

/// Keys an override may set besides the resolved fields.
const OTHER_KEYS: [&str; 5] = ["state", "name", "owner", "location", "notes"];

#[derive(clap::Subcommand)]
pub(crate) enum InventoryCommand {
    /// List devices, filtered and sorted.
    List(ListArgs),
    /// Everything known about one device: facts with evidence, addresses over time,
    /// services, overrides, events.
    Show(ShowArgs),
    /// Whom a device talks to, per service, from the communication map.
    Peers(ShowArgs),
    /// What changed: new devices, class, vendor, firmware and address changes, staleness.
    Events(EventsArgs),
    /// Every device with everything attached (JSON), or the device table (CSV).
    Export(ExportArgs),
    /// Set facts by hand: `class=infusion_pump`, `state=retired`, `owner=ICU`; `key=` removes
    /// the override. Overrides win over every rule and every later observation.
    Set(SetArgs),
}

#[derive(clap::Args)]
pub(crate) struct DbArg {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
}

#[derive(clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    db: DbArg,
    /// Only this class (see docs/taxonomy.md).
    #[arg(long)]
    class: Option<String>,
    /// Only vendors containing this.
    #[arg(long)]
    vendor: Option<String>,
    /// Only this criticality (critical, high, medium, low).
    #[arg(long)]
    criticality: Option<String>,
    /// Only this state (active, stale, retired).
    #[arg(long)]
    state: Option<String>,
    /// Only devices on this VLAN.
    #[arg(long)]
    vlan: Option<u16>,
    /// Only devices whose MAC, address, class, vendor, model or description contains this.
    #[arg(long)]
    search: Option<String>,
    /// Sort by id, class, vendor, model, firmware, criticality, first_seen, last_seen, ip or
    /// mac; a leading `-` sorts descending.
    #[arg(long, allow_hyphen_values = true)]
    sort: Option<String>,
    /// At most this many.
    #[arg(long)]
    limit: Option<u64>,
    /// One JSON array.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row.
    #[arg(long)]
    csv: bool,
}

#[derive(clap::Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    db: DbArg,
    /// The device: its number, a MAC or an address.
    device: String,
    /// JSON instead of text.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV (peers only).
    #[arg(long)]
    csv: bool,
}

#[derive(clap::Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    db: DbArg,
    /// Only this device's.
    device: Option<String>,
    /// Only this kind (new_device, class_changed, vendor_changed, model_changed,
    /// firmware_changed, ip_changed, stale, returned, merged, override).
    #[arg(long)]
    kind: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 100)]
    limit: u64,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    db: DbArg,
    /// The device table as CSV instead of JSON.
    #[arg(long)]
    csv: bool,
}

#[derive(clap::Args)]
pub(crate) struct SetArgs {
    #[command(flatten)]
    db: DbArg,
    /// The device: its number, a MAC or an address.
    device: String,
    /// `key=value` pairs; `key=` removes that override.
    #[arg(required = true, value_name = "KEY=VALUE")]
    pairs: Vec<String>,
    /// Who sets it (default: $USER).
    #[arg(long)]
    by: Option<String>,
}

/// Opens an existing inventory; never creates one (a typo in `--db` must not look empty).
pub(crate) fn open(db: &Path) -> Result<Blocking> {
    if !db.exists() {
        bail!("no inventory at {}: `ward analyze --db {} CAPTURE` makes one", db.display(), db.display());
    }
    Blocking::open_sqlite(db).with_context(|| format!("opening {}", db.display()))
}

fn resolve(store: &Blocking, device: &str) -> Result<DeviceId> {
    let r: DeviceRef = device.parse().map_err(anyhow::Error::msg)?;
    store.resolve(r)?.with_context(|| format!("no device {device} in the inventory"))
}

pub(crate) fn run(cmd: InventoryCommand, out: &mut impl Write) -> Result<()> {
    match cmd {
        InventoryCommand::List(a) => list_devices(a, out),
        InventoryCommand::Show(a) => show(a, out),
        InventoryCommand::Peers(a) => peers(a, out),
        InventoryCommand::Events(a) => events(a, out),
        InventoryCommand::Export(a) => export(a, out),
        InventoryCommand::Set(a) => set(a, out),
    }
}

fn value(d: &Option<Derived>) -> &str {
    d.as_ref().map_or("", |d| d.value.as_str())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

const CSV_HEADER: &str = "id,macs,ips,vlans,class,class_source,vendor,vendor_source,model,model_source,firmware,firmware_source,os,criticality,state,first_seen,last_seen,description";

fn csv_row(d: &Device) -> String {
    let c = &d.classification;
    let src = |x: &Option<Derived>| x.as_ref().map_or(String::new(), |d| d.source.clone());
    let join = |v: Vec<String>| v.join(" ");
    [
        d.id.to_string(),
        join(d.macs.iter().map(ToString::to_string).collect()),
        join(d.ips.iter().map(ToString::to_string).collect()),
        join(d.vlans.iter().map(ToString::to_string).collect()),
        value(&c.class).to_owned(),
        src(&c.class),
        value(&c.vendor).to_owned(),
        src(&c.vendor),
        value(&c.model).to_owned(),
        src(&c.model),
        value(&c.firmware).to_owned(),
        src(&c.firmware),
        value(&c.os).to_owned(),
        value(&c.criticality).to_owned(),
        d.state.as_str().to_owned(),
        d.first_seen.to_string(),
        d.last_seen.to_string(),
        d.description.clone().unwrap_or_default(),
    ]
    .iter()
    .map(|s| csv_field(s))
    .collect::<Vec<_>>()
    .join(",")
}

fn list_devices(a: ListArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    let state = a.state.as_deref().map(str::parse::<Lifecycle>).transpose().map_err(anyhow::Error::msg)?;
    if let Some(c) = &a.criticality {
        c.parse::<Criticality>().map_err(anyhow::Error::msg)?;
    }
    let q = DeviceQuery {
        class: a.class,
        vendor: a.vendor,
        criticality: a.criticality,
        state,
        vlan: a.vlan,
        text: a.search,
        sort: a.sort,
        limit: a.limit,
        offset: None,
    };
    let devices = store.list(&q)?;
    if a.json {
        serde_json::to_writer(&mut *out, &devices)?;
        writeln!(out)?;
    } else if a.csv {
        writeln!(out, "{CSV_HEADER}")?;
        for d in &devices {
            writeln!(out, "{}", csv_row(d))?;
        }
    } else {
        writeln!(
            out,
            "{:>6} {:<18} {:<28} {:<22} {:<20} {:<22} {:<14} {:<9} {:<7} last seen",
            "id", "mac", "ips", "class", "vendor", "model", "firmware", "critical", "state"
        )?;
        for d in &devices {
            writeln!(
                out,
                "{:>6} {:<18} {:<28} {:<22} {:<20} {:<22} {:<14} {:<9} {:<7} {}",
                d.id,
                d.macs.first().map_or_else(|| "-".to_owned(), ToString::to_string),
                list(&d.ips, 2),
                fit(value(&d.classification.class), 22),
                fit(value(&d.classification.vendor), 20),
                fit(value(&d.classification.model), 22),
                fit(value(&d.classification.firmware), 14),
                value(&d.classification.criticality),
                d.state.as_str(),
                d.last_seen
            )?;
        }
        writeln!(out, "{} device(s)", devices.len())?;
    }
    Ok(())
}

fn show(a: ShowArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    let id = resolve(&store, &a.device)?;
    let record = store.device(id)?.with_context(|| format!("device {id} vanished"))?;
    let overrides: Vec<Override> = store.overrides()?.into_iter().filter(|o| o.device == id).collect();
    let events = store.events(&EventQuery { device: Some(id), kind: None, limit: Some(50) })?;
    if a.json {
        let v = serde_json::json!({ "device": record.device, "facts": record.facts,
            "ip_history": record.ip_ranges, "services": record.services,
            "overrides": overrides, "events": events });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    let d = &record.device;
    writeln!(out, "Device {}  ({})", d.id, d.state.as_str())?;
    if let Some(desc) = &d.description {
        writeln!(out, "  {desc}")?;
    }
    writeln!(out, "  keys       {}", list(&d.keys, 16))?;
    writeln!(out, "  VLANs      {}", list(&d.vlans, 16))?;
    writeln!(out, "  seen       {} .. {}", d.first_seen, d.last_seen)?;
    if d.randomized_mac {
        writeln!(out, "  MAC is locally administered (may be randomised): not merged on the MAC alone")?;
    }
    if d.router {
        writeln!(out, "  forwards for many addresses (router, firewall or NAT)")?;
    }
    for (name, f) in d.classification.iter() {
        match f {
            Some(f) => writeln!(out, "  {name:<10} {}  [{} @{}]", f.value, f.source, f.confidence)?,
            None => writeln!(out, "  {name:<10} -")?,
        }
    }
    writeln!(out, "\nFacts (key, value, evidence, confidence, first .. last seen)")?;
    for f in &record.facts {
        writeln!(
            out,
            "  {:<24} {:<40} {:<36} {:>3}  {} .. {}",
            f.key,
            fit(&f.value, 40),
            fit(&f.source, 36),
            f.confidence,
            f.first_seen,
            f.last_seen
        )?;
    }
    writeln!(out, "\nAddresses over time")?;
    for r in &record.ip_ranges {
        writeln!(out, "  {:<40} {} .. {}", r.ip, r.first_seen, r.last_seen)?;
    }
    writeln!(out, "\nServices it offers")?;
    for s in &record.services {
        writeln!(
            out,
            "  {}/{:<6} {:<10} {:>8} flows  {} .. {}",
            IpProto(s.proto).name(),
            s.port,
            s.app.as_deref().unwrap_or("-"),
            s.flows,
            s.first_seen,
            s.last_seen
        )?;
    }
    if !overrides.is_empty() {
        writeln!(out, "\nOverrides")?;
        for o in &overrides {
            writeln!(out, "  {} = {}  (by {} at {})", o.key, o.value, o.set_by, o.set_at)?;
        }
    }
    writeln!(out, "\nEvents")?;
    for e in &events {
        writeln!(out, "  {}", event_line(e, false))?;
    }
    Ok(())
}

fn peers(a: ShowArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    let id = resolve(&store, &a.device)?;
    let peers = store.peers(id)?;
    if a.json {
        serde_json::to_writer(&mut *out, &peers)?;
        writeln!(out)?;
    } else if a.csv {
        writeln!(out, "device,peer,direction,proto,port,app,flows,packets,bytes,first_hour,last_hour")?;
        for p in &peers {
            writeln!(
                out,
                "{id},{},{},{},{},{},{},{},{},{},{}",
                p.peer,
                if p.initiated { "out" } else { "in" },
                IpProto(p.proto).name(),
                p.port,
                csv_field(&p.app),
                p.flows,
                p.packets,
                p.bytes,
                p.first_hour * 3600,
                p.last_hour * 3600
            )?;
        }
    } else {
        writeln!(
            out,
            "{:>6} {:<4} {:<12} {:<10} {:>8} {:>10} {:>12}",
            "peer", "dir", "service", "app", "flows", "packets", "bytes"
        )?;
        for p in &peers {
            writeln!(
                out,
                "{:>6} {:<4} {:<12} {:<10} {:>8} {:>10} {:>12}",
                p.peer,
                if p.initiated { "out" } else { "in" },
                format!("{}/{}", IpProto(p.proto).name(), p.port),
                if p.app.is_empty() { "-" } else { p.app.as_str() },
                p.flows,
                p.packets,
                p.bytes
            )?;
        }
        writeln!(out, "{} peer service(s)", peers.len())?;
    }
    Ok(())
}

fn events(a: EventsArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    let device = a.device.as_deref().map(|d| resolve(&store, d)).transpose()?;
    let kind = a.kind.as_deref().map(str::parse::<EventKind>).transpose().map_err(anyhow::Error::msg)?;
    let events = store.events(&EventQuery { device, kind, limit: Some(a.limit) })?;
    if a.json {
        serde_json::to_writer(&mut *out, &events)?;
        writeln!(out)?;
        return Ok(());
    }
    for e in &events {
        writeln!(out, "{}", event_line(e, true))?;
    }
    Ok(())
}

fn export(a: ExportArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    if a.csv {
        writeln!(out, "{CSV_HEADER}")?;
        for d in store.list(&DeviceQuery::default())? {
            writeln!(out, "{}", csv_row(&d))?;
        }
        return Ok(());
    }
    // One device per line within one JSON array, written as it goes.
    let snap = store.snapshot()?;
    writeln!(out, "[")?;
    for (i, r) in snap.devices.iter().enumerate() {
        let overrides: Vec<&Override> = snap.overrides.iter().filter(|o| o.device == r.device.id).collect();
        let v = serde_json::json!({ "device": r.device, "facts": r.facts, "ip_history": r.ip_ranges,
            "services": r.services, "overrides": overrides });
        if i > 0 {
            writeln!(out, ",")?;
        }
        serde_json::to_writer(&mut *out, &v)?;
    }
    writeln!(out, "\n]")?;
    Ok(())
}

fn set(a: SetArgs, out: &mut impl Write) -> Result<()> {
    let store = open(&a.db.db)?;
    let id = resolve(&store, &a.device)?;
    let by = a.by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".to_owned());
    // Every pair is checked before any is written.
    let mut pairs = Vec::new();
    for p in &a.pairs {
        let (k, v) = p.split_once('=').with_context(|| format!("{p:?} is not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if !Classification::FIELDS.contains(&k) && !OTHER_KEYS.contains(&k) {
            bail!(
                "unknown key {k:?}: one of {} or {}",
                Classification::FIELDS.join(", "),
                OTHER_KEYS.join(", ")
            );
        }
        if !v.is_empty() {
            match k {
                "state" => {
                    v.parse::<Lifecycle>().map_err(anyhow::Error::msg)?;
                }
                "criticality" => {
                    v.parse::<Criticality>().map_err(anyhow::Error::msg)?;
                }
                "class" if ward_inventory::classify::class_info(v).is_none() => {
                    bail!("unknown class {v:?} (see docs/taxonomy.md)")
                }
                _ => {}
            }
        }
        pairs.push((k.to_owned(), v.to_owned()));
    }
    for (key, value) in pairs {
        if value.is_empty() {
            let had = store.clear_override(id, &key)?;
            writeln!(out, "device {id}: {key} {}", if had { "override removed" } else { "had no override" })?;
        } else {
            let o = Override {
                device: id,
                key: key.clone(),
                value: value.clone(),
                set_by: by.clone(),
                set_at: ward_core::Timestamp::now(),
            };
            store.set_override(&o)?;
            writeln!(out, "device {id}: {key} = {value} (override by {by})")?;
        }
    }
    Ok(())
}
