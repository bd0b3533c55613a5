//! `ward policy`: the segmentation policy against the inventory (check), against a capture
//! (simulate), drawn from observed traffic (suggest), compiled to nftables (compile) and
//! loaded (apply). The policy crate decides; this file reads the store, asks and prints.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use ward_capture::{CaptureReader, CaptureSet, ReaderOptions};
use ward_core::{DeviceRecord, Finding, Lifecycle, ObservationKind, Timestamp};
use ward_dissect::Registry;
use ward_enforce::Nft;
use ward_engine::{Engine, EngineConfig};
use ward_policy::check::{CheckReport, Conversation, service_name};
use ward_policy::nft::NftOptions;
use ward_policy::{Action, Context as PolicyContext, DeviceInfo, Policy, Reason};
use ward_sensor::{Sensor, SensorConfig};
use ward_store::Blocking;

use crate::report::fit;

#[derive(clap::Subcommand)]
pub(crate) enum PolicyCommand {
    /// The inventory and its communication map against the policy: devices outside their
    /// segments, denied conversations, peers off an allowlist or on a denylist. Exits 1 when
    /// there are violations. Violations are kept as findings (kind `policy`).
    Check(CheckArgs),
    /// What the policy would block in a capture, grouped by device class and application:
    /// read it before enforcing.
    Simulate(SimulateArgs),
    /// A least-privilege policy from the observed communication map, to edit.
    Suggest(SuggestArgs),
    /// The policy as a firewall ruleset.
    Compile(CompileArgs),
    /// Compiles, checks with `nft -c`, keeps the table it replaces, and loads it atomically.
    Apply(ApplyArgs),
    /// Loads the table that the last apply replaced.
    Rollback(RollbackArgs),
    /// Counters of every rule of Ward's table, as the kernel has them.
    Counters(TableArgs),
}

#[derive(clap::Args)]
pub(crate) struct PolicyArgs {
    /// The policy file (see docs/policy.md).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The inventory database: device classes, vendors and addresses that rules name.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    p: PolicyArgs,
    /// Do not keep the violations as findings.
    #[arg(long)]
    no_record: bool,
}

#[derive(clap::Args)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    p: PolicyArgs,
    /// Capture files to replay against the policy.
    #[arg(long = "capture", value_name = "FILE", required = true)]
    captures: Vec<PathBuf>,
    /// Worker threads for reading the captures.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// List every conversation with its decision (JSON only), not just the groups.
    #[arg(long)]
    all: bool,
}

#[derive(clap::Args)]
pub(crate) struct SuggestArgs {
    /// A policy whose segments to keep (its rules are not used).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Write the suggestion here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
pub(crate) struct TableArgs {
    /// Ward's table (family inet).
    #[arg(long, default_value = "ward", value_parser = table_name)]
    table: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Run nft inside this network namespace (`ip netns exec NS nft ...`).
    #[arg(long, value_name = "NS")]
    netns: Option<String>,
}

fn table_name(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(s.to_owned()) } else { Err("a table name is letters, digits and _, at most 32".into()) }
}

#[derive(clap::Args)]
pub(crate) struct CompileArgs {
    #[command(flatten)]
    p: PolicyArgs,
    /// What to compile for.
    #[arg(long, default_value = "nftables", value_parser = ["nftables"])]
    target: String,
    /// Log what would be dropped, and let it pass.
    #[arg(long)]
    monitor: bool,
    /// Ward's table (family inet).
    #[arg(long, default_value = "ward", value_parser = table_name)]
    table: String,
    /// The netfilter hook: forward (a router between segments), input or output (a host).
    #[arg(long, default_value = "forward", value_parser = ["forward", "input", "output"])]
    hook: String,
    /// Write the ruleset here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Interfaces (comma-separated) whose established, allowed conversations the kernel's
    /// flow offload forwards without the forward hook (router only; counters then stop at
    /// the conversation's first packets).
    #[arg(long, value_name = "IF,IF", value_delimiter = ',')]
    flowtable: Vec<String>,
}

