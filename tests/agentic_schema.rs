//! The shipped schema behaves as its migrations say: cascades and
//! restrictions, CHECK ranges, the append-only audit log, row-level security,
//! retention, partitions, and the index of a session's recent messages.

use crate::support::{schemactl, server, Project, TestDb};
use tokio_postgres::Client;

/// A database migrated with the repository's migrations.
async fn migrated() -> (TestDb, Client) {
    let db = server().database().await;
    let project = Project::new();
    let migrations = crate::support::repository().join("migrations");
    schemactl(
        &project,
        &db,
        &["migrate", "--migrations-dir", migrations.to_str().unwrap()],
    )
    .expect_code(0);
    let client = db.client().await;
    (db, client)
}

/// A user, an agent, a session; returns their ids.
async fn seed(client: &Client, email: &str) -> (i64, i64, i64) {
    let user: i64 = client
        .query_one(
            "INSERT INTO users (email, display_name) VALUES ($1, 'U') RETURNING id",
            &[&email],
        )
        .await
        .unwrap()
        .get(0);
    let agent: i64 = client
        .query_one(
            "INSERT INTO agents (name, persona_type) VALUES ($1, 'developer') RETURNING id",
            &[&format!("agent-{email}")],
        )
        .await
        .unwrap()
        .get(0);
    let session: i64 = client
        .query_one("INSERT INTO agent_sessions (agent_id, user_id, trust_level) VALUES ($1, $2, 'L2') RETURNING id", &[&agent, &user])
        .await
        .unwrap()
        .get(0);
    (user, agent, session)
}

