//! Which backups `backup prune` keeps: a grandfather-father-son policy
//! (the newest N, the newest of each of the last N days, ISO weeks and
//! months that have a backup), as restic and borg count them. Pure: the
//! store is not read here.

use super::manifest::BackupId;
pub use crate::model::retention_policy::RetentionPolicy;
use time::OffsetDateTime;

/// What the policy decides for one backup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Decision {
    /// The backup.
    pub id: BackupId,
    /// When it was made.
    #[schemars(with = "String")]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The rules that keep it (`last`, `daily`, `weekly`, `monthly`);
    /// empty: it is deleted.
    pub kept_by: Vec<&'static str>,
}

impl Decision {
    /// Whether it is kept.
    pub fn keep(&self) -> bool {
        !self.kept_by.is_empty()
    }
}

fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(time::UtcOffset::UTC)
}

/// The period a backup falls in, for one rule (year and day, week or month).
type Bucket = fn(OffsetDateTime) -> (i32, u32);

/// The decision for every backup, newest first.
pub(crate) fn decide(
    policy: &RetentionPolicy,
    backups: &[(BackupId, OffsetDateTime)],
) -> Vec<Decision> {
    let mut sorted: Vec<&(BackupId, OffsetDateTime)> = backups.iter().collect();
    sorted.sort_by(|a, b| (b.1, &b.0).cmp(&(a.1, &a.0)));
    let mut decisions: Vec<Decision> = sorted
        .iter()
        .map(|(id, at)| Decision {
            id: id.clone(),
            created_at: *at,
            kept_by: Vec::new(),
        })
        .collect();
    let rules: [(&'static str, u32, Bucket); 4] = [
        ("last", policy.keep_last, |_| (0, 0)),
        ("daily", policy.keep_daily, |at| {
            (utc(at).year(), u32::from(utc(at).ordinal()))
        }),
        ("weekly", policy.keep_weekly, |at| {
            let (year, week, _) = utc(at).to_iso_week_date();
            (year, u32::from(week))
        }),
        ("monthly", policy.keep_monthly, |at| {
            (utc(at).year(), u32::from(u8::from(utc(at).month())))
        }),
    ];
    for (name, count, bucket) in rules {
        let mut kept = 0;
        let mut last_bucket = None;
        for decision in &mut decisions {
            if kept >= count {
                break;
            }
            let this = bucket(decision.created_at);
            // `last` keeps every one; the others the newest of each bucket.
            if name != "last" && last_bucket == Some(this) {
                continue;
            }
            last_bucket = Some(this);
            decision.kept_by.push(name);
            kept += 1;
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn id(n: usize) -> BackupId {
        BackupId::try_from(format!("b{n:04}")).unwrap()
    }

    /// A backup every day at 02:00 for 400 days, and a second one at
    /// 14:00 every tenth day.
    fn history() -> Vec<(BackupId, OffsetDateTime)> {
        let start = time::macros::datetime!(2025-01-01 02:00 UTC);
        let mut out = Vec::new();
        for day in 0..400 {
            out.push((id(out.len()), start + Duration::days(day)));
            if day % 10 == 0 {
                out.push((
                    id(out.len()),
                    start + Duration::days(day) + Duration::hours(12),
                ));
            }
        }
        out
    }

    #[test]
    fn seven_daily_four_weekly_twelve_monthly_over_400_days() {
        let policy = RetentionPolicy {
            keep_last: 0,
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
        };
        let backups = history();
        let decisions = decide(&policy, &backups);
        assert_eq!(decisions.len(), backups.len());
        let kept: Vec<&Decision> = decisions.iter().filter(|d| d.keep()).collect();
        let newest = backups.iter().map(|b| b.1).max().unwrap();
        // The daily ones: the newest backup of each of the last 7 days.
        let daily: Vec<OffsetDateTime> = kept
            .iter()
            .filter(|d| d.kept_by.contains(&"daily"))
            .map(|d| d.created_at)
            .collect();
        assert_eq!(daily.len(), 7);
        for (n, at) in daily.iter().enumerate() {
            assert_eq!(newest.date() - Duration::days(n as i64), at.date());
        }
        // Day 390 had two backups: only its 14:00 one can be kept.
        assert!(kept.iter().all(|d| {
            let same_day = backups
                .iter()
                .filter(|b| b.1.date() == d.created_at.date())
                .map(|b| b.1)
                .max()
                .unwrap();
            d.created_at == same_day
        }));
        let weekly = kept
            .iter()
            .filter(|d| d.kept_by.contains(&"weekly"))
            .count();
        let monthly: Vec<(i32, time::Month)> = kept
            .iter()
            .filter(|d| d.kept_by.contains(&"monthly"))
            .map(|d| (d.created_at.year(), d.created_at.month()))
            .collect();
        assert_eq!(weekly, 4);
        assert_eq!(monthly.len(), 12);
        // Twelve different months, the newest first, and each the month's last backup.
        let mut distinct = monthly.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 12);
        assert_eq!(monthly[0], (newest.year(), newest.month()));
        // Rules overlap: fewer than 7 + 4 + 12 backups are kept.
        assert!(kept.len() < 23 && kept.len() >= 12, "{}", kept.len());
        // Everything older than the oldest monthly one is deleted.
        let oldest_kept = kept.iter().map(|d| d.created_at).min().unwrap();
        assert!(decisions
            .iter()
            .filter(|d| d.created_at < oldest_kept)
            .all(|d| !d.keep()));
    }

    #[test]
    fn keep_last_keeps_exactly_the_newest() {
        let policy = RetentionPolicy {
            keep_last: 3,
            ..RetentionPolicy::default()
        };
        let decisions = decide(&policy, &history());
        let kept: Vec<_> = decisions.iter().filter(|d| d.keep()).collect();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].id, decisions[0].id);
        assert!(decisions[..3].iter().all(Decision::keep));
        assert!(!policy.keeps_nothing());
        assert!(RetentionPolicy::default().keeps_nothing());
    }
}
