//! The binary's command line, run as an operator would.

use std::io::Write;
use std::process::{Command, Stdio};

use paivystys::auth::password;

fn paivystys(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args(args)
        .current_dir(dir)
        .env_remove("PAIVYSTYS_DATABASE_URL")
        .env_remove("PAIVYSTYS_BIND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let out = paivystys(dir.path(), &["migrate", "--database", &db], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("paivystys-shelter.db").exists(),
        "the shelter register beside it is migrated too"
    );

    let add = |args: &[&str], stdin: &str| {
        let mut full = vec!["user", "add"];
        full.extend_from_slice(args);
        let out = Command::new(env!("CARGO_BIN_EXE_paivystys"))
            .args(&full)
            .env("PAIVYSTYS_DATABASE_URL", &db)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = out;
        out.stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        out.wait_with_output().unwrap()
    };
    let ok = add(
        &["--username", "olli", "--role", "oncall", "--password-stdin"],
        "a long enough secret\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created user olli (oncall)"));

    let store = paivystys::store::open(&db, paivystys::Wiring::new(16).hub)
        .await
        .unwrap();
    let (_, hash) = store.find_credentials("olli").await.unwrap().unwrap();
    assert!(
        password::verify("a long enough secret".into(), Some(hash))
            .await
            .unwrap()
    );

    for (args, stdin, complaint) in [
        (
            vec!["--username", "olli", "--role", "oncall", "--password-stdin"],
            "another long secret\n",
            "already exists",
        ),
        (
            vec!["--username", "x1y", "--role", "root", "--password-stdin"],
            "a long enough secret\n",
            "unknown role",
        ),
        (
            vec!["--username", "x2y", "--role", "team", "--password-stdin"],
            "a long enough secret\n",
            "--team",
        ),
        (
            vec![
                "--username",
                "x3y",
                "--role",
                "team",
                "--team",
                "nowhere",
                "--password-stdin",
            ],
            "a long enough secret\n",
            "no team",
        ),
        (
            vec!["--username", "x4y", "--role", "oncall", "--password-stdin"],
            "short\n",
            "at least 12",
        ),
        (
            vec!["--username", "x5y", "--role", "oncall"],
            "",
            "--password-stdin",
        ),
        (
            vec![
                "--username",
                "Bad Name",
                "--role",
                "oncall",
                "--password-stdin",
            ],
            "a long enough secret\n",
            "username",
        ),
    ] {
        let out = add(&args, stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(complaint), "{args:?}: {stderr}");
    }
}

#[test]
fn demo_seeding_refuses_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = paivystys(dir.path(), &["serve", "--demo", "--bind", "0.0.0.0:0"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force-demo"));
    assert!(
        !dir.path().join("paivystys.db").exists(),
        "nothing was created"
    );
}

#[tokio::test]
async fn demo_seeding_is_idempotent_and_prints_working_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let store = paivystys::store::open(&url, paivystys::Wiring::new(16).hub)
        .await
        .unwrap();
    let clock = paivystys::domain::clock::SystemClock;
    paivystys::demo::seed(store.as_ref(), &clock).await.unwrap();
    let second = paivystys::demo::seed(store.as_ref(), &clock).await.unwrap();
    assert_eq!(store.list_teams().await.unwrap().len(), 7);
    assert_eq!(second.len(), 5, "one account per role");
    assert_eq!(
        paivystys::demo::seed_entries(store.as_ref(), &clock)
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        paivystys::demo::seed_entries(store.as_ref(), &clock)
            .await
            .unwrap(),
        0
    );
    let filter = paivystys::domain::entry::EntryFilter {
        include_all: true,
        limit: 100,
        ..Default::default()
    };
    let night = store.list_entries(&filter).await.unwrap();
    assert_eq!(night.len(), 7);
    assert!(
        night.iter().all(|e| !e.subject.is_identified()),
        "demo data is anonymous"
    );
    assert_eq!(store.stream_head("desk").await.unwrap(), 7);
    for account in second {
        let (user, hash) = store
            .find_credentials(account.username)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.role, account.role);
        assert!(
            password::verify(account.password, Some(hash))
                .await
                .unwrap()
        );
    }
}

