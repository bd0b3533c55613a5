//! The vulnerability tables: documents replaced by kind and id, an assessment's state and
//! `vuln` findings replaced as a whole (first sightings kept), exposure inputs read in bulk.

use ward_core::{DeviceId, Finding, Severity, Timestamp};
use ward_store::{Blocking, VulnAssessment, VulnDocument, VulnDocumentHead, VulnStateRow, synthetic};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn doc(kind: &str, id: &str, version: &str, body: &str) -> VulnDocument {
    VulnDocument {
        head: VulnDocumentHead {
            kind: kind.into(),
            id: id.into(),
            version: version.into(),
            released: String::new(),
            sha256: format!("h-{body}"),
        },
        source: "test".into(),
        body: body.as_bytes().to_vec(),
        imported_at: Timestamp::from_secs(1),
    }
}

fn finding(device: i64, cve: &str, at: u64) -> Finding {
    Finding {
        device: DeviceId(device),
        kind: "vuln".into(),
        reference: cve.into(),
        severity: Severity::High,
        detail: format!("{cve} detail"),
        evidence: "ICSMA-1".into(),
        first_seen: Timestamp::from_secs(at),
        last_seen: Timestamp::from_secs(at),
    }
}

fn assessment(at: u64, findings: Vec<Finding>) -> VulnAssessment {
    VulnAssessment {
        ts: Timestamp::from_secs(at),
        catalog: "c".into(),
        devices: 3,
        changes: "[]".into(),
        state: findings
            .iter()
            .map(|f| VulnStateRow {
                device: f.device,
                cve: f.reference.clone(),
                standing: "affected".into(),
                firmware: None,
            })
            .collect(),
        findings,
    }
}

#[test]
fn documents_are_replaced_by_kind_and_id() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.put_vuln_documents(&[doc("csaf", "A", "1", "one"), doc("kev", "kev", "2025", "k")])?;
    store.put_vuln_documents(&[doc("csaf", "A", "2", "two")])?;
    let heads = store.vuln_document_heads()?;
    assert_eq!(heads.len(), 2);
    assert_eq!((heads[0].id.as_str(), heads[0].version.as_str()), ("A", "2"));
    let docs = store.vuln_documents()?;
    assert_eq!(docs[0].body, b"two");
    Ok(())
}

#[test]
fn an_assessment_replaces_state_and_vuln_findings() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.apply(&synthetic::change_set(1, 3, 1, 1))?;
    // Another kind's finding is left alone.
    let mut policy = finding(1, "rule-7", 5);
    policy.kind = "policy".into();
    store.upsert_findings(&[policy])?;
    store.record_vuln_assessment(&assessment(10, vec![finding(1, "CVE-1", 10), finding(2, "CVE-2", 10)]))?;
    assert_eq!(store.vuln_state()?.len(), 2);
    // CVE-2 is gone, CVE-1 stays (its first sighting kept), CVE-3 is new; device 99 is not
    // in the inventory and gets no finding.
    store.record_vuln_assessment(&assessment(
        20,
        vec![finding(1, "CVE-1", 20), finding(3, "CVE-3", 20), finding(99, "CVE-9", 20)],
    ))?;
    let all = store.findings(None)?;
    let vuln: Vec<(i64, &str, u64, u64)> = all
        .iter()
        .filter(|f| f.kind == "vuln")
        .map(|f| (f.device.0, f.reference.as_str(), f.first_seen.as_secs(), f.last_seen.as_secs()))
        .collect();
    assert_eq!(vuln, vec![(1, "CVE-1", 10, 20), (3, "CVE-3", 20, 20)]);
    assert!(all.iter().any(|f| f.kind == "policy"));
    assert_eq!(store.vuln_state()?.len(), 3);
    Ok(())
}

#[test]
fn exposure_inputs_in_bulk() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.apply(&synthetic::change_set(1, 60, 2, 1))?;
    let pairs = store.comm_pairs()?;
    assert!(!pairs.is_empty());
    let facts = store.facts_by_key(&["firmware", "model"])?;
    assert_eq!(facts.len(), 120);
    assert!(facts.iter().all(|(_, k, _)| k == "firmware" || k == "model"));
    Ok(())
}

#[test]
fn a_store_before_the_vulnerability_tables_is_upgraded_in_place() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ward.db");
    let store = Blocking::open_sqlite(&path)?;
    store.apply(&synthetic::change_set(1, 20, 1, 3))?;
    let before = store.snapshot()?;
    // Back to what the schema before them left: no vulnerability tables, version 3.
    store.block_on(async {
        let pool =
            sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path)).await?;
        sqlx::raw_sql(
            "DROP TABLE vuln_documents; DROP TABLE vuln_assessments; DROP TABLE vuln_state;
             DELETE FROM schema_version WHERE version = 4;",
        )
        .execute(&pool)
        .await?;
        pool.close().await;
        Ok::<_, sqlx::Error>(())
    })?;
    store.close();
    let again = Blocking::open_sqlite(&path)?;
    assert_eq!(again.schema_version()?, 4);
    assert_eq!(again.snapshot()?, before);
    again.put_vuln_documents(&[doc("csaf", "A", "1", "one")])?;
    assert_eq!(again.vuln_document_heads()?.len(), 1);
    Ok(())
}
