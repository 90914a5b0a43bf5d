//! `api/src/db/schema.rs` is kept by hand (diesel's print-schema needs libpq). This test reads
//! it and a freshly migrated database and names every difference: tables or columns on one
//! side only, column types, nullability, primary keys.
use gmud_tests::TestApp;
use std::collections::{BTreeMap, BTreeSet};

/// Columns the schema leaves out on purpose, and why.
const NOT_IN_SCHEMA: &[(&str, &str)] = &[
    (
        "rdms.search",
        "generated tsvector, queried through raw SQL fragments only",
    ),
    (
        "tickets.search",
        "generated tsvector, queried through raw SQL fragments only",
    ),
    (
        "kb_articles.search",
        "generated tsvector, queried through raw SQL fragments only",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// PostgreSQL's `udt_name`: `int8`, `text`, `rdm_state`, `_user_role` (an array)…
    udt: String,
    nullable: bool,
}

#[derive(Debug, Default)]
struct Table {
    primary_key: Vec<String>,
    columns: BTreeMap<String, Column>,
}

/// `Name => "pg_name"` pairs of the `sql_types` module.
fn enum_names(src: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in src.lines() {
        let line = line.trim();
        if let Some((name, pg)) = line.split_once("=>") {
            let pg = pg.trim().trim_end_matches(',').trim_matches('"');
            let name = name.trim();
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric()) {
                out.insert(name.to_string(), pg.to_string());
            }
        }
    }
    out
}

/// A diesel column type as PostgreSQL names it.
fn udt_of(diesel: &str, enums: &BTreeMap<String, String>) -> Column {
    let t = diesel.trim();
    if let Some(inner) = t
        .strip_prefix("Nullable<")
        .and_then(|r| r.strip_suffix('>'))
    {
        return Column {
            nullable: true,
            ..udt_of(inner, enums)
        };
    }
    if let Some(inner) = t.strip_prefix("Array<").and_then(|r| r.strip_suffix('>')) {
        let element = udt_of(inner, enums);
        return Column {
            udt: format!("_{}", element.udt),
            nullable: false,
        };
    }
    let last = t.rsplit("::").next().unwrap_or(t);
    let udt = match last {
        "Int8" | "BigInt" => "int8".to_string(),
        "Int4" | "Integer" => "int4".to_string(),
        "Text" => "text".to_string(),
        "Bool" => "bool".to_string(),
        "Timestamptz" => "timestamptz".to_string(),
        "Date" => "date".to_string(),
        "Jsonb" => "jsonb".to_string(),
        "Bytea" => "bytea".to_string(),
        other => enums
            .get(other)
            .cloned()
            .unwrap_or_else(|| format!("<unknown diesel type {other}>")),
    };
    Column {
        udt,
        nullable: false,
    }
}

/// The `diesel::table!` blocks of schema.rs.
fn parse_schema(src: &str) -> BTreeMap<String, Table> {
    let enums = enum_names(src);
    let mut tables = BTreeMap::new();
    let mut rest = src;
    while let Some(start) = rest.find("diesel::table! {") {
        rest = &rest[start + "diesel::table! {".len()..];
        let body_end = rest.find("\n}\n").expect("a table! block ends");
        let body = &rest[..body_end];
        let header_end = body.find('{').expect("table header");
        let header = body[..header_end].trim();
        let (name, pk) = header.split_once('(').expect("name (primary key)");
        let primary_key = pk
            .trim_end_matches(')')
            .split(',')
            .map(|c| c.trim().to_string())
            .collect();
        let mut table = Table {
            primary_key,
            ..Table::default()
        };
        for line in body[header_end + 1..].lines() {
            let line = line.trim().trim_end_matches(',');
            if let Some((col, ty)) = line.split_once("->") {
                table
                    .columns
                    .insert(col.trim().to_string(), udt_of(ty, &enums));
            }
        }
        tables.insert(name.trim().to_string(), table);
        rest = &rest[body_end..];
    }
    tables
}

