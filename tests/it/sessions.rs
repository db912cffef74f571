//! Login, logout, expiry and CSRF over real HTTP.

use chrono::Duration;
use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    login_sets_an_httponly_cookie_and_me_answers,
    wrong_password_and_unknown_user_look_the_same,
    logout_ends_the_session_on_the_server,
    an_expired_session_is_refused_with_a_clear_code,
    writes_without_the_csrf_token_are_refused,
    a_new_login_replaces_the_old_session,
);

async fn login_sets_an_httponly_cookie_and_me_answers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let secret = app
        .db
        .add_user("tiina", Role::Team, Some("child_welfare"))
        .await;
    let http = reqwest::Client::new();
    let response = http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "tiina", "password": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("paivystys_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "team");
    assert_eq!(body["user"]["team"], "child_welfare");
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 43);
    assert!(body["user"].get("password_hash").is_none());

    let client = app.login("tiina", &secret).await;
    let me: Value = client
        .get("/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "tiina");
    assert_eq!(me["role"], "team");

    let anonymous = reqwest::get(app.url("/api/v1/me")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

async fn wrong_password_and_unknown_user_look_the_same(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.db.add_user("olli", Role::Oncall, None).await;
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for (username, password) in [
        ("olli", "not the password"),
        ("nobody", "whatever password"),
    ] {
        let response = http
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().get("set-cookie").is_none());
        answers.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["error"]["code"], "invalid_credentials");
}

async fn logout_ends_the_session_on_the_server(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = app.user("olli", Role::Oncall, None).await;
    let stolen_cookie = client.cookie_header();
    let response = client
        .write(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // Even a copy of the old cookie no longer works: the session is gone server-side.
    let replay = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", stolen_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
}

async fn an_expired_session_is_refused_with_a_clear_code(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = app.user("olli", Role::Oncall, None).await;
    app.clock.advance(Duration::minutes(12 * 60 - 1));
    assert_eq!(client.get("/api/v1/me").send().await.unwrap().status(), 200);
    app.clock.advance(Duration::minutes(2));
    let response = client.get("/api/v1/me").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "session_expired");
    // And it stays refused (it was removed), now as a plain unknown session.
    let again: Value = client
        .get("/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["error"]["code"], "unauthorized");
}

async fn writes_without_the_csrf_token_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = app.user("olli", Role::Oncall, None).await;
    let no_token = client
        .http
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let body: Value = no_token.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let wrong_token = client
        .http
        .delete(app.url("/api/v1/session"))
        .header("X-CSRF-Token", "x".repeat(43))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 403);
    // The refused writes changed nothing: the session still works.
    assert_eq!(client.get("/api/v1/me").send().await.unwrap().status(), 200);
}

async fn a_new_login_replaces_the_old_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let first = app.login("olli", &secret).await;
    let old_cookie = first.cookie_header();
    // Logging in again from the same browser (cookie sent along) rotates the session.
    let response = first
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "olli", "password": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_ne!(first.cookie_header(), old_cookie);
    let with_old = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", old_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.status(), 401);
    assert_eq!(first.get("/api/v1/me").send().await.unwrap().status(), 200);
}
