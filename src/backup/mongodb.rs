//! The MongoDB part of a backup, through the driver (no `mongodump`
//! needed): each collection of the databases the project's `schemas/`
//! manages is written in mongodump's layout (`mongodb/<db>/<coll>.bson`,
//! the documents' BSON one after another, and `<coll>.metadata.json`, its
//! options — the validator — and indexes), each file sealed as the rest of
//! the backup, with the documents' count and an order-independent hash in
//! the manifest. `backup export` gives the plain files, which `mongorestore`
//! restores. `restore_into` and `compare` put a backup's collections back
//! (options first, documents without validation, indexes last) and check
//! them against the manifest.

use super::encryption::{Identities, Sealer};
use super::manifest::{
    FileContent, Manifest, MongoCollection, MongoDatabase, MongoPart, StoredFile,
};
use super::restoring::open;
use super::store::{Pending, Store};
use crate::error::backup_problem::BackupProblem;
use crate::Error;
use mongodb::bson::{doc, Bson, Document, RawDocumentBuf};
use mongodb::{Client, Database};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// Documents inserted per round trip on restore.
const BATCH: usize = 1000;

fn failed(context: String) -> impl FnOnce(mongodb::error::Error) -> Error {
    move |e| Error::Database {
        context,
        message: crate::mongo::live::server_message(&e),
        sqlstate: None,
    }
}

