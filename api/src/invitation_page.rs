//! `GET /accept-invitation`: the page an invitation email links to. Plain HTML with a few
//! lines of inline script that post the chosen password to `POST
//! /v1/invitations/{token}/accept`; it loads nothing from anywhere, so it works offline and
//! behind any proxy. It is a page for people, so it is not in the OpenAPI document.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use base64::Engine;
use sha2::{Digest, Sha256};

const PAGE: &str = include_str!("invitation_page.html");

/// The page's policy: nothing but its own inline style and script (pinned by hash), and
/// requests to its own origin; the token in its URL is never sent on as a referrer.
static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let script = PAGE
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or("", |(script, _)| script);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
});

/// Serves the page; the token stays in the query string, read by the script.
pub async fn show() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY.as_str(),
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(PAGE)
}
