//! Enforcement at the edge: Ward's nftables table.
//!
//! [`Nft`] drives the `nft` program. [`Nft::apply`] checks a compiled ruleset first
//! (`nft -c`), refuses to replace a table of the same name that Ward does not own (its
//! comment lacks [`ward_policy::nft::OWNER_MARK`]), keeps the table it replaces for
//! [`Nft::rollback`], and loads the new one in one transaction (`nft -f`: the file creates,
//! deletes and defines the table, so packets meet either the old table or the new one).
//! Nothing outside the named table is read for writing or touched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use ward_policy::nft::{BLOCK_SET, OWNER_MARK, QUARANTINE_SET};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    /// `nft` could not be started.
    #[error("cannot run {program}: {source} (install Debian's nftables package)")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// `nft` refused the ruleset or the command.
    #[error("nft {what} failed: {message}")]
    Nft {
        /// What was asked.
        what: String,
        /// What nft said.
        message: String,
    },
    /// The table exists and is not Ward's.
    #[error(
        "table inet {0} exists and is not managed by Ward (its comment lacks {OWNER_MARK:?}); \
         choose another --table or remove it yourself"
    )]
    NotOwned(String),
    /// There is nothing to roll back to.
    #[error("no previous ruleset of table inet {0} was kept in {1}")]
    NothingToRollBack(String, String),
    /// Reading or writing the state directory.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, EnforceError>;

/// The `nft` program and where Ward keeps what it replaced.
#[derive(Clone, Debug)]
pub struct Nft {
    /// The program (`nft`).
    pub program: PathBuf,
    /// Where previous rulesets are kept, one file per table.
    pub state_dir: PathBuf,
    /// A network namespace to run `nft` in (`ip netns exec NS nft ...`), for a gateway that
    /// lives in one, and for tests.
    pub netns: Option<String>,
}

/// What [`Nft::apply`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The table.
    pub table: String,
    /// Whether a previous Ward table was replaced (and kept for rollback).
    pub replaced: bool,
    /// Where the previous table was kept.
    pub previous: Option<String>,
    /// Bytes of ruleset loaded.
    pub bytes: usize,
    /// Blocked and quarantined addresses carried over from the table replaced.
    pub blocks_kept: usize,
}

/// A counter of one rule of Ward's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCounter {
    /// The chain.
    pub chain: String,
    /// The rule's comment (`rule no-telnet`, `device allowlist`), or its handle.
    pub rule: String,
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted.
    pub bytes: u64,
}