/// The collections of `database` (views and `system.*` left out), with
/// their options as the server gives them.
async fn collections(database: &Database) -> Result<Vec<(String, Document)>, Error> {
    let reply = database
        .run_command(doc! { "listCollections": 1, "filter": { "type": "collection" } })
        .await
        .map_err(failed(format!(
            "cannot list the collections of {}",
            database.name()
        )))?;
    let batch = reply
        .get_document("cursor")
        .and_then(|c| c.get_array("firstBatch"))
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for entry in batch {
        let Bson::Document(entry) = entry else {
            continue;
        };
        let Ok(name) = entry.get_str("name") else {
            continue;
        };
        if name.starts_with("system.") {
            continue;
        }
        let options = entry.get_document("options").cloned().unwrap_or_default();
        out.push((name.to_string(), options));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A collection's indexes as `listIndexes` gives them.
async fn indexes(database: &Database, collection: &str) -> Result<Vec<Bson>, Error> {
    let reply = database
        .run_command(doc! { "listIndexes": collection })
        .await
        .map_err(failed(format!(
            "cannot list the indexes of {}.{collection}",
            database.name()
        )))?;
    Ok(reply
        .get_document("cursor")
        .and_then(|c| c.get_array("firstBatch"))
        .cloned()
        .unwrap_or_default())
}

/// A file name for a collection (`/` and `%` escaped).
fn file_stem(database: &str, collection: &str) -> String {
    let escaped = collection.replace('%', "%25").replace('/', "%2F");
    format!("mongodb/{database}/{escaped}")
}

/// The order-independent hash of documents: the wrapping sum of the first
/// eight bytes of each document's sha256.
#[derive(Default)]
struct DocumentHash {
    count: u64,
    sum: u64,
}

impl DocumentHash {
    fn add(&mut self, bytes: &[u8]) {
        let digest = Sha256::digest(bytes);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        self.sum = self.sum.wrapping_add(u64::from_le_bytes(first));
        self.count += 1;
    }
}

/// Writes every collection of `databases` into the backup being made.
pub(crate) async fn dump(
    client: &Client,
    server: &str,
    databases: &[String],
    pending: &Pending,
    encryption: &super::Encryption,
    files: &mut Vec<StoredFile>,
) -> Result<MongoPart, Error> {
    let mut part = MongoPart {
        server: server.into(),
        databases: Vec::new(),
    };
    for name in databases {
        let database = client.database(name);
        let mut kept = MongoDatabase {
            name: name.clone(),
            collections: Vec::new(),
        };
        for (collection, options) in collections(&database).await? {
            let stem = file_stem(name, &collection);
            let documents_file = format!("{stem}.bson.zst.age");
            let metadata_file = format!("{stem}.metadata.json.zst.age");
            let mut sealer =
                Sealer::new(pending.create(&documents_file)?, encryption).map_err(|source| {
                    Error::Io {
                        path: documents_file.clone().into(),
                        source,
                    }
                })?;
            let mut hash = DocumentHash::default();
            let mut cursor = database
                .collection::<RawDocumentBuf>(&collection)
                .find(doc! {})
                .await
                .map_err(failed(format!("cannot read {name}.{collection}")))?;
            while cursor
                .advance()
                .await
                .map_err(failed(format!("cannot read {name}.{collection}")))?
            {
                let bytes = cursor.current().as_bytes();
                hash.add(bytes);
                sealer.write_all(bytes).map_err(|source| Error::Io {
                    path: documents_file.clone().into(),
                    source,
                })?;
            }
            let (size_bytes, sha256) = sealer.finish().map_err(|source| Error::Io {
                path: documents_file.clone().into(),
                source,
            })?;
            files.push(StoredFile {
                name: documents_file.clone(),
                content: FileContent::MongoDocuments,
                size_bytes,
                sha256,
            });
            let metadata = doc! {
                "options": options,
                "indexes": indexes(&database, &collection).await?,
                "collectionName": collection.clone(),
                "type": "collection",
            };
            let json = Bson::Document(metadata)
                .into_canonical_extjson()
                .to_string();
            let mut sealer = Sealer::new(pending.create(&metadata_file)?, encryption)
                .and_then(|mut s| s.write_all(json.as_bytes()).map(|_| s))
                .map_err(|source| Error::Io {
                    path: metadata_file.clone().into(),
                    source,
                })?;
            sealer.flush().ok();
            let (size_bytes, sha256) = sealer.finish().map_err(|source| Error::Io {
                path: metadata_file.clone().into(),
                source,
            })?;
            files.push(StoredFile {
                name: metadata_file.clone(),
                content: FileContent::MongoMetadata,
                size_bytes,
                sha256,
            });
            kept.collections.push(MongoCollection {
                name: collection,
                documents: hash.count,
                fingerprint: format!("{:016x}", hash.sum),
                documents_file,
                metadata_file,
            });
        }
        part.databases.push(kept);
    }
    Ok(part)
}

/// A stored file of the backup, whole, in plain text.
fn read_all(
    store: &Store,
    manifest: &Manifest,
    name: &str,
    identities: Option<&Identities>,
) -> Result<Vec<u8>, Error> {
    let file = manifest
        .files
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| {
            Error::Backup(Box::new(BackupProblem::Manifest {
                backup: manifest.id.to_string(),
                reason: format!("its manifest lists no file {name}"),
            }))
        })?;
    let mut bytes = Vec::new();
    open(store, manifest, file, identities)?
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Error::Backup(Box::new(BackupProblem::Unreadable {
                backup: manifest.id.to_string(),
                file: name.into(),
                reason: e.to_string(),
            }))
        })?;
    Ok(bytes)
}

/// The documents of a `.bson` file, one after another.
fn documents(bytes: &[u8]) -> Result<Vec<RawDocumentBuf>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let length = bytes
            .get(at..at + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("a document is cut short")?;
        let document = bytes
            .get(at..at + length)
            .ok_or("a document is cut short")?;
        out.push(RawDocumentBuf::from_bytes(document.to_vec()).map_err(|e| e.to_string())?);
        at += length;
    }
    Ok(out)
}

