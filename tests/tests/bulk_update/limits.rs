//! Size limits

use super::*;

#[tokio::test]
async fn more_than_10000_ids_are_selection_too_large() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let mut ids: Vec<String> = (0..10_000).map(|_| random_id()).collect();
    ids.push(pt.clone());
    assert_eq!(ids.len(), 10_001);

    let answer = bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["view_reports"] }),
    )
    .await;
    answer.expect_problem(422, "selection_too_large");
    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!([]));
    assert_eq!(u["version"], 1);
}

#[tokio::test]
async fn a_10000_id_body_fits_the_default_body_limit() {
    let app = TestApp::spawn_with(Options::default()).await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let mut ids: Vec<String> = (0..9_999).map(|_| random_id()).collect();
    ids.push(pt.clone());
    let body = json!({
        "user_ids": ids,
        "add_permissions": ["view_reports"],
        "remove_permissions": ["manage_billing"],
        "add_clinic_ids": [main],
    });
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(size > 350_000 && size < 1024 * 1024, "body of {size} bytes");

    let report = bulk_ok(&app, &admin, body).await;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 10_000);
    assert_eq!(report["users_updated"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 19_998, 1));
    assert_eq!(counts(&report, "clinics"), (0, 9_999, 1));
    let gs = groups(&report);
    assert_eq!(gs.len(), 2);
    for (reason, _, _, users) in &gs {
        assert_eq!(reason, "user_not_found");
        assert_eq!(users.len(), 9_999);
        assert!(!users.contains(&pt));
    }
    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!(["view_reports"]));
    assert_eq!(u["version"], 2);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 64 * 1024,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let ids: Vec<String> = (0..5_000).map(|_| random_id()).collect();
    bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["view_reports"] }),
    )
    .await
    .expect_problem(413, "body_too_large");
}