/// A settings file for production: https address, secure cookies, the real number, a
/// strong telephony secret (given in the environment, as the docs say).
const PRODUCTION_TOML: &str = "cookie_secure = true\n\
    [public]\nurl = \"https://paivystys.example.fi\"\noncall_phone = \"029 123 4567\"\n";
const STRONG_SECRET: &str = "kY3v9Qm2Lr8Tz1Wx6Pn4Hs7Jd0Fb5Ca2";

fn config_check(dir: &std::path::Path, db: &str, secret: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args(["config", "check"])
        .current_dir(dir)
        .env("PAIVYSTYS_DATABASE_URL", db)
        .env("PAIVYSTYS_TELEPHONY_SECRET", secret)
        .env_remove("PAIVYSTYS_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn config_check_refuses_demo_accounts_plain_http_and_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    // Out of the box: every laptop default is named.
    let (ok, _, stderr) = config_check(dir.path(), &db, "short");
    assert!(!ok);
    for problem in [
        "public.url is not set",
        "cookie_secure is off",
        "placeholder 0800 000 000",
        "telephony_secret is weak",
    ] {
        assert!(stderr.contains(problem), "{problem}: {stderr}");
    }

    // A production file passes, prints the effective settings, and never the secret.
    std::fs::write(dir.path().join("paivystys.toml"), PRODUCTION_TOML).unwrap();
    let (ok, stdout, stderr) = config_check(dir.path(), &db, STRONG_SECRET);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("https://paivystys.example.fi"), "{stdout}");
    assert!(stdout.contains("029 123 4567"));
    assert!(!stdout.contains(STRONG_SECRET) && !stderr.contains(STRONG_SECRET));

    // Plain http is refused.
    std::fs::write(
        dir.path().join("paivystys.toml"),
        PRODUCTION_TOML.replace("https://", "http://"),
    )
    .unwrap();
    let (ok, _, stderr) = config_check(dir.path(), &db, STRONG_SECRET);
    assert!(!ok);
    assert!(stderr.contains("is not https"), "{stderr}");

    // Demo accounts in the database are refused.
    std::fs::write(dir.path().join("paivystys.toml"), PRODUCTION_TOML).unwrap();
    let store = paivystys::store::open(&db, paivystys::Wiring::new(16).hub)
        .await
        .unwrap();
    paivystys::demo::seed(store.as_ref(), &paivystys::domain::clock::SystemClock)
        .await
        .unwrap();
    let (ok, _, stderr) = config_check(dir.path(), &db, STRONG_SECRET);
    assert!(!ok);
    assert!(
        stderr.contains("demo account \"paivystaja\" is active"),
        "{stderr}"
    );
}

#[test]
fn a_missing_or_mistyped_settings_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = paivystys(
        dir.path(),
        &[
            "--config",
            "/nonexistent/paivystys.toml",
            "calendar",
            "holidays",
            "2026",
        ],
        "",
    );
    assert!(!out.status.success(), "a named file must exist");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    for (typo, key) in [
        ("cookie_secur = true\n", "cookie_secur"),
        ("[ws]\nheartbeat_sec = 5\n", "heartbeat_sec"),
        ("[reports]\nper_hour = 5\n", "per_hour"),
    ] {
        std::fs::write(dir.path().join("paivystys.toml"), typo).unwrap();
        let out = paivystys(dir.path(), &["calendar", "holidays", "2026"], "");
        assert!(!out.status.success(), "{typo}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{typo}: {stderr}");
    }
}

#[test]
fn the_example_settings_file_is_valid() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/paivystys.example.toml");
    paivystys::config::Settings::load(Some(&example)).expect("ops/paivystys.example.toml loads");
}