async fn fails(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("expected an error from: {sql}"),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

/// The plan PostgreSQL chooses for `sql`.
async fn explain(client: &Client, sql: &str) -> String {
    client
        .query(&format!("EXPLAIN {sql}"), &[])
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"))
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn count(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn cascades_and_restrictions_do_what_the_schema_says() {
    let (_db, client) = migrated().await;
    let (user, agent, session) = seed(&client, "a@example.com").await;
    client
        .batch_execute(&format!(
            "INSERT INTO agent_decisions (session_id, decision_type, action_taken, confidence) VALUES ({session}, 'plan', 'write code', 0.9);
             INSERT INTO conversation_history (session_id, role, content) VALUES ({session}, 'user', 'hello');
             INSERT INTO projects (owner_id, name) VALUES ({user}, 'p');"
        ))
        .await
        .unwrap();
    // Owned children go with their session.
    client
        .batch_execute(&format!("DELETE FROM agent_sessions WHERE id = {session}"))
        .await
        .unwrap();
    assert_eq!(
        count(&client, "SELECT count(*) FROM agent_decisions").await,
        0
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM conversation_history").await,
        0
    );
    // A project's owner cannot be deleted from under it.
    let refused = fails(&client, &format!("DELETE FROM users WHERE id = {user}")).await;
    assert!(
        refused.contains("foreign key constraint \"projects_owner_id_fkey\""),
        "{refused}"
    );
    // History restricts: an agent with audit rows cannot be deleted.
    client
        .batch_execute(&format!(
            "INSERT INTO agent_audit_log (agent_id, action_type) VALUES ({agent}, 'login')"
        ))
        .await
        .unwrap();
    assert!(
        fails(&client, &format!("DELETE FROM agents WHERE id = {agent}"))
            .await
            .contains("agent_audit_log")
    );
}

#[tokio::test]
async fn check_constraints_reject_out_of_range_values() {
    let (_db, client) = migrated().await;
    let (_, agent, session) = seed(&client, "b@example.com").await;
    let rejected = [
        format!("INSERT INTO agent_decisions (session_id, decision_type, action_taken, confidence) VALUES ({session}, 'x', 'y', 1.5)"),
        format!("INSERT INTO agent_decisions (session_id, decision_type, action_taken, confidence, user_feedback) VALUES ({session}, 'x', 'y', 0.5, 'maybe')"),
        format!("INSERT INTO trust_metrics (session_id, metric_type, value) VALUES ({session}, 'accuracy', 1.2)"),
        format!("INSERT INTO trust_metrics (session_id, metric_type, value) VALUES ({session}, 'complexity', 11)"),
        format!("INSERT INTO agent_sessions (agent_id, user_id, trust_level) SELECT {agent}, id, 'L5' FROM users LIMIT 1"),
        format!("INSERT INTO agent_audit_log (agent_id, action_type, risk_level) VALUES ({agent}, 'x', 'extreme')"),
        "WITH t AS (INSERT INTO tasks (external_task_id, description) VALUES ('T-9', 'd') RETURNING id) INSERT INTO task_progress (task_id, phase, percentage) SELECT id, 'p', 101 FROM t".to_string(),
    ];
    for sql in &rejected {
        let message = fails(&client, sql).await;
        assert!(
            message.contains("violates check constraint"),
            "{sql}: {message}"
        );
    }
    client
        .batch_execute(&format!(
            "INSERT INTO trust_metrics (session_id, metric_type, value) VALUES ({session}, 'accuracy', 0.5), ({session}, 'complexity', 7)"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes_but_retention_purges_expired_rows() {
    let (_db, client) = migrated().await;
    let (_, agent, _) = seed(&client, "c@example.com").await;
    client
        .batch_execute(&format!(
            "INSERT INTO agent_audit_log (agent_id, action_type, occurred_at) VALUES ({agent}, 'old', now() - interval '4 years'), ({agent}, 'recent', now() - interval '1 year')"
        ))
        .await
        .unwrap();
    assert!(
        fails(&client, "UPDATE agent_audit_log SET action_type = 'x'")
            .await
            .contains("append-only")
    );
    assert!(fails(&client, "DELETE FROM agent_audit_log")
        .await
        .contains("append-only"));
    assert_eq!(count(&client, "SELECT purge_agent_audit_log()").await, 1);
    let left: String = client
        .query_one(
            "SELECT string_agg(action_type, ',') FROM agent_audit_log",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, "recent");
    assert!(
        fails(&client, "DELETE FROM agent_audit_log")
            .await
            .contains("append-only"),
        "the purge must not leave deletes open"
    );
}

#[tokio::test]
async fn task_and_waiver_changes_are_audited() {
    let (_db, client) = migrated().await;
    client
        .batch_execute(
            "INSERT INTO tasks (external_task_id, description) VALUES ('T-1', 'd');
             UPDATE tasks SET status = 'running' WHERE external_task_id = 'T-1';
             INSERT INTO waivers (title, reason, gates, impact_level, expires_at) VALUES ('w', 'r', ARRAY['lint'], 'low', now() + interval '1 day');",
        )
        .await
        .unwrap();
    let operations: String = client
        .query_one("SELECT string_agg(table_name || ':' || operation, ',' ORDER BY id) FROM governance_changes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(operations, "tasks:INSERT,tasks:UPDATE,waivers:INSERT");
}

#[tokio::test]
async fn row_level_security_separates_users_and_keeps_reporting_read_only() {
    let (_db, client) = migrated().await;
    let (alice, _, alice_session) = seed(&client, "alice@example.com").await;
    let (bob, _, _) = seed(&client, "bob@example.com").await;
    client
        .batch_execute(&format!("INSERT INTO conversation_history (session_id, role, content) VALUES ({alice_session}, 'user', 'secret')"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("SET ROLE agentic_app; SET app.user_id = '{bob}'"))
        .await
        .unwrap();
    assert_eq!(
        count(&client, "SELECT count(*) FROM agent_sessions").await,
        1
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM conversation_history").await,
        0
    );
    let stolen = fails(&client, &format!("INSERT INTO agent_sessions (agent_id, user_id) SELECT agent_id, {alice} FROM agent_sessions LIMIT 1")).await;
    assert!(stolen.contains("row-level security"), "{stolen}");
    client
        .batch_execute(&format!("SET app.user_id = '{alice}'"))
        .await
        .unwrap();
    assert_eq!(
        count(&client, "SELECT count(*) FROM conversation_history").await,
        1
    );
    client
        .batch_execute(&format!("INSERT INTO conversation_history (session_id, role, content) VALUES ({alice_session}, 'agent', 'hi')"))
        .await
        .unwrap();
    client
        .batch_execute("RESET ROLE; SET ROLE agentic_reporting")
        .await
        .unwrap();
    assert_eq!(
        count(&client, "SELECT count(*) FROM conversation_history").await,
        2
    );
    assert!(fails(&client, "DELETE FROM conversation_history")
        .await
        .contains("permission denied"));
    assert!(
        fails(&client, "SELECT count(*) FROM schema_versions")
            .await
            .contains("permission denied"),
        "the history tables are not the application's"
    );
    client.batch_execute("RESET ROLE").await.unwrap();
}

#[tokio::test]
async fn retention_archives_and_purges_exactly_the_expired_rows() {
    let (_db, client) = migrated().await;
    let (_, _, session) = seed(&client, "d@example.com").await;
    client
        .batch_execute(&format!(
            "INSERT INTO conversation_history (session_id, role, content, created_at) VALUES
                 ({session}, 'user', 'old', now() - interval '91 days'), ({session}, 'user', 'new', now() - interval '89 days');
             INSERT INTO agent_decisions (session_id, decision_type, action_taken, confidence, created_at) VALUES
                 ({session}, 't', 'old', 0.5, now() - interval '7 months'),
                 ({session}, 't', 'old-with-provenance', 0.5, now() - interval '7 months'),
                 ({session}, 't', 'new', 0.5, now() - interval '5 months');
             INSERT INTO provenance_records (decision_id, decision_type, decision_data)
                 SELECT id, 't', '{{}}' FROM agent_decisions WHERE action_taken = 'old-with-provenance';
             INSERT INTO system_metrics (name, value, collected_at) VALUES
                 ('cpu', 1, now() - interval '40 days'), ('cpu', 3, now() - interval '40 days'), ('cpu', 9, now());"
        ))
        .await
        .unwrap();
    let text: String = client
        .query_one("SELECT run_retention()::text", &[])
        .await
        .unwrap()
        .get(0);
    let result: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(result["messages_archived"], 1);
    assert_eq!(result["decisions_purged"], 1);
    assert_eq!(result["metric_rows_aggregated"], 2);
    let kept: String = client
        .query_one(
            "SELECT string_agg(content, ',') FROM conversation_history",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, "new");
    let archived: String = client
        .query_one(
            "SELECT string_agg(content, ',') FROM conversation_history_archive",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, "old");
    let decisions: String = client
        .query_one(
            "SELECT string_agg(action_taken, ',' ORDER BY id) FROM agent_decisions",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(decisions, "old-with-provenance,new");
    let daily: (i64, f64) = {
        let row = client
            .query_one("SELECT samples, avg_value FROM system_metrics_daily", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(daily, (2, 2.0));
}

#[tokio::test]
async fn monthly_partitions_are_created_once() {
    let (_db, client) = migrated().await;
    let partitions =
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'conversation_history'::regclass";
    assert_eq!(
        count(&client, partitions).await,
        4,
        "this month, two ahead, and the default partition"
    );
    assert_eq!(
        count(&client, "SELECT create_conversation_partitions(2)::bigint").await,
        0
    );
    assert_eq!(
        count(&client, "SELECT create_conversation_partitions(4)::bigint").await,
        2
    );
    let (_, _, session) = seed(&client, "e@example.com").await;
    client.batch_execute(&format!("INSERT INTO conversation_history (session_id, role, content) VALUES ({session}, 'user', 'now')")).await.unwrap();
    let partition: String = client
        .query_one(
            "SELECT tableoid::regclass::text FROM conversation_history",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        partition.starts_with("conversation_history_20"),
        "{partition}"
    );
}

#[tokio::test]
async fn a_sessions_recent_messages_use_the_index() {
    let (_db, client) = migrated().await;
    let (_, _, session) = seed(&client, "f@example.com").await;
    let (_, _, other) = seed(&client, "g@example.com").await;
    client
        .batch_execute(&format!(
            "INSERT INTO conversation_history (session_id, role, content, created_at)
             SELECT CASE WHEN i % 2 = 0 THEN {session} ELSE {other} END, 'user', 'message ' || i, now() - i * interval '1 second'
             FROM generate_series(1, 20000) i;
             ANALYZE conversation_history;"
        ))
        .await
        .unwrap();
    let plan = explain(
        &client,
        &format!("SELECT * FROM conversation_history WHERE session_id = {session} ORDER BY created_at DESC LIMIT 50"),
    )
    .await;
    assert!(
        plan.contains("Index Scan") && plan.contains("session_id_created_at"),
        "{plan}"
    );
    assert!(
        !plan.contains("Seq Scan") && !plan.contains("Sort  "),
        "{plan}"
    );
}

/// A 1536-dimension embedding with `leading` first and zeros after.
fn embedding(leading: &[f32]) -> String {
    let mut values: Vec<String> = leading.iter().map(f32::to_string).collect();
    values.resize(1536, "0".to_string());
    format!("[{}]", values.join(","))
}

#[tokio::test]
async fn knowledge_nearest_neighbours_use_the_hnsw_index_where_pgvector_is() {
    let (_db, client) = migrated().await;
    let has_vector = count(
        &client,
        "SELECT count(*) FROM pg_extension WHERE extname = 'vector'",
    )
    .await
        == 1;
    if std::env::var_os("SCHEMACTL_TEST_EXPECT_PGVECTOR").is_some() {
        assert!(
            has_vector,
            "this leg's server ships pgvector: 0003 must use it"
        );
    }
    let column_type: String = client
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'agent_knowledge'::regclass AND attname = 'embedding'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let indexes = count(
        &client,
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'agent_knowledge_embedding_cosine' AND indexdef LIKE '%USING hnsw (embedding vector_cosine_ops)%'",
    )
    .await;
    if !has_vector {
        // The documented fallback (migrations/README.md): real[], no index.
        assert_eq!((column_type.as_str(), indexes), ("real[]", 0));
        return;
    }
    assert_eq!((column_type.as_str(), indexes), ("vector(1536)", 1));
    let (_, agent, _) = seed(&client, "v@example.com").await;
    for (domain, leading) in [
        ("east", &[1.0, 0.0][..]),
        ("north", &[0.0, 1.0][..]),
        ("north-east", &[1.0, 1.0][..]),
    ] {
        client
            .execute(
                "INSERT INTO agent_knowledge (agent_id, knowledge_type, domain, content, embedding) VALUES ($1, 'fact', $2, '{}', $3::text::vector)",
                &[&agent, &domain, &embedding(leading)],
            )
            .await
            .unwrap();
    }
    let query = embedding(&[1.0, 0.2]);
    let nearest: Vec<String> = client
        .query(
            "SELECT domain FROM agent_knowledge ORDER BY embedding <=> $1::text::vector LIMIT 2",
            &[&query],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(nearest, ["east", "north-east"]);
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let plan = explain(
        &client,
        &format!("SELECT id FROM agent_knowledge ORDER BY embedding <=> '{query}'::vector LIMIT 2"),
    )
    .await;
    assert!(plan.contains("agent_knowledge_embedding_cosine"), "{plan}");
}
