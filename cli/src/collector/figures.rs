//! The figures of each release, computed from the store: the counts `liveship stats`, the
//! dashboard and the rollout guard (`liveship guard`) read, and the failure rate's Wilson 95%
//! score interval. docs/COLLECTOR.md states every definition.

use anyhow::Result;
use serde::Serialize;

use super::store::Store;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959964;

/// One release (channel, sequence, version) as the fleet reported it. Every count is of
/// distinct devices (`device_id`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStats {
    pub channel: String,
    pub sequence: u64,
    pub version: String,
    /// Devices with any event about the release.
    pub devices: u64,
    /// Devices that completed a download of it (`download_complete`).
    pub downloads: u64,
    /// Devices that started it on trial (`trial_start`, or `set`: made current at once).
    pub installs: u64,
    /// Devices that confirmed it (`app_ready`).
    pub confirmed: u64,
    /// Devices that reverted it (`update_fail`).
    pub reverted: u64,
    /// Devices with any failure action or a revert.
    pub failed: u64,
    /// `failed / devices`.
    pub failure_rate: f64,
    /// The Wilson 95% interval of the failure rate: the guard compares its lower bound.
    pub failure_rate_low: f64,
    pub failure_rate_high: f64,
    /// Devices per failure action and reason, most frequent first.
    pub failures: Vec<FailureCount>,
}

/// Devices that reported `action` with `reason` (empty when the event had none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCount {
    pub action: String,
    pub reason: String,
    pub count: u64,
}

/// The Wilson score interval of `k` successes in `n` trials at `z`, clamped to [0, 1]; `(0, 1)`
/// when `n` is 0 (nothing is known).
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Every release's figures, optionally of one channel, ordered by channel and sequence.
pub fn compute(store: &mut Store, channel: Option<&str>) -> Result<Vec<ReleaseStats>> {
    let counts = store.release_counts(channel)?;
    let failures = store.failures(channel)?;
    Ok(counts
        .into_iter()
        .map(|c| {
            let (low, high) = wilson(c.failed, c.devices, Z95);
            let rate = if c.devices == 0 {
                0.0
            } else {
                c.failed as f64 / c.devices as f64
            };
            let failures = failures
                .iter()
                .filter(|f| {
                    f.channel == c.channel && f.sequence == c.sequence && f.version == c.version
                })
                .map(|f| FailureCount {
                    action: f.action.clone(),
                    reason: f.reason.clone(),
                    count: f.devices,
                })
                .collect();
            ReleaseStats {
                channel: c.channel,
                sequence: c.sequence,
                version: c.version,
                devices: c.devices,
                downloads: c.downloads,
                installs: c.installs,
                confirmed: c.confirmed,
                reverted: c.reverted,
                failed: c.failed,
                failure_rate: rate,
                failure_rate_low: low,
                failure_rate_high: high,
                failures,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 5e-5 && (a.1 - b.1).abs() < 5e-5
    }

    #[test]
    fn wilson_matches_published_values() {
        // Reference values: Wilson (1927); e.g. Newcombe (1998), Table I, and R's prop.test
        // without continuity correction.
        assert!(
            close(wilson(0, 10, Z95), (0.0, 0.2775)),
            "{:?}",
            wilson(0, 10, Z95)
        );
        assert!(
            close(wilson(5, 10, Z95), (0.2366, 0.7634)),
            "{:?}",
            wilson(5, 10, Z95)
        );
        assert!(
            close(wilson(10, 10, Z95), (0.7225, 1.0)),
            "{:?}",
            wilson(10, 10, Z95)
        );
        assert!(
            close(wilson(1, 20, Z95), (0.0089, 0.2361)),
            "{:?}",
            wilson(1, 20, Z95)
        );
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }

    #[test]
    fn wilson_narrows_with_more_devices_at_the_same_rate() {
        let small = wilson(5, 100, Z95);
        let large = wilson(500, 10_000, Z95);
        assert!(large.0 > small.0 && large.1 < small.1);
        assert!(large.0 < 0.05 && 0.05 < large.1);
    }
}
