//! The same store behaviour on both databases.

use chrono::{Duration, SubsecRound, Utc};
use paivystys::domain::account::{NewUser, Team};
use paivystys::domain::roles::Role;
use paivystys::error::AppError;
use paivystys::events::NewEvent;
use paivystys::store::{AccessAction, AccessRecord, AccessResult, NewSession};
use serde_json::json;

use crate::helpers::{Backend, TestDb};
use crate::on_both_backends;

on_both_backends!(
    sequence_numbers_start_at_one_per_stream_and_never_skip,
    paging_returns_events_in_order,
    concurrent_writers_leave_a_contiguous_sequence,
    accounts_enforce_unique_names_and_team_membership,
    sessions_are_found_by_token_hash_and_purged_when_expired,
    access_log_is_queryable_per_record_and_append_only,
    events_cannot_be_rewritten,
    migrations_run_again_without_harm,
    a_failing_message_leaves_its_batch_mates_written,
);

async fn sequence_numbers_start_at_one_per_stream_and_never_skip(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let at = Utc::now().trunc_subsecs(6);
    let first = db
        .store
        .append_events(
            &[
                NewEvent::new("desk", "a", json!({"i": 1})),
                NewEvent::new("team:adults", "b", json!({})),
                NewEvent::new("desk", "c", json!({"i": 2})),
            ],
            at,
        )
        .await
        .unwrap();
    let numbered: Vec<_> = first.iter().map(|e| (e.stream.as_str(), e.seq)).collect();
    assert_eq!(numbered, [("desk", 1), ("team:adults", 1), ("desk", 2)]);
    let more = db
        .store
        .append_events(&[NewEvent::new("desk", "d", json!(null))], at)
        .await
        .unwrap();
    assert_eq!(more[0].seq, 3);
    assert_eq!(db.store.stream_head("desk").await.unwrap(), 3);
    assert_eq!(db.store.stream_head("team:adults").await.unwrap(), 1);
    assert_eq!(db.store.stream_head("shelter").await.unwrap(), 0);

    let stored = db.store.events_since("desk", 0, 100).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(stored[1].kind, "c");
    assert_eq!(stored[1].data, json!({"i": 2}));
    assert_eq!(stored[0].at, first[0].at, "time survives the round trip");
}