#[derive(clap::Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    c: CompileArgs,
    /// Only compile and check it with `nft -c`.
    #[arg(long)]
    dry_run: bool,
    /// Where replaced tables are kept (default: ~/.local/state/ward/nft, or /var/lib/ward/nft).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Run nft inside this network namespace (`ip netns exec NS nft ...`).
    #[arg(long, value_name = "NS")]
    netns: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct RollbackArgs {
    /// Ward's table (family inet).
    #[arg(long, default_value = "ward", value_parser = table_name)]
    table: String,
    /// Where `apply` kept the table it replaced.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Run nft inside this network namespace (`ip netns exec NS nft ...`).
    #[arg(long, value_name = "NS")]
    netns: Option<String>,
}

pub(crate) fn run(cmd: PolicyCommand, out: &mut impl Write) -> Result<bool> {
    match cmd {
        PolicyCommand::Check(a) => check(a, out),
        PolicyCommand::Simulate(a) => simulate(a, out).map(|()| true),
        PolicyCommand::Suggest(a) => suggest(a, out).map(|()| true),
        PolicyCommand::Compile(a) => compile_cmd(a, out).map(|()| true),
        PolicyCommand::Apply(a) => apply(a, out).map(|()| true),
        PolicyCommand::Rollback(a) => {
            let nft = Nft {
                netns: a.netns,
                ..Nft::new(a.state_dir.unwrap_or_else(ward_enforce::default_state_dir))
            };
            nft.rollback(&a.table)?;
            writeln!(out, "rolled table inet {} back to the ruleset the last apply replaced", a.table)?;
            Ok(true)
        }
        PolicyCommand::Counters(a) => counters(a, out).map(|()| true),
    }
}

fn load_policy(path: &Path) -> Result<Policy> {
    let ctx = PolicyContext {
        classes: ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect(),
    };
    Policy::load(path, &ctx).map_err(|e| anyhow::anyhow!("{e}")).context("the policy has errors")
}

/// The inventory's devices as the policy sees them, with their records by id.
struct Inventory {
    devices: Vec<DeviceInfo>,
    records: HashMap<i64, DeviceRecord>,
}

fn device_info(r: &DeviceRecord) -> DeviceInfo {
    let d = &r.device;
    let c = &d.classification;
    let class = c.class.as_ref().map(|x| x.value.clone());
    let clinical = class
        .as_deref()
        .and_then(ward_inventory::classify::class_info)
        .is_some_and(|i| i.category == ward_inventory::classify::Category::Clinical);
    let mut label = vec![format!("#{}", d.id.0)];
    label.extend(class.clone());
    label.extend(c.vendor.as_ref().map(|v| v.value.clone()));
    label.extend(c.model.as_ref().map(|v| v.value.clone()));
    label.extend(d.ips.first().map(IpAddr::to_string));
    DeviceInfo {
        id: d.id.0,
        ips: d.ips.clone(),
        macs: d.macs.clone(),
        vlans: d.vlans.clone(),
        class,
        vendor: c.vendor.as_ref().map(|v| v.value.clone()),
        label: label.join(" "),
        clinical,
    }
}

fn load_inventory(db: &Path, required: bool) -> Result<Inventory> {
    if !db.exists() {
        if required {
            bail!("no inventory at {}: `ward analyze --db {} CAPTURE` makes one", db.display(), db.display());
        }
        return Ok(Inventory { devices: Vec::new(), records: HashMap::new() });
    }
    let store = crate::inventory::open(db)?;
    let snap = store.snapshot().context("reading the inventory")?;
    let records: HashMap<i64, DeviceRecord> = snap
        .devices
        .into_iter()
        .filter(|r| r.device.state != Lifecycle::Retired)
        .map(|r| (r.device.id.0, r))
        .collect();
    let mut devices: Vec<DeviceInfo> = records.values().map(device_info).collect();
    devices.sort_by_key(|d| d.id);
    Ok(Inventory { devices, records })
}

/// The address a device had during an hour of the map.
fn address_at(r: &DeviceRecord, hour: i64) -> Option<IpAddr> {
    let (from, to) = (
        Timestamp::from_secs((hour.max(0) as u64) * 3600),
        Timestamp::from_secs((hour.max(0) as u64 + 1) * 3600),
    );
    r.ip_ranges
        .iter()
        .filter(|x| x.first_seen < to && x.last_seen >= from)
        .max_by_key(|x| x.last_seen)
        .map(|x| x.ip)
        .or_else(|| r.device.ips.first().copied())
}