/// Puts the backup's collections of database `from` into database `into`
/// on `client` (which must have none of them).
pub(crate) async fn restore_into(
    store: &Store,
    manifest: &Manifest,
    identities: Option<&Identities>,
    client: &Client,
    from: &MongoDatabase,
    into: &str,
) -> Result<Vec<Document>, Error> {
    let database = client.database(into);
    let mut restored = Vec::new();
    for collection in &from.collections {
        let metadata = read_all(store, manifest, &collection.metadata_file, identities)?;
        let metadata: serde_json::Value = serde_json::from_slice(&metadata).map_err(|e| {
            Error::Backup(Box::new(BackupProblem::Unreadable {
                backup: manifest.id.to_string(),
                file: collection.metadata_file.clone(),
                reason: e.to_string(),
            }))
        })?;
        let metadata = match Bson::try_from(metadata) {
            Ok(Bson::Document(document)) => document,
            _ => Document::new(),
        };
        let label = format!("{into}.{}", collection.name);
        let mut create = doc! { "create": collection.name.clone() };
        if let Ok(options) = metadata.get_document("options") {
            create.extend(options.clone());
        }
        database
            .run_command(create)
            .await
            .map_err(failed(format!("cannot create {label}")))?;
        let bytes = read_all(store, manifest, &collection.documents_file, identities)?;
        let documents = documents(&bytes).map_err(|reason| {
            Error::Backup(Box::new(BackupProblem::Unreadable {
                backup: manifest.id.to_string(),
                file: collection.documents_file.clone(),
                reason,
            }))
        })?;
        let target = database.collection::<RawDocumentBuf>(&collection.name);
        for batch in documents.chunks(BATCH) {
            target
                .insert_many(batch)
                .bypass_document_validation(true)
                .ordered(true)
                .await
                .map_err(failed(format!("cannot insert into {label}")))?;
        }
        let indexes: Vec<Bson> = metadata
            .get_array("indexes")
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|index| {
                index.as_document().and_then(|d| d.get_str("name").ok()) != Some("_id_")
            })
            .map(|index| match index {
                Bson::Document(mut d) => {
                    d.remove("ns");
                    Bson::Document(d)
                }
                other => other,
            })
            .collect();
        if !indexes.is_empty() {
            database
                .run_command(doc! { "createIndexes": collection.name.clone(), "indexes": indexes })
                .await
                .map_err(failed(format!("cannot create the indexes of {label}")))?;
        }
        restored.push(metadata);
    }
    Ok(restored)
}

/// A collection's validator and index names, to compare.
fn shape(options: &Document, indexes: &[Bson]) -> (String, Vec<String>) {
    let validator = options
        .get("validator")
        .map(|v| v.clone().into_canonical_extjson().to_string())
        .unwrap_or_default();
    let mut names: Vec<String> = indexes
        .iter()
        .filter_map(|i| i.as_document()?.get_str("name").ok().map(str::to_string))
        .collect();
    names.sort();
    (validator, names)
}

/// What differs between the backup's collections of `from` and database
/// `into` on `client`.
pub(crate) async fn compare(
    client: &Client,
    from: &MongoDatabase,
    metadata: &[Document],
    into: &str,
) -> Result<Vec<String>, Error> {
    let database = client.database(into);
    let mut out = Vec::new();
    let live = collections(&database).await?;
    for (collection, metadata) in from.collections.iter().zip(metadata) {
        let expected = shape(
            &metadata
                .get_document("options")
                .cloned()
                .unwrap_or_default(),
            &metadata.get_array("indexes").cloned().unwrap_or_default(),
        );
        let options = live
            .iter()
            .find(|(name, _)| *name == collection.name)
            .map(|(_, options)| options.clone())
            .unwrap_or_default();
        let found = shape(&options, &indexes(&database, &collection.name).await?);
        if found.0 != expected.0 {
            out.push(format!(
                "collection {}.{}: the validator differs",
                from.name, collection.name
            ));
        }
        if found.1 != expected.1 {
            out.push(format!(
                "collection {}.{}: indexes {:?}, the backup recorded {:?}",
                from.name, collection.name, found.1, expected.1
            ));
        }
        let mut hash = DocumentHash::default();
        let mut cursor = database
            .collection::<RawDocumentBuf>(&collection.name)
            .find(doc! {})
            .await
            .map_err(failed(format!("cannot read {into}.{}", collection.name)))?;
        while cursor
            .advance()
            .await
            .map_err(failed(format!("cannot read {into}.{}", collection.name)))?
        {
            hash.add(cursor.current().as_bytes());
        }
        let label = format!("collection {}.{}", from.name, collection.name);
        if hash.count != collection.documents {
            out.push(format!(
                "{label}: {} documents, the backup recorded {}",
                hash.count, collection.documents
            ));
        } else if format!("{:016x}", hash.sum) != collection.fingerprint {
            out.push(format!(
                "{label}: the same {} documents in number, but other values",
                hash.count
            ));
        }
    }
    Ok(out)
}
