//! Splitting a fleet across processes: `--shard INDEX/COUNT` gives each
//! process a stable, disjoint share of the targets. A target's shard
//! depends only on its own name (the first 8 bytes of its SHA-256, modulo
//! the count), so adding or removing a tenant never moves the others, and
//! every process computes the same split from the same list without
//! talking to the others.

use sha2::{Digest, Sha256};

/// One share of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Shard {
    /// This process's share, from 0.
    pub index: u32,
    /// How many shares there are.
    pub count: u32,
}

/// The variable a Kubernetes Indexed Job sets in each pod.
pub const JOB_INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";
/// The variable that gives the shard count next to `JOB_COMPLETION_INDEX`
/// (the Job's `completions`).
pub const COUNT_VARIABLE: &str = "SCHEMACTL_SHARD_COUNT";

impl Shard {
    /// Parses `INDEX/COUNT`, e.g. `0/4`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let usage =
            || format!("--shard takes INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4, not `{text}`");
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Self { index, count })
    }

    /// The shard a Kubernetes Indexed Job pod runs: `JOB_COMPLETION_INDEX`
    /// out of `SCHEMACTL_SHARD_COUNT`. `None` when the index is not set; an
    /// error when it is set without a usable count.
    pub fn from_job_environment(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        let Some(index) = get(JOB_INDEX_VARIABLE) else {
            return Ok(None);
        };
        let count = get(COUNT_VARIABLE).ok_or_else(|| {
            format!(
                "{JOB_INDEX_VARIABLE} is set ({index}) but {COUNT_VARIABLE} is not: set it to the Job's `completions`, or give --shard INDEX/COUNT"
            )
        })?;
        Self::parse(&format!("{index}/{count}"))
            .map(Some)
            .map_err(|e| format!("{JOB_INDEX_VARIABLE}/{COUNT_VARIABLE}: {e}"))
    }

    /// Whether the target named `name` belongs to this shard.
    pub fn owns(&self, name: &str) -> bool {
        let digest = Sha256::digest(name.as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(bytes) % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_belongs_to_exactly_one_shard_and_shards_are_balanced() {
        let names: Vec<String> = (0..3000).map(|i| format!("tenant_{i:05}")).collect();
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        let mut sizes = [0usize; 3];
        for name in &names {
            let owners: Vec<&Shard> = shards.iter().filter(|s| s.owns(name)).collect();
            assert_eq!(owners.len(), 1, "{name}");
            sizes[owners[0].index as usize] += 1;
        }
        for size in sizes {
            assert!((800..1200).contains(&size), "{sizes:?}");
        }
    }

    #[test]
    fn a_bad_shard_is_refused_and_the_job_environment_needs_a_count() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_job_environment(env(&[])), Ok(None));
        assert_eq!(
            Shard::from_job_environment(env(&[
                ("JOB_COMPLETION_INDEX", "2"),
                ("SCHEMACTL_SHARD_COUNT", "3")
            ])),
            Ok(Some(Shard { index: 2, count: 3 }))
        );
        assert!(
            Shard::from_job_environment(env(&[("JOB_COMPLETION_INDEX", "2")]))
                .unwrap_err()
                .contains("SCHEMACTL_SHARD_COUNT")
        );
    }
}