fn stored_conversations(store: &Blocking, inv: &Inventory) -> Result<Vec<Conversation>> {
    let edges = store.edges().context("reading the communication map")?;
    let mut out = Vec::with_capacity(edges.len());
    for e in edges {
        let (Some(a), Some(b)) = (inv.records.get(&e.initiator.0), inv.records.get(&e.responder.0)) else {
            continue;
        };
        let (Some(src), Some(dst)) = (address_at(a, e.hour), address_at(b, e.hour)) else { continue };
        let hour = e.hour.max(0) as u64 * 3600;
        out.push(Conversation {
            src,
            src_port: None,
            dst,
            proto: e.proto,
            port: e.port,
            app: (!e.app.is_empty()).then(|| e.app.clone()),
            first: Timestamp::from_secs(hour),
            last: Timestamp::from_secs(hour + 3599),
            flows: e.flows,
            answered: true,
        });
    }
    Ok(out)
}

fn write_warnings(out: &mut impl Write, policy: &Policy, warnings: &[ward_policy::Warning]) -> Result<()> {
    for w in warnings {
        writeln!(out, "warning: {}:{}: {}", policy.file, w.line, w.message)?;
    }
    Ok(())
}

fn check(a: CheckArgs, out: &mut impl Write) -> Result<bool> {
    let policy = load_policy(&a.p.policy)?;
    let inv = load_inventory(&a.p.db, true)?;
    let store = crate::inventory::open(&a.p.db)?;
    let conversations = stored_conversations(&store, &inv)?;
    let resolved = policy.resolve(&inv.devices);
    let report = resolved.check(&inv.devices, &conversations);
    if !a.no_record {
        store.replace_findings("policy", &findings(&report)).context("recording the violations")?;
    }
    if a.p.json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        write_check(out, &policy, &report)?;
    }
    Ok(report.violations.is_empty())
}

fn findings(report: &CheckReport) -> Vec<Finding> {
    let now = Timestamp::now();
    report
        .violations
        .iter()
        .filter_map(|v| {
            let device = ward_core::DeviceId(v.device?);
            let (first, last) = v.flow.as_ref().map_or((now, now), |f| (f.first, f.last));
            Some(Finding {
                device,
                kind: "policy".into(),
                reference: format!("{}:{}", v.kind.as_str(), v.key),
                severity: v.severity,
                detail: v.message.clone(),
                evidence: v.reason.as_ref().map_or_else(|| v.kind.as_str().to_owned(), Reason::to_string),
                first_seen: first,
                last_seen: last,
            })
        })
        .collect()
}

fn write_check(out: &mut impl Write, policy: &Policy, r: &CheckReport) -> Result<()> {
    writeln!(
        out,
        "Policy {:?} ({}): {} segments, {} rules, {} device lists",
        policy.name,
        policy.file,
        policy.segments.len(),
        policy.rules.len(),
        policy.devices.len()
    )?;
    writeln!(
        out,
        "Checked {} devices and {} conversations: {} allowed, {} violation{}",
        r.devices,
        r.conversations,
        r.allowed,
        r.violations.len(),
        if r.violations.len() == 1 { "" } else { "s" }
    )?;
    if !r.violations.is_empty() {
        writeln!(out, "\n{:<16} {:<8} {:<40} WHAT", "KIND", "SEVERITY", "DEVICE")?;
        for v in &r.violations {
            writeln!(
                out,
                "{:<16} {:<8} {:<40} {}",
                v.kind.as_str(),
                v.severity.as_str(),
                fit(&v.label, 40),
                v.message
            )?;
        }
    }
    if !r.warnings.is_empty() {
        writeln!(out)?;
        write_warnings(out, policy, &r.warnings)?;
    }
    Ok(())
}

/// One group of the simulation: conversations of one device class and application.
#[derive(Serialize)]
struct SimGroup {
    class: String,
    application: String,
    conversations: u64,
    blocked: u64,
    /// Why they would be blocked, most common first.
    reasons: Vec<(String, u64)>,
    /// A few of the blocked ones.
    examples: Vec<String>,
}

