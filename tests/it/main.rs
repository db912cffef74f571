//! One integration-test binary: store conformance and server tests, each on SQLite and on
//! PostgreSQL (127.0.0.1:5432, or `PAIVYSTYS_TEST_POSTGRES_URL`).

mod helpers;
mod process;

mod audit;
mod authz;
mod bad_input;
mod chats;
mod cli;
mod crash;
mod entries;
mod handovers;
mod i18n;
mod instances;
mod operations;
mod reports;
mod retention;
mod security;
mod sessions;
mod shelter;
mod store_conformance;
mod streams;
mod telephony;

/// Says once, visibly, whether the PostgreSQL half of the suite ran or was skipped.
#[tokio::test]
async fn postgres_reachability() {
    let url = helpers::postgres_url();
    match <sqlx::PgConnection as sqlx::Connection>::connect(&url).await {
        Ok(_) => println!("PostgreSQL reachable at {url}: the ::postgres cases ran for real"),
        Err(err) => println!(
            "SKIPPED: every ::postgres case, PostgreSQL is not reachable at {url} ({err}); \
             with CI=true they fail instead"
        ),
    }
}