async fn paging_returns_events_in_order(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let events: Vec<_> = (0..25)
        .map(|i| NewEvent::new("desk", "e", json!({ "i": i })))
        .collect();
    db.store.append_events(&events, Utc::now()).await.unwrap();
    let mut seen = Vec::new();
    let mut since = 0;
    loop {
        let page = db.store.events_since("desk", since, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        since = page.last().unwrap().seq;
        seen.extend(page.into_iter().map(|e| e.data["i"].as_i64().unwrap()));
    }
    assert_eq!(seen, (0..25).collect::<Vec<_>>());
}

async fn concurrent_writers_leave_a_contiguous_sequence(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let mut writers = Vec::new();
    for w in 0..4 {
        let store = db.store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                // Each transaction touches the desk and a second stream, in varying order,
                // as a handover does (desk + team).
                let team = format!("team:t{}", (w + i) % 2);
                let events = if i % 2 == 0 {
                    vec![
                        NewEvent::new("desk", "w", json!({"w": w, "i": i})),
                        NewEvent::new(&team, "w", json!({})),
                    ]
                } else {
                    vec![
                        NewEvent::new(&team, "w", json!({})),
                        NewEvent::new("desk", "w", json!({"w": w, "i": i})),
                    ]
                };
                store.append_events(&events, Utc::now()).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let desk = db.store.events_since("desk", 0, 1000).await.unwrap();
    assert_eq!(
        desk.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    let t0 = db.store.events_since("team:t0", 0, 1000).await.unwrap();
    let t1 = db.store.events_since("team:t1", 0, 1000).await.unwrap();
    assert_eq!(t0.len() + t1.len(), 100);
    assert_eq!(
        t0.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=t0.len() as i64).collect::<Vec<_>>()
    );
    // Every writer's own events stay in the order it wrote them.
    for w in 0..4 {
        let mine: Vec<i64> = desk
            .iter()
            .filter(|e| e.data["w"] == w)
            .map(|e| e.data["i"].as_i64().unwrap())
            .collect();
        assert_eq!(mine, (0..25).collect::<Vec<_>>());
    }
}

async fn accounts_enforce_unique_names_and_team_membership(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    paivystys::demo::seed_teams(db.store.as_ref())
        .await
        .unwrap();
    let teams = db.store.list_teams().await.unwrap();
    assert_eq!(teams.len(), 7);
    assert_eq!(
        db.store.get_team("child_welfare").await.unwrap(),
        Some(Team {
            key: "child_welfare".into(),
            name_fi: "Lastensuojelu".into(),
            name_sv: "Barnskydd".into(),
            name_en: "Child welfare".into(),
        })
    );

    let new = |username: &str, role, team: Option<&str>| NewUser {
        username: username.into(),
        display_name: format!("{username} display"),
        role,
        team: team.map(str::to_owned),
        lead: role == Role::Team,
        password_hash: "$argon2id$placeholder".into(),
    };
    let now = Utc::now();
    let anna = db
        .store
        .create_user(&new("anna", Role::Team, Some("child_welfare")), now)
        .await
        .unwrap();
    assert_eq!(anna.team.as_deref(), Some("child_welfare"));
    let dup = db
        .store
        .create_user(&new("anna", Role::Oncall, None), now)
        .await;
    assert!(matches!(dup, Err(AppError::Conflict(_))), "{dup:?}");
    let no_team = db
        .store
        .create_user(&new("bert", Role::Team, Some("no_such_team")), now)
        .await;
    assert!(
        matches!(&no_team, Err(AppError::Validation { field, .. }) if field == "team"),
        "{no_team:?}"
    );
    // The database itself refuses a team user without a team.
    let teamless = db
        .store
        .create_user(&new("cecilia", Role::Team, None), now)
        .await;
    assert!(teamless.is_err());

    let (found, hash) = db.store.find_credentials("anna").await.unwrap().unwrap();
    assert_eq!(found, anna);
    assert_eq!(hash, "$argon2id$placeholder");
    assert!(
        db.store
            .set_password("anna", "$argon2id$new")
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .set_password("nobody", "$argon2id$new")
            .await
            .unwrap()
    );
    assert_eq!(
        db.store.find_credentials("anna").await.unwrap().unwrap().1,
        "$argon2id$new"
    );
    assert!(db.store.find_credentials("nobody").await.unwrap().is_none());
}

async fn sessions_are_found_by_token_hash_and_purged_when_expired(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    db.add_user("olli", Role::Oncall, None).await;
    let user = db.store.find_credentials("olli").await.unwrap().unwrap().0;
    let now = Utc::now().trunc_subsecs(6);
    for (hash, ttl) in [("live", 60), ("stale", -1)] {
        db.store
            .create_session(&NewSession {
                token_hash: hash.into(),
                user_id: user.id,
                csrf_token: format!("csrf-{hash}"),
                created_at: now - Duration::minutes(120),
                expires_at: now + Duration::minutes(ttl),
            })
            .await
            .unwrap();
    }
    let live = db.store.find_session("live").await.unwrap().unwrap();
    assert_eq!(live.user, user);
    assert_eq!(live.csrf_token, "csrf-live");
    assert_eq!(live.expires_at, now + Duration::minutes(60));
    assert_eq!(db.store.delete_expired_sessions(now).await.unwrap(), 1);
    assert!(db.store.find_session("stale").await.unwrap().is_none());
    db.store.delete_session("live").await.unwrap();
    assert!(db.store.find_session("live").await.unwrap().is_none());
}

async fn access_log_is_queryable_per_record_and_append_only(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let base = Utc::now().trunc_subsecs(6);
    let record = |minutes, who: &str, action, id: &str, result| AccessRecord {
        at: base + Duration::minutes(minutes),
        user_id: Some(1),
        username: who.into(),
        role: "oncall".into(),
        action,
        record_type: "entry".into(),
        record_id: id.into(),
        purpose: Some("call back".into()),
        result,
    };
    let rows = [
        record(0, "anna", AccessAction::Write, "e1", AccessResult::Allowed),
        record(1, "bert", AccessAction::Read, "e2", AccessResult::Allowed),
        record(2, "bert", AccessAction::Read, "e1", AccessResult::Allowed),
        record(3, "carl", AccessAction::Export, "e1", AccessResult::Refused),
    ];
    for row in &rows {
        db.store.record_access(row).await.unwrap();
    }
    let e1 = db.store.access_log_for("entry", "e1").await.unwrap();
    assert_eq!(e1, vec![rows[0].clone(), rows[2].clone(), rows[3].clone()]);
    assert!(
        db.store
            .access_log_for("handover", "e1")
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        db.execute_raw("UPDATE access_log SET username = 'nobody'")
            .await
            .is_err()
    );
    assert!(db.execute_raw("DELETE FROM access_log").await.is_err());
    assert_eq!(
        db.store.access_log_for("entry", "e1").await.unwrap().len(),
        3
    );
}

async fn events_cannot_be_rewritten(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    db.store
        .append_events(
            &[NewEvent::new(
                "desk",
                "entry.created",
                json!({"summary": "x"}),
            )],
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(
        db.execute_raw("UPDATE events SET data = '{}'")
            .await
            .is_err()
    );
    assert_eq!(
        db.store.events_since("desk", 0, 10).await.unwrap()[0].data,
        json!({"summary": "x"})
    );
}

async fn migrations_run_again_without_harm(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    db.store
        .append_events(&[NewEvent::new("desk", "k", json!({}))], Utc::now())
        .await
        .unwrap();
    if backend == Backend::Sqlite {
        let url = format!("sqlite://{}", db.location);
        let again = paivystys::store::open(&url, paivystys::Wiring::new(16).hub)
            .await
            .unwrap();
        assert_eq!(again.stream_head("desk").await.unwrap(), 1);
    } else {
        use std::str::FromStr;
        let options = sqlx::postgres::PgConnectOptions::from_str(&crate::helpers::postgres_url())
            .unwrap()
            .options([("search_path", db.location.as_str())]);
        let again =
            paivystys::store::postgres::PgStore::open_with(options, paivystys::Wiring::new(16).hub)
                .await
                .unwrap();
        use paivystys::store::Store;
        assert_eq!(again.stream_head("desk").await.unwrap(), 1);
    }
}

/// Group commit: concurrent messages share transactions. One message whose own statements
/// fail (here: its events lack the message event) is refused alone; every other message,
/// in whatever batch it landed, is written once and numbered without a gap, and the
/// refused chat is left as it was.
async fn a_failing_message_leaves_its_batch_mates_written(backend: Backend) {
    use paivystys::domain::chat::{Author, Chat, Language, NewMessage, message_events};
    use paivystys::store::MessageWrite;

    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let now = Utc::now().trunc_subsecs(6);
    let mut chats = Vec::new();
    for i in 0..21 {
        let chat = Chat::open(uuid::Uuid::new_v4(), Language::Fi, now);
        db.store
            .insert_chat(&chat, &format!("token-{i}"), now + Duration::hours(1), &[])
            .await
            .unwrap();
        chats.push(chat);
    }
    let mut writers = Vec::new();
    for (i, chat) in chats.iter().cloned().enumerate() {
        let store = db.store.clone();
        writers.push(tokio::spawn(async move {
            let message = NewMessage {
                client_id: uuid::Uuid::new_v4(),
                from: Author::Client,
                user_id: None,
                body: format!("Viesti {i}"),
                at: now,
            };
            let next = chat
                .after_message(Author::Client, &Default::default(), now)
                .unwrap();
            let mut events = message_events(&chat, &next, &message);
            if i == 0 {
                events.retain(|e| e.kind != "chat.message");
            }
            store.insert_chat_message(&next, &message, &events).await
        }));
    }
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.push(writer.await.unwrap());
    }
    assert!(outcomes[0].is_err(), "the broken message is refused");
    for (i, outcome) in outcomes.iter().enumerate().skip(1) {
        match outcome {
            Ok(MessageWrite::Created(message)) => assert_eq!(message.seq, 1, "chat {i}"),
            other => panic!("chat {i}: {other:?}"),
        }
        let stored = db.store.chat_messages(chats[i].id).await.unwrap();
        assert_eq!(stored.len(), 1, "chat {i} holds its message once");
        let stream = format!("chat:{}", chats[i].id);
        let events = db.store.events_since(&stream, 0, 10).await.unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
    }
    let refused = db.store.get_chat(chats[0].id).await.unwrap().unwrap();
    assert_eq!(
        refused.version, chats[0].version,
        "the refused chat is unchanged"
    );
    assert!(
        db.store
            .chat_messages(chats[0].id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.store
            .stream_head(&format!("chat:{}", chats[0].id))
            .await
            .unwrap(),
        0
    );
}