#[derive(Serialize)]
struct SimDecision {
    #[serde(flatten)]
    conversation: Conversation,
    action: Action,
    reason: Reason,
}

#[derive(Serialize)]
struct Simulation {
    policy: String,
    captures: Vec<String>,
    conversations: u64,
    allowed: u64,
    blocked: u64,
    groups: Vec<SimGroup>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    decisions: Vec<SimDecision>,
    warnings: Vec<ward_policy::Warning>,
}

const EXAMPLES_PER_GROUP: usize = 5;

fn simulate(a: SimulateArgs, out: &mut impl Write) -> Result<()> {
    let policy = load_policy(&a.p.policy)?;
    let mut inv = load_inventory(&a.p.db, false)?;
    // The capture's own devices, classified by the same rules, for addresses the inventory
    // does not hold; nothing is written.
    let mut engine: Engine<ward_store::SqliteStore> =
        Engine::open(None, ward_inventory::classify::Rules::builtin(), EngineConfig::default())
            .context("starting the engine")?;
    let mut readers = Vec::new();
    for path in &a.captures {
        readers.push(
            CaptureReader::open_with(path, ReaderOptions::default())
                .with_context(|| format!("opening {}", path.display()))?,
        );
    }
    let mut cfg = SensorConfig::default();
    if let Some(n) = a.threads {
        anyhow::ensure!(n >= 1, "--threads must be at least 1");
        cfg.threads = n;
    }
    let mut set = CaptureSet::new(readers);
    let mut flows: Vec<Conversation> = Vec::new();
    let report = Sensor::new(cfg, Registry::builtin()).run(&mut set, |batch| {
        for o in &batch {
            if let ObservationKind::FlowEnd(r) = &o.kind {
                flows.push(Conversation {
                    src: r.initiator.ip,
                    src_port: r.proto.has_ports().then_some(r.initiator.port),
                    dst: r.responder.ip,
                    proto: r.proto.0,
                    port: if r.proto.has_ports() { r.responder.port } else { 0 },
                    app: r.app.as_deref().map(str::to_owned),
                    first: r.start,
                    last: r.end,
                    flows: 1,
                    answered: r.packets[1] > 0,
                });
            }
        }
        engine.observe(&batch);
    });
    if let Some(f) = report.files.iter().find(|f| f.error.is_some()) {
        bail!("{}", f.error.as_deref().unwrap_or_default());
    }
    let outcome =
        engine.finish(ward_store::Import::default()).context("classifying the capture's devices")?;
    let known: std::collections::HashSet<IpAddr> =
        inv.devices.iter().flat_map(|d| d.ips.iter().copied()).collect();
    for (n, d) in outcome.devices.iter().enumerate() {
        let ips: Vec<IpAddr> = d.ips.iter().copied().filter(|ip| !known.contains(ip)).collect();
        if ips.is_empty() || d.router {
            continue;
        }
        let class = d.classification.class.as_ref().map(|c| c.value.clone());
        inv.devices.push(DeviceInfo {
            id: -1 - n as i64,
            label: format!("{} {}", class.as_deref().unwrap_or("unclassified"), ips[0]),
            ips,
            macs: d.macs.clone(),
            vlans: d.vlans.clone(),
            class,
            vendor: d.classification.vendor.as_ref().map(|v| v.value.clone()),
            clinical: false,
        });
    }
    let class_of: HashMap<IpAddr, String> = inv
        .devices
        .iter()
        .flat_map(|d| d.ips.iter().map(move |ip| (*ip, d.class.clone().unwrap_or_default())))
        .collect();
    let resolved = policy.resolve(&inv.devices);
    flows.sort_by_key(|x| (x.first, x.src, x.dst, x.src_port));
    let mut groups: BTreeMap<(String, String), SimGroup> = BTreeMap::new();
    let mut reasons: HashMap<(String, String), HashMap<String, u64>> = HashMap::new();
    let (mut allowed, mut blocked) = (0, 0);
    let mut decisions = Vec::new();
    for c in flows {
        let d = resolved.decide(c.src, c.dst, c.proto, c.port);
        let class =
            class_of.get(&c.src).filter(|c| !c.is_empty()).cloned().unwrap_or_else(|| "unclassified".into());
        let app = c.app.clone().unwrap_or_else(|| service_name(c.proto, c.port));
        let key = (class.clone(), app.clone());
        let g = groups.entry(key.clone()).or_insert_with(|| SimGroup {
            class,
            application: app,
            conversations: 0,
            blocked: 0,
            reasons: Vec::new(),
            examples: Vec::new(),
        });
        g.conversations += 1;
        if d.action == Action::Deny {
            blocked += 1;
            g.blocked += 1;
            *reasons.entry(key).or_default().entry(d.reason.to_string()).or_default() += 1;
            if g.examples.len() < EXAMPLES_PER_GROUP {
                g.examples.push(format!(
                    "{} {}{} > {} {} ({})",
                    c.first,
                    c.src,
                    c.src_port.map(|p| format!(":{p}")).unwrap_or_default(),
                    c.dst,
                    service_name(c.proto, c.port),
                    d.reason
                ));
            }
        } else {
            allowed += 1;
        }
        if a.all {
            decisions.push(SimDecision { conversation: c, action: d.action, reason: d.reason });
        }
    }
    let mut groups: Vec<SimGroup> = groups
        .into_iter()
        .map(|(k, mut g)| {
            let mut r: Vec<(String, u64)> = reasons.remove(&k).unwrap_or_default().into_iter().collect();
            r.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            g.reasons = r;
            g
        })
        .collect();
    groups.sort_by(|x, y| {
        y.blocked.cmp(&x.blocked).then_with(|| (&x.class, &x.application).cmp(&(&y.class, &y.application)))
    });
    let sim = Simulation {
        policy: policy.file.clone(),
        captures: a.captures.iter().map(|p| p.display().to_string()).collect(),
        conversations: allowed + blocked,
        allowed,
        blocked,
        groups,
        decisions,
        warnings: resolved.warnings.clone(),
    };
    if a.p.json {
        serde_json::to_writer(&mut *out, &sim)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "Policy {:?} on {}: {} conversations, {} would pass, {} would be blocked",
        policy.name,
        sim.captures.join(" "),
        sim.conversations,
        allowed,
        blocked
    )?;
    let blocking: Vec<&SimGroup> = sim.groups.iter().filter(|g| g.blocked > 0).collect();
    if !blocking.is_empty() {
        writeln!(out, "\n{:<28} {:<16} {:>9} {:>9}  WHY", "CLASS", "APPLICATION", "BLOCKED", "OF")?;
        for g in blocking {
            let why = g.reasons.first().map(|r| r.0.as_str()).unwrap_or_default();
            writeln!(
                out,
                "{:<28} {:<16} {:>9} {:>9}  {why}",
                fit(&g.class, 28),
                fit(&g.application, 16),
                g.blocked,
                g.conversations
            )?;
            for e in &g.examples {
                writeln!(out, "    {e}")?;
            }
        }
    }
    if !sim.warnings.is_empty() {
        writeln!(out)?;
        write_warnings(out, &policy, &sim.warnings)?;
    }
    Ok(())
}