async fn database(db_url: &str) -> BTreeMap<String, Table> {
    let (client, conn) = tokio_postgres::connect(db_url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let rows = client
        .query(
            "SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable = 'YES'
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.table_name <> '__diesel_schema_migrations'",
            &[],
        )
        .await
        .expect("columns");
    for r in rows {
        let table: String = r.get(0);
        tables.entry(table).or_default().columns.insert(
            r.get(1),
            Column {
                udt: r.get(2),
                nullable: r.get(3),
            },
        );
    }
    let keys = client
        .query(
            "SELECT tc.table_name, kcu.column_name
             FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage kcu
               ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
             WHERE tc.table_schema = 'public' AND tc.constraint_type = 'PRIMARY KEY'
             ORDER BY tc.table_name, kcu.ordinal_position",
            &[],
        )
        .await
        .expect("primary keys");
    for r in keys {
        let table: String = r.get(0);
        if let Some(t) = tables.get_mut(&table) {
            t.primary_key.push(r.get(1));
        }
    }
    tables
}

/// Every difference, one line each.
fn differences(code: &BTreeMap<String, Table>, db: &BTreeMap<String, Table>) -> Vec<String> {
    let skipped: BTreeSet<&str> = NOT_IN_SCHEMA.iter().map(|(c, _)| *c).collect();
    let mut out = Vec::new();
    for name in code.keys().chain(db.keys()).collect::<BTreeSet<_>>() {
        match (code.get(name), db.get(name)) {
            (Some(_), None) => out.push(format!(
                "table `{name}` is in schema.rs but not in the migrations"
            )),
            (None, Some(_)) => out.push(format!(
                "table `{name}` is in the migrations but not in schema.rs"
            )),
            (Some(c), Some(d)) => {
                if c.primary_key != d.primary_key {
                    out.push(format!(
                        "table `{name}`: primary key is ({}) in schema.rs, ({}) in the database",
                        c.primary_key.join(", "),
                        d.primary_key.join(", ")
                    ));
                }
                for col in c
                    .columns
                    .keys()
                    .chain(d.columns.keys())
                    .collect::<BTreeSet<_>>()
                {
                    let full = format!("{name}.{col}");
                    if skipped.contains(full.as_str()) {
                        continue;
                    }
                    match (c.columns.get(col), d.columns.get(col)) {
                        (Some(_), None) => out.push(format!(
                            "column `{full}` is in schema.rs but not in the migrations"
                        )),
                        (None, Some(dc)) => out.push(format!(
                            "column `{full}` ({}{}) is in the migrations but not in schema.rs",
                            dc.udt,
                            if dc.nullable { ", nullable" } else { "" }
                        )),
                        (Some(cc), Some(dc)) => {
                            if cc.udt != dc.udt {
                                out.push(format!(
                                    "column `{full}`: type {} in schema.rs, {} in the database",
                                    cc.udt, dc.udt
                                ));
                            }
                            if cc.nullable != dc.nullable {
                                out.push(format!(
                                    "column `{full}`: {} in schema.rs, {} in the database",
                                    if cc.nullable { "Nullable" } else { "NOT NULL" },
                                    if dc.nullable { "nullable" } else { "NOT NULL" }
                                ));
                            }
                        }
                        (None, None) => {}
                    }
                }
            }
            (None, None) => {}
        }
    }
    out
}

fn schema_rs() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/db/schema.rs");
    std::fs::read_to_string(path).expect("read schema.rs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_matches_the_migrated_database() {
    let app = TestApp::spawn().await;
    let code = parse_schema(&schema_rs());
    assert!(code.len() > 20, "schema.rs was read: {:?}", code.keys());
    let db = database(&app.db_url).await;
    let diff = differences(&code, &db);
    assert!(
        diff.is_empty(),
        "api/src/db/schema.rs and migrations/ disagree:\n  {}",
        diff.join("\n  ")
    );
}

/// The comparison itself names what differs (so a drift cannot slip through silently).
#[test]
fn the_comparison_names_each_kind_of_difference() {
    let code = parse_schema(
        "pub mod sql_types {\n    pg_enum_types!(\n        RdmState => \"rdm_state\",\n    );\n}\n\
         diesel::table! {\n    rdms (id) {\n        id -> Int8,\n        state -> crate::db::schema::sql_types::RdmState,\n        title -> Text,\n        gone -> Nullable<Text>,\n    }\n}\n",
    );
    let mut db = BTreeMap::new();
    let mut t = Table {
        primary_key: vec!["id".into()],
        ..Table::default()
    };
    for (c, udt, nullable) in [
        ("id", "int8", false),
        ("state", "text", false),
        ("title", "text", true),
        ("added", "jsonb", false),
    ] {
        t.columns.insert(
            c.into(),
            Column {
                udt: udt.into(),
                nullable,
            },
        );
    }
    db.insert("rdms".to_string(), t);
    db.insert("orphan".to_string(), Table::default());
    let diff = differences(&code, &db).join("\n");
    for expected in [
        "column `rdms.state`: type rdm_state in schema.rs, text in the database",
        "column `rdms.title`: NOT NULL in schema.rs, nullable in the database",
        "column `rdms.gone` is in schema.rs but not in the migrations",
        "column `rdms.added` (jsonb) is in the migrations but not in schema.rs",
        "table `orphan` is in the migrations but not in schema.rs",
    ] {
        assert!(diff.contains(expected), "missing `{expected}` in:\n{diff}");
    }
}