impl Nft {
    /// `nft` from `PATH`, previous rulesets kept in `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Nft {
        Nft { program: PathBuf::from("nft"), state_dir: state_dir.into(), netns: None }
    }

    fn run(&self, what: &str, args: &[&str], stdin: Option<&str>) -> Result<String> {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = cmd
            .spawn()
            .map_err(|source| EnforceError::Spawn { program: self.program.display().to_string(), source })?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A write error shows as nft's own failure below.
            let _ = pipe.write_all(text.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|source| EnforceError::Spawn { program: self.program.display().to_string(), source })?;
        if !out.status.success() {
            let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(EnforceError::Nft {
                what: what.to_owned(),
                message: if message.is_empty() { format!("exit status {}", out.status) } else { message },
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Checks a ruleset without loading it (`nft -c -f -`).
    pub fn check(&self, ruleset: &str) -> Result<()> {
        self.run("check (-c)", &["-c", "-f", "-"], Some(ruleset)).map(drop)
    }

    /// The table as `nft list` prints it, if it exists.
    pub fn current(&self, table: &str) -> Result<Option<String>> {
        match self.run("list table", &["list", "table", "inet", table], None) {
            Ok(text) => Ok(Some(text)),
            Err(EnforceError::Nft { message, .. }) if message.contains("No such file or directory") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn previous_path(&self, table: &str) -> PathBuf {
        self.state_dir.join(format!("{table}.previous.nft"))
    }

    /// Checks `ruleset` (which must define `table inet <table>` as the compiler writes it),
    /// keeps the Ward table it replaces, and loads it in one transaction.
    pub fn apply(&self, table: &str, ruleset: &str) -> Result<Applied> {
        if !ruleset.contains(&format!("table inet {table} {{")) || !ruleset.contains(OWNER_MARK) {
            return Err(EnforceError::Nft {
                what: "apply".into(),
                message: format!("the ruleset does not define Ward's table inet {table}"),
            });
        }
        let current = self.current(table)?;
        if let Some(text) = &current
            && !owned(text)
        {
            return Err(EnforceError::NotOwned(table.to_owned()));
        }
        self.check(ruleset)?;
        // What to go back to: the table as it was, or (an empty file) no table at all.
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| EnforceError::Io(self.state_dir.display().to_string(), e))?;
        let path = self.previous_path(table);
        let tmp = path.with_extension("tmp");
        let kept = current.as_deref().map(|text| replacing(table, text)).unwrap_or_default();
        std::fs::write(&tmp, kept)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| EnforceError::Io(path.display().to_string(), e))?;
        let previous = current.is_some().then(|| path.display().to_string());
        // Blocks and quarantines live in the table with their own timeouts: a new policy
        // must not lift them. They are added again, with what remains of their time, in the
        // same transaction.
        let mut text = ruleset.to_owned();
        let mut kept = 0;
        if current.is_some() {
            for set in live_sets() {
                let elements = self.live_elements(table, &set)?;
                if !elements.is_empty() && ruleset.contains(&format!("set {set} {{")) {
                    kept += elements.len();
                    text.push_str(&format!("add element inet {table} {set} {{ {} }}\n", elements.join(", ")));
                }
            }
        }
        self.run("load (-f)", &["-f", "-"], Some(&text))?;
        Ok(Applied {
            table: table.to_owned(),
            replaced: current.is_some(),
            previous,
            bytes: ruleset.len(),
            blocks_kept: kept,
        })
    }

    /// The elements of one of Ward's timed sets, each as `addr timeout Ns` with what remains
    /// of its time.
    pub fn live_elements(&self, table: &str, set: &str) -> Result<Vec<String>> {
        let text = match self.run("list set (-j)", &["-j", "list", "set", "inet", table, set], None) {
            Ok(t) => t,
            Err(EnforceError::Nft { message, .. }) if message.contains("No such file or directory") => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        parse_elements(&text).map_err(|message| EnforceError::Nft { what: "list set (-j)".into(), message })
    }

    /// Makes `set` (one of [`ward_policy::nft::BLOCK_SET`] or `QUARANTINE_SET`, with its
    /// `_v4`/`_v6` suffix) hold exactly `elements` (addresses, networks, `a-b` ranges), each
    /// for `timeout_secs`, in one transaction. Returns how many were loaded.
    pub fn set_timed(&self, table: &str, set: &str, elements: &[String], timeout_secs: u64) -> Result<usize> {
        if !live_sets().iter().any(|s| s == set) {
            return Err(EnforceError::Nft {
                what: "set".into(),
                message: format!("{set} is not one of Ward's timed sets"),
            });
        }
        match self.current(table)? {
            None => {
                return Err(EnforceError::Nft {
                    what: "set".into(),
                    message: format!("table inet {table} is not loaded: `ward policy apply` first"),
                });
            }
            Some(t) if !owned(&t) => return Err(EnforceError::NotOwned(table.to_owned())),
            Some(_) => {}
        }
        let timeout = timeout_secs.max(1);
        let mut text = format!("flush set inet {table} {set}\n");
        // Large sets go in chunks of one statement each, still one transaction.
        for chunk in elements.chunks(4096) {
            let list: Vec<String> = chunk.iter().map(|e| format!("{e} timeout {timeout}s")).collect();
            text.push_str(&format!("add element inet {table} {set} {{ {} }}\n", list.join(", ")));
        }
        self.run("load (-f)", &["-f", "-"], Some(&text))?;
        Ok(elements.len())
    }

    /// Loads the table [`Nft::apply`] last replaced (removes Ward's table when there was none).
    pub fn rollback(&self, table: &str) -> Result<()> {
        let path = self.previous_path(table);
        let text = std::fs::read_to_string(&path).map_err(|_| {
            EnforceError::NothingToRollBack(table.to_owned(), self.state_dir.display().to_string())
        })?;
        if let Some(current) = self.current(table)?
            && !owned(&current)
        {
            return Err(EnforceError::NotOwned(table.to_owned()));
        }
        if text.trim().is_empty() {
            // There was no table before the last apply.
            self.remove(table)?;
            return Ok(());
        }
        self.check(&text)?;
        self.run("load (-f)", &["-f", "-"], Some(&text))?;
        Ok(())
    }

    /// Removes Ward's table (only if it is Ward's).
    pub fn remove(&self, table: &str) -> Result<bool> {
        match self.current(table)? {
            None => Ok(false),
            Some(text) if !owned(&text) => Err(EnforceError::NotOwned(table.to_owned())),
            Some(_) => self.run("delete table", &["delete", "table", "inet", table], None).map(|_| true),
        }
    }

    /// The counters of every rule of Ward's table that has one.
    pub fn counters(&self, table: &str) -> Result<Vec<RuleCounter>> {
        let text = self.run("list table (-j)", &["-j", "list", "table", "inet", table], None)?;
        parse_counters(&text).map_err(|message| EnforceError::Nft { what: "list table (-j)".into(), message })
    }
}

/// Ward's sets whose elements have timeouts and outlive a policy reload.
fn live_sets() -> Vec<String> {
    [BLOCK_SET, QUARANTINE_SET].iter().flat_map(|s| [format!("{s}_v4"), format!("{s}_v6")]).collect()
}

/// Elements of a set from `nft -j list set` output, as `value timeout Ns` with the time left.
fn parse_elements(json: &str) -> std::result::Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("unreadable JSON from nft: {e}"))?;
    let items = v.get("nftables").and_then(|x| x.as_array()).ok_or("no nftables array in nft's JSON")?;
    let mut out = Vec::new();
    for item in items {
        let Some(elems) = item.get("set").and_then(|s| s.get("elem")).and_then(|e| e.as_array()) else {
            continue;
        };
        for e in elems {
            let (val, left) = match e.get("elem") {
                Some(x) => (x.get("val"), x.get("expires").and_then(|t| t.as_u64())),
                None => (Some(e), None),
            };
            let Some(val) = val else { continue };
            let text = if let Some(s) = val.as_str() {
                s.to_owned()
            } else if let Some(p) = val.get("prefix") {
                format!(
                    "{}/{}",
                    p.get("addr").and_then(|a| a.as_str()).unwrap_or_default(),
                    p.get("len").and_then(|l| l.as_u64()).unwrap_or(0)
                )
            } else if let Some(r) = val.get("range").and_then(|r| r.as_array()) {
                format!(
                    "{}-{}",
                    r.first().and_then(|a| a.as_str()).unwrap_or_default(),
                    r.get(1).and_then(|a| a.as_str()).unwrap_or_default()
                )
            } else {
                continue;
            };
            // An element about to lapse keeps at least a second.
            out.push(format!("{text} timeout {}s", left.unwrap_or(1).max(1)));
        }
    }
    Ok(out)
}

/// Whether a listed table carries Ward's mark.
fn owned(listing: &str) -> bool {
    listing.lines().any(|l| l.trim_start().starts_with("comment") && l.contains(OWNER_MARK))
}

/// A listed table as a file that replaces the table whole when loaded.
fn replacing(table: &str, listing: &str) -> String {
    format!("table inet {table} {{}}\ndelete table inet {table}\n{listing}")
}

/// Rule counters from `nft -j list table` output.
fn parse_counters(json: &str) -> std::result::Result<Vec<RuleCounter>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("unreadable JSON from nft: {e}"))?;
    let items = v.get("nftables").and_then(|x| x.as_array()).ok_or("no nftables array in nft's JSON")?;
    let mut out = Vec::new();
    for item in items {
        let Some(rule) = item.get("rule") else { continue };
        let chain = rule.get("chain").and_then(|c| c.as_str()).unwrap_or_default().to_owned();
        let name = rule.get("comment").and_then(|c| c.as_str()).map(str::to_owned).unwrap_or_else(|| {
            format!("handle {}", rule.get("handle").and_then(|h| h.as_u64()).unwrap_or(0))
        });
        let Some(exprs) = rule.get("expr").and_then(|e| e.as_array()) else { continue };
        for e in exprs {
            if let Some(c) = e.get("counter") {
                out.push(RuleCounter {
                    chain: chain.clone(),
                    rule: name.clone(),
                    packets: c.get("packets").and_then(|p| p.as_u64()).unwrap_or(0),
                    bytes: c.get("bytes").and_then(|p| p.as_u64()).unwrap_or(0),
                });
            }
        }
    }
    Ok(out)
}