fn suggest(a: SuggestArgs, out: &mut impl Write) -> Result<()> {
    let base = a.policy.as_deref().map(load_policy).transpose()?;
    let inv = load_inventory(&a.db, true)?;
    let store = crate::inventory::open(&a.db)?;
    let conversations = stored_conversations(&store, &inv)?;
    let text = ward_policy::suggest::suggest(base.as_ref(), &inv.devices, &conversations);
    match a.output {
        None => out.write_all(text.as_bytes())?,
        Some(path) => {
            if path.exists() && !a.force {
                bail!("{} exists; --force replaces it", path.display());
            }
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            writeln!(out, "wrote {} ({} rules)", path.display(), text.matches("[[rule]]").count())?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Compiled {
    table: String,
    monitor: bool,
    bytes: usize,
    devices: usize,
    segments: usize,
    rules: usize,
    compile_secs: f64,
    warnings: Vec<ward_policy::Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ruleset: Option<String>,
}

fn compile(a: &CompileArgs) -> Result<(Policy, Compiled, String)> {
    let policy = load_policy(&a.p.policy)?;
    let inv = load_inventory(&a.p.db, false)?;
    let start = Instant::now();
    let resolved = policy.resolve(&inv.devices);
    for d in &a.flowtable {
        anyhow::ensure!(
            !d.is_empty()
                && d.len() < 16
                && d.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)),
            "--flowtable {d:?} is not an interface name"
        );
    }
    let opts = NftOptions {
        table: a.table.clone(),
        monitor: a.monitor,
        hook: a.hook.clone(),
        priority: 0,
        flowtable: a.flowtable.clone(),
    };
    let text = resolved.compile_nft(&opts);
    let info = Compiled {
        table: a.table.clone(),
        monitor: a.monitor,
        bytes: text.len(),
        devices: inv.devices.len(),
        segments: policy.segments.len(),
        rules: policy.rules.len(),
        compile_secs: start.elapsed().as_secs_f64(),
        warnings: resolved.warnings.clone(),
        ruleset: None,
    };
    Ok((policy, info, text))
}

fn compile_cmd(a: CompileArgs, out: &mut impl Write) -> Result<()> {
    let (policy, mut info, text) = compile(&a)?;
    match &a.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            if a.p.json {
                serde_json::to_writer(&mut *out, &info)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "wrote {} ({} bytes) in {:.3} s",
                    path.display(),
                    info.bytes,
                    info.compile_secs
                )?;
                write_warnings(out, &policy, &info.warnings)?;
            }
        }
        None if a.p.json => {
            info.ruleset = Some(text);
            serde_json::to_writer(&mut *out, &info)?;
            writeln!(out)?;
        }
        None => {
            out.write_all(text.as_bytes())?;
            let mut err = std::io::stderr().lock();
            write_warnings(&mut err, &policy, &info.warnings)?;
        }
    }
    Ok(())
}

