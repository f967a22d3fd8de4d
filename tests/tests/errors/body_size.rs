//! Body size

use super::*;

/// A valid user body padded with JSON whitespace to exactly `size` bytes.
fn padded_user(email: &str, size: usize) -> String {
    let body = valid_user(email).to_string();
    assert!(body.len() <= size);
    let mut padded = String::with_capacity(size);
    padded.push_str(&body[..body.len() - 1]);
    padded.push_str(&" ".repeat(size - body.len()));
    padded.push('}');
    assert_eq!(padded.len(), size);
    padded
}

#[tokio::test]
async fn body_over_the_limit_is_body_too_large() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    for size in [2049, 4096, 32_768] {
        let answer = raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            padded_user("big@example.test", size),
        )
        .await
        .expect_problem(413, "body_too_large");
        assert_problem_shape(&answer);
    }
    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_body_too_large() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let padded = padded_user("big@example.test", 5000);
    // reqwest always sends a length here, so speak HTTP/1.1 with chunked encoding directly.
    let mut request = format!(
        "POST /v1/users HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n",
        host = app.base.trim_start_matches("http://"),
    );
    for chunk in padded.as_bytes().chunks(1000) {
        request.push_str(&format!("{:x}\r\n", chunk.len()));
        request.push_str(std::str::from_utf8(chunk).unwrap());
        request.push_str("\r\n");
    }
    request.push_str("0\r\n\r\n");
    let address = app.base.trim_start_matches("http://").to_owned();
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        // The server may answer and close before reading the whole body.
        let _ = stream.write_all(request.as_bytes());
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    let status_line = response.lines().next().unwrap_or("");
    assert!(
        status_line.starts_with("HTTP/1.1 413"),
        "expected 413, got: {response}"
    );
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{response}"
    );
    assert!(
        response.contains("\"code\":\"body_too_large\""),
        "{response}"
    );
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    for (size, email) in [(2047, "under@example.test"), (2048, "exact@example.test")] {
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            padded_user(email, size),
        )
        .await
        .expect(201);
    }
}

#[tokio::test]
async fn body_limit_applies_to_the_token_endpoint() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let response = app
        .client
        .post(app.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id=x&client_secret={}",
            "s".repeat(3000)
        ))
        .send()
        .await
        .unwrap();
    TestApp::answer(response)
        .await
        .expect_problem(413, "body_too_large");
}
