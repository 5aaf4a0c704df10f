//! Delay conditions (Capgo's `setMultiDelay`): what must hold before a downloaded `next` bundle
//! starts serving.
//!
//! Guarantees: a condition is removed once it has been met, and only then; `next` applies when
//! none remain. `Kill` is met only by a cold start, `Background` only by a return to the
//! foreground after at least its time away, `Date` by the caller's `now`, `NativeVersion` by
//! the configured native version. Every change of the pending list is recorded in the history.

use rusqlite::Connection;
use serde::Serialize;

use super::BootError;
use crate::config::{self, Config};
use crate::store::{self, Store, Tx};

/// A condition that must hold before a downloaded `next` bundle starts serving (Capgo's
/// `setMultiDelay`). Each condition is removed once it has been met; `next` applies when none
/// remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, uniffi::Enum)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DelayCondition {
    /// The app spent at least `ms` in the background (checked when it returns to the foreground).
    #[serde(rename_all = "camelCase")]
    Background { ms: u64 },
    /// The app was killed and started again (met at the next launch).
    Kill,
    /// Not before this time (Unix seconds).
    #[serde(rename_all = "camelCase")]
    Date { not_before: u64 },
    /// The native app is at least this version.
    #[serde(rename_all = "camelCase")]
    NativeVersion { at_least: String },
}

/// When delay conditions are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A cold start (`launch`): meets `Kill`.
    Launch,
    /// The app returned to the foreground after `background_ms` away: meets `Background`.
    Foreground { background_ms: u64 },
    /// An in-process apply (`apply_next`): meets neither.
    Apply,
}

/// The pending delay conditions.
pub fn delay(conn: &Connection) -> Result<Vec<DelayCondition>, BootError> {
    Ok(store::delay_conditions(conn)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// Replaces the delay conditions (an empty list cancels the delay).
pub fn set_delay(store: &mut Store, conditions: &[DelayCondition]) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let json = serde_json::to_string(conditions).expect("conditions serialize");
        store::set_delay_conditions(tx, &json)?;
        store::add_history(tx, "delay", None, &format!("delay conditions set: {json}"))?;
        Ok(())
    })
}

/// Drops the conditions met at `moment` (a `Date` condition against `now`, Unix seconds); true
/// when none remain, i.e. `next` may apply.
pub(super) fn settle_delay(
    tx: &Tx<'_>,
    config: &Config,
    moment: Moment,
    now: u64,
) -> Result<bool, BootError> {
    let pending = delay(tx)?;
    if pending.is_empty() {
        return Ok(true);
    }
    let remaining: Vec<DelayCondition> = pending
        .iter()
        .filter(|c| {
            let met = match c {
                DelayCondition::Kill => moment == Moment::Launch,
                DelayCondition::Background { ms } => {
                    matches!(moment, Moment::Foreground { background_ms } if background_ms >= *ms)
                }
                DelayCondition::Date { not_before } => now >= *not_before,
                DelayCondition::NativeVersion { at_least } => {
                    config::compare_versions(&config.native_version, at_least).is_ge()
                }
            };
            !met
        })
        .cloned()
        .collect();
    if remaining.len() != pending.len() {
        let json = serde_json::to_string(&remaining).expect("conditions serialize");
        store::set_delay_conditions(tx, &json)?;
        store::add_history(
            tx,
            "delay",
            None,
            &format!("delay conditions remaining: {json}"),
        )?;
    }
    Ok(remaining.is_empty())
}

/// Settles the delay conditions at `moment` on their own (the foreground check), with `now` in
/// Unix seconds; true when none remain.
pub fn settle(
    store: &mut Store,
    config: &Config,
    moment: Moment,
    now: u64,
) -> Result<bool, BootError> {
    store.write(|tx| settle_delay(tx, config, moment, now))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Device, NOW};
    use super::*;

    fn settle_at(d: &mut Device, moment: Moment, now: u64) -> bool {
        settle(&mut d.store, &d.config, moment, now).unwrap()
    }

    #[test]
    fn with_no_conditions_next_may_apply_at_any_moment() {
        let mut d = Device::new();
        for moment in [
            Moment::Launch,
            Moment::Apply,
            Moment::Foreground { background_ms: 0 },
        ] {
            assert!(settle_at(&mut d, moment, NOW));
        }
    }

    #[test]
    fn kill_is_met_by_a_cold_start_only() {
        let mut d = Device::new();
        set_delay(&mut d.store, &[DelayCondition::Kill]).unwrap();
        assert!(!settle_at(&mut d, Moment::Apply, NOW));
        assert!(!settle_at(
            &mut d,
            Moment::Foreground {
                background_ms: u64::MAX
            },
            NOW
        ));
        assert!(settle_at(&mut d, Moment::Launch, NOW));
        assert!(delay(d.store.read()).unwrap().is_empty());
    }

    #[test]
    fn background_is_met_by_enough_time_away_only() {
        let mut d = Device::new();
        set_delay(&mut d.store, &[DelayCondition::Background { ms: 1000 }]).unwrap();
        assert!(!settle_at(
            &mut d,
            Moment::Foreground { background_ms: 999 },
            NOW
        ));
        assert!(!settle_at(&mut d, Moment::Launch, NOW));
        assert!(settle_at(
            &mut d,
            Moment::Foreground {
                background_ms: 1000
            },
            NOW
        ));
    }

    #[test]
    fn date_is_met_from_not_before_on_by_the_injected_now() {
        let mut d = Device::new();
        let not_before = NOW + 3600;
        set_delay(&mut d.store, &[DelayCondition::Date { not_before }]).unwrap();
        assert!(!settle_at(&mut d, Moment::Launch, not_before - 1));
        assert_eq!(delay(d.store.read()).unwrap().len(), 1);
        assert!(settle_at(&mut d, Moment::Apply, not_before));
    }

    #[test]
    fn native_version_is_met_by_an_app_at_least_that_version() {
        let mut d = Device::new();
        set_delay(
            &mut d.store,
            &[DelayCondition::NativeVersion {
                at_least: "1.0.1".into(),
            }],
        )
        .unwrap();
        assert!(!settle_at(&mut d, Moment::Launch, NOW), "1.0.0 < 1.0.1");
        d.config.native_version = "1.0.1".into();
        assert!(settle_at(&mut d, Moment::Apply, NOW));
    }

    #[test]
    fn met_conditions_are_removed_and_the_others_kept() {
        let mut d = Device::new();
        set_delay(
            &mut d.store,
            &[
                DelayCondition::Kill,
                DelayCondition::Date {
                    not_before: NOW + 10,
                },
                DelayCondition::NativeVersion {
                    at_least: "1.0.0".into(),
                },
            ],
        )
        .unwrap();
        assert!(!settle_at(&mut d, Moment::Launch, NOW));
        assert_eq!(
            delay(d.store.read()).unwrap(),
            vec![DelayCondition::Date {
                not_before: NOW + 10
            }]
        );
        // A met condition stays met: the kill need not happen again.
        assert!(settle_at(&mut d, Moment::Apply, NOW + 10));
        let last = d.history().pop().unwrap();
        assert_eq!(last.event, "delay");
        assert!(last.detail.contains("remaining: []"), "{}", last.detail);
    }

    #[test]
    fn an_empty_list_cancels_the_delay() {
        let mut d = Device::new();
        set_delay(&mut d.store, &[DelayCondition::Kill]).unwrap();
        set_delay(&mut d.store, &[]).unwrap();
        assert!(delay(d.store.read()).unwrap().is_empty());
        assert!(settle_at(&mut d, Moment::Apply, NOW));
    }
}