fn apply(a: ApplyArgs, out: &mut impl Write) -> Result<()> {
    let nft = Nft {
        netns: a.netns.clone(),
        ..Nft::new(a.state_dir.clone().unwrap_or_else(ward_enforce::default_state_dir))
    };
    let (policy, info, text) = compile(&a.c)?;
    if let Some(path) = &a.c.output {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if a.dry_run {
        nft.check(&text)?;
        if a.c.p.json {
            serde_json::to_writer(&mut *out, &info)?;
            writeln!(out)?;
        } else {
            writeln!(out, "nft accepts the ruleset ({} bytes); nothing was loaded", info.bytes)?;
        }
        return Ok(());
    }
    let start = Instant::now();
    let applied = nft.apply(&a.c.table, &text)?;
    let load_secs = start.elapsed().as_secs_f64();
    if a.c.p.json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            compiled: &'a Compiled,
            applied: &'a ward_enforce::Applied,
            load_secs: f64,
        }
        serde_json::to_writer(&mut *out, &Out { compiled: &info, applied: &applied, load_secs })?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "loaded table inet {} ({} bytes{}) in {:.3} s{}",
            applied.table,
            applied.bytes,
            if a.c.monitor { ", monitor mode" } else { "" },
            load_secs,
            applied
                .previous
                .as_deref()
                .map(|p| format!("; the previous table is kept in {p}"))
                .unwrap_or_default()
        )?;
        write_warnings(out, &policy, &info.warnings)?;
    }
    Ok(())
}

fn counters(a: TableArgs, out: &mut impl Write) -> Result<()> {
    let nft = Nft { netns: a.netns, ..Nft::new(ward_enforce::default_state_dir()) };
    let c = nft.counters(&a.table)?;
    if a.json {
        serde_json::to_writer(&mut *out, &c)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{:<36} {:<40} {:>12} {:>14}", "CHAIN", "RULE", "PACKETS", "BYTES")?;
        for r in c.iter().filter(|r| r.packets > 0) {
            writeln!(
                out,
                "{:<36} {:<40} {:>12} {:>14}",
                fit(&r.chain, 36),
                fit(&r.rule, 40),
                r.packets,
                r.bytes
            )?;
        }
    }
    Ok(())
}
