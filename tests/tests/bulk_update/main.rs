//! SPEC §5: `POST /v1/users/bulk-update` — selection by ids or by filter with `select_all`,
//! the report (outcome, counts, refusal groups), dry runs, validation of the request, the
//! 10,000-user limit, and the audit events. Atomicity on an infrastructure failure is tested
//! at the persistence level (`persistence/tests/bulk.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use staffroom_tests::{Answer, Options, TestApp, add_clinic, id_of, read_user, set, strings};

mod audit;
mod dry_run;
mod filter;
mod limits;
mod outcomes;
mod retries;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async fn bulk(app: &TestApp, token: &str, body: Value) -> Answer {
    app.post(token, "/v1/users/bulk-update", body).await
}

async fn bulk_ok(app: &TestApp, token: &str, body: Value) -> Value {
    bulk(app, token, body).await.expect(200).body
}

/// Creates a user and returns its id; the first clinic (if any) is the default.
async fn user(
    app: &TestApp,
    token: &str,
    name: &str,
    user_type: &str,
    profession: &str,
    permissions: Value,
    clinics: &[&str],
) -> String {
    let mut body = json!({
        "first_name": name,
        "last_name": "Bulk",
        "email": format!("{}@example.test", name.to_lowercase()),
        "user_type": user_type,
        "profession": profession,
        "permissions": permissions,
    });
    if !clinics.is_empty() {
        body["clinic_ids"] = json!(clinics);
        body["default_clinic_id"] = json!(clinics[0]);
    }
    id_of(&app.create_user(token, body).await)
}

fn counts(report: &Value, kind: &str) -> (u64, u64, u64) {
    let c = &report[kind];
    (
        c["applied"].as_u64().unwrap(),
        c["refused"].as_u64().unwrap(),
        c["no_op"].as_u64().unwrap(),
    )
}

/// The refusal groups as `(reason, kind) -> (count, user ids)`, checking each group's shape
/// and that no (reason, kind) appears twice.
fn groups(report: &Value) -> Vec<(String, String, u64, BTreeSet<String>)> {
    let mut out: Vec<(String, String, u64, BTreeSet<String>)> = report["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let ids = g["user_ids"].as_array().unwrap();
            let unique = strings(&g["user_ids"]);
            assert_eq!(ids.len(), unique.len(), "user ids listed twice: {g}");
            (
                g["reason"].as_str().unwrap().to_owned(),
                g["kind"].as_str().unwrap().to_owned(),
                g["count"].as_u64().unwrap(),
                unique,
            )
        })
        .collect();
    out.sort();
    let keys: BTreeSet<(String, String)> = out.iter().map(|g| (g.0.clone(), g.1.clone())).collect();
    assert_eq!(keys.len(), out.len(), "a reason and kind grouped twice");
    out
}

fn g(
    reason: &str,
    kind: &str,
    count: u64,
    ids: &[&str],
) -> (String, String, u64, BTreeSet<String>) {
    (reason.to_owned(), kind.to_owned(), count, set(ids))
}

fn expected(
    mut groups: Vec<(String, String, u64, BTreeSet<String>)>,
) -> Vec<(String, String, u64, BTreeSet<String>)> {
    groups.sort();
    groups
}

/// Every audit event of a query (newest first).
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let mut path = format!("/v1/audit-events?{query}{sep}limit=200");
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&enc(c));
        }
        let page = app.get(token, &path).await.expect(200);
        all.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A fresh random (v4) UUID, which no stored user has.
fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a user's access looks like: permissions, clinics, default, version.
async fn snapshot(app: &TestApp, token: &str, ids: &[&String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let u = read_user(app, token, id).await;
        out.push(json!({
            "permissions": strings(&u["permissions"]),
            "clinic_ids": strings(&u["clinic_ids"]),
            "default_clinic_id": u["default_clinic_id"],
            "version": u["version"],
        }));
    }
    out
}

/// A mixed site: Main and North; a PT, an OT in both (default North), a clerk, a PTA, and a
/// clinic admin of Main.
struct Mixed {
    main: String,
    north: String,
    pt: String,
    ot_both: String,
    clerk: String,
    pta: String,
    clinic_admin: String,
}

async fn mixed(app: &TestApp, admin: &str) -> Mixed {
    let main = app.site.clinic_id.clone();
    let north = add_clinic(app, admin, "North").await;
    let pt = user(app, admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let ot_both = user(
        app,
        admin,
        "Otto",
        "clinical",
        "OT",
        json!(["view_reports"]),
        &[&north, &main],
    )
    .await;
    let clerk = user(
        app,
        admin,
        "Clem",
        "non_clinical",
        "CLERICAL",
        json!([]),
        &[&main],
    )
    .await;
    let pta = user(app, admin, "Tess", "clinical", "PTA", json!([]), &[&main]).await;
    let clinic_admin = user(
        app,
        admin,
        "Cara",
        "non_clinical",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main],
    )
    .await;
    Mixed {
        main,
        north,
        pt,
        ot_both,
        clerk,
        pta,
        clinic_admin,
    }
}