/// Where previous rulesets are kept by default: `$XDG_STATE_HOME/ward/nft`, else
/// `~/.local/state/ward/nft`, else (root without a home, a service) `/var/lib/ward/nft`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("ward/nft");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/") {
        Some(h) => Path::new(&h).join(".local/state/ward/nft"),
        None => PathBuf::from("/var/lib/ward/nft"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_nfts_json() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "inet", "name": "ward", "handle": 1}},
            {"rule": {"family": "inet", "table": "ward", "chain": "forward", "handle": 7,
              "comment": "rule no-telnet",
              "expr": [{"match": {}}, {"counter": {"packets": 3, "bytes": 180}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "ward", "chain": "from_x", "handle": 9,
              "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}"#;
        let c = parse_counters(json).expect("valid");
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].rule.as_str(), c[0].packets, c[0].bytes), ("rule no-telnet", 3, 180));
        assert_eq!(c[1].rule, "handle 9");
        assert!(parse_counters("not json").is_err());
    }

    #[test]
    fn timed_elements_are_read_with_the_time_they_have_left() {
        let json = r#"{"nftables": [{"metainfo": {}}, {"set": {"family": "inet", "name": "intel_block_v4",
            "elem": [{"elem": {"val": {"prefix": {"addr": "1.2.3.0", "len": 24}}, "timeout": 3600, "expires": 3599}},
                     {"elem": {"val": "5.6.7.8", "timeout": 60, "expires": 59}},
                     {"elem": {"val": {"range": ["9.9.9.1", "9.9.9.9"]}, "timeout": 100, "expires": 0}}]}}]}"#;
        assert_eq!(
            parse_elements(json).expect("valid"),
            ["1.2.3.0/24 timeout 3599s", "5.6.7.8 timeout 59s", "9.9.9.1-9.9.9.9 timeout 1s"]
        );
    }

    #[test]
    fn ownership_is_read_from_the_tables_comment() {
        assert!(owned("table inet ward {\n\tcomment \"managed by ward: policy x\"\n}"));
        assert!(!owned("table inet ward {\n\tchain c {\n\t}\n}"));
        // A rule comment is not the table's.
        assert!(!owned("table inet ward {\n\tchain c {\n\t\taccept comment \"managed by ward\"\n\t}\n}"));
    }
}
