//! Hardening a user would notice only when it is missing: login throttling that slows a
//! guesser without locking the real worker out for good, security headers on every answer,
//! no CORS for other sites, and password rules at account creation.

use chrono::Duration;
use paivystys::domain::roles::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    failed_logins_are_throttled_per_account_and_per_source,
    every_answer_carries_the_security_headers_and_no_cors,
);

async fn login(app: &TestApp, source: &str, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .header("X-Real-IP", source)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn failed_logins_are_throttled_per_account_and_per_source(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.public.client_ip_header = Some("X-Real-IP".into());
    })
    .await
    else {
        return;
    };
    let secret = app.db.add_user("anna", Role::Oncall, None).await;
    for attempt in 1..=5 {
        let r = login(&app, "198.51.100.1", "anna", "arvaus-numero-yksi").await;
        assert_eq!(r.status(), 401, "attempt {attempt}");
    }
    // Now even the right password waits: a guesser cannot tell it was right.
    let r = login(&app, "198.51.100.2", "anna", &secret).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another worker at the same desk is not affected.
    let ville = app.db.add_user("ville", Role::Oncall, None).await;
    assert_eq!(
        login(&app, "198.51.100.1", "ville", &ville).await.status(),
        200
    );

    // A quarter of an hour later Anna gets in: never locked out for good.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(
        login(&app, "198.51.100.2", "anna", &secret).await.status(),
        200
    );

    // One source trying many accounts is held back too.
    for i in 0..30 {
        let r = login(
            &app,
            "203.0.113.9",
            &format!("nobody{i}"),
            "arvaus-numero-yksi",
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(
        login(&app, "203.0.113.9", "ville", &ville).await.status(),
        429,
        "the spraying source waits"
    );
    assert_eq!(
        login(&app, "203.0.113.10", "ville", &ville).await.status(),
        200
    );
}

async fn every_answer_carries_the_security_headers_and_no_cors(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/chat",
        "/report",
        "/api/v1/entries",
        "/api/v1/public/info",
        "/nowhere",
    ] {
        let r = client
            .get(app.url(path))
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        let headers = r.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers.get("access-control-allow-origin").is_none(),
            "{path}: no site may read our answers"
        );
        assert!(
            headers.get("strict-transport-security").is_none(),
            "{path}: no HSTS over plain http"
        );
    }
    // A CORS preflight from another site gets no permission.
    let preflight = client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/entries"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(!preflight.status().is_success(), "{}", preflight.status());

    // Behind TLS, browsers are told to stay on it.
    let Some(tls) = TestApp::spawn_with(backend, |s| s.cookie_secure = true).await else {
        return;
    };
    let r = client.get(tls.url("/")).send().await.unwrap();
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
}

/// `user add` refuses the passwords attackers try first.
#[test]
fn common_passwords_and_the_username_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    for (password, complaint) in [
        ("Salasana1234", "most common"),
        ("password1234", "most common"),
        ("kaisa-on-paras-123", "username"),
        ("zzzzzzzzzzzzzz", "repeated"),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paivystys"))
            .args([
                "user",
                "add",
                "--username",
                "kaisa",
                "--role",
                "oncall",
                "--password-stdin",
            ])
            .env("PAIVYSTYS_DATABASE_URL", &db)
            .env_remove("PAIVYSTYS_CONFIG")
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success(), "{password} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(complaint), "{password}: {stderr}");
    }
}
