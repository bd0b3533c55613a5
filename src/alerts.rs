//! `ward alerts`: what detection raised, and what people do about it (acknowledge, close,
//! suppress). The store answers; this file asks and prints.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ward_core::{DeviceId, Suppression, Timestamp};
use ward_store::{AlertQuery, DeviceRef};

use crate::report::alert_line;

#[derive(clap::Subcommand)]
pub(crate) enum AlertsCommand {
    /// Alerts, newest first.
    List(ListArgs),
    /// Marks alerts acknowledged: a person is on it.
    Ack(StateArgs),
    /// Closes alerts; an alike one later opens a new alert.
    Close(StateArgs),
    /// Opens closed or acknowledged alerts again.
    Reopen(StateArgs),
    /// Keeps matching alerts from being raised until the rule expires.
    Suppress(SuppressArgs),
    /// Suppression rules, expired ones too.
    Suppressions(DbJson),
    /// Removes a suppression rule.
    Unsuppress(UnsuppressArgs),
}

#[derive(clap::Args)]
pub(crate) struct DbJson {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    db: DbJson,
    /// Only this state: open, acknowledged, closed.
    #[arg(long)]
    state: Option<String>,
    /// Only this kind (intel_match, new_external_peer, scan, ...).
    #[arg(long)]
    kind: Option<String>,
    /// Only about this device (number, MAC or address).
    #[arg(long)]
    device: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u64,
}

#[derive(clap::Args)]
pub(crate) struct StateArgs {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Alert numbers.
    #[arg(required = true)]
    ids: Vec<i64>,
}

#[derive(clap::Args)]
pub(crate) struct SuppressArgs {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// The alert kind, or * for every kind.
    #[arg(long)]
    kind: String,
    /// Only about this device (number, MAC or address).
    #[arg(long)]
    device: Option<String>,
    /// Only when the other end is in this network or is this address.
    #[arg(long, value_name = "CIDR")]
    peer: Option<String>,
    /// Only for this indicator.
    #[arg(long)]
    indicator: Option<String>,
    /// Who asks for it (required: every suppression has an owner).
    #[arg(long)]
    owner: String,
    /// Why.
    #[arg(long)]
    reason: String,
    /// How many days it holds (default 30; at most 365).
    #[arg(long, default_value_t = 30.0)]
    days: f64,
}

#[derive(clap::Args)]
pub(crate) struct UnsuppressArgs {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// The suppression's number.
    id: i64,
}

fn device(store: &ward_store::Blocking, d: &str) -> Result<DeviceId> {
    let r: DeviceRef = d.parse().map_err(anyhow::Error::msg)?;
    store.resolve(r)?.with_context(|| format!("no device {d} in the inventory"))
}

pub(crate) fn run(cmd: AlertsCommand, out: &mut impl Write) -> Result<()> {
    match cmd {
        AlertsCommand::List(a) => {
            let store = crate::inventory::open(&a.db.db)?;
            if let Some(s) = &a.state
                && !matches!(s.as_str(), "open" | "acknowledged" | "closed")
            {
                bail!("--state {s:?}: open, acknowledged or closed");
            }
            let device = a.device.as_deref().map(|d| device(&store, d)).transpose()?;
            let alerts = store.alert_query(&AlertQuery {
                state: a.state,
                kind: a.kind,
                device,
                limit: Some(a.limit),
            })?;
            if a.db.json {
                serde_json::to_writer(&mut *out, &alerts)?;
                writeln!(out)?;
            } else {
                for al in &alerts {
                    writeln!(out, "{:>6} {:<12} {}", al.id, al.state, alert_line(al))?;
                }
                if alerts.is_empty() {
                    writeln!(out, "no alerts")?;
                }
            }
        }
        AlertsCommand::Ack(a) | AlertsCommand::Close(a) | AlertsCommand::Reopen(a) if a.ids.is_empty() => {
            bail!("name the alerts by number")
        }
        AlertsCommand::Ack(a) => set_state(a, "acknowledged", out)?,
        AlertsCommand::Close(a) => set_state(a, "closed", out)?,
        AlertsCommand::Reopen(a) => set_state(a, "open", out)?,
        AlertsCommand::Suppress(a) => {
            anyhow::ensure!(
                a.days.is_finite() && a.days > 0.0 && a.days <= 365.0,
                "--days must be more than 0 and at most 365: a suppression always expires"
            );
            let store = crate::inventory::open(&a.db)?;
            let device = a.device.as_deref().map(|d| device(&store, d)).transpose()?;
            let created = Timestamp::now();
            let s = Suppression {
                id: 0,
                kind: a.kind,
                device,
                peer: a.peer,
                indicator: a.indicator,
                owner: a.owner,
                reason: a.reason,
                created,
                expires: created.add_nanos((a.days * 86_400.0 * 1e9) as u64),
            };
            let id = store.add_suppression(&s)?;
            writeln!(out, "suppression {id} holds until {}", s.expires)?;
        }
        AlertsCommand::Suppressions(a) => {
            let store = crate::inventory::open(&a.db)?;
            let list = store.suppressions()?;
            if a.json {
                serde_json::to_writer(&mut *out, &list)?;
                writeln!(out)?;
            } else {
                let now = Timestamp::now();
                for s in &list {
                    writeln!(
                        out,
                        "{:>4} {:<8} kind={} device={} peer={} indicator={} owner={} until {} ({})",
                        s.id,
                        if now < s.expires { "active" } else { "expired" },
                        s.kind,
                        s.device.map(|d| d.0.to_string()).unwrap_or_else(|| "*".into()),
                        s.peer.as_deref().unwrap_or("*"),
                        s.indicator.as_deref().unwrap_or("*"),
                        s.owner,
                        s.expires,
                        s.reason
                    )?;
                }
            }
        }
        AlertsCommand::Unsuppress(a) => {
            let store = crate::inventory::open(&a.db)?;
            if !store.remove_suppression(a.id)? {
                bail!("no suppression {}", a.id);
            }
            writeln!(out, "suppression {} removed", a.id)?;
        }
    }
    Ok(())
}

fn set_state(a: StateArgs, state: &str, out: &mut impl Write) -> Result<()> {
    let store = crate::inventory::open(&a.db)?;
    let mut missing = Vec::new();
    for id in &a.ids {
        if !store.set_alert_state(*id, state)? {
            missing.push(id.to_string());
        }
    }
    writeln!(out, "{} alert(s) {state}", a.ids.len() - missing.len())?;
    if !missing.is_empty() {
        bail!("no alert {}", missing.join(", "));
    }
    Ok(())
}
