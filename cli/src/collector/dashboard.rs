//! `GET /dashboard`: one server-rendered HTML page, no JavaScript: the adoption of each release
//! over time and the failures by reason as inline SVG, and the per-release table of
//! `liveship stats`. Every text that comes from events (channels, versions, actions, reasons)
//! is attacker-controlled and goes through [`escape`].

use std::collections::BTreeMap;
use std::fmt::Write;

use liveship::capacitor::args::iso8601;
use liveship::telemetry::wire::actions;

use super::figures::ReleaseStats;
use super::store::AdoptionRow;

/// A span up to this long is drawn in hours, a longer one in days.
pub const HOURLY_UP_TO: i64 = 3 * 24 * 3600;

/// The bucket width for adoption over `span` (first, last) seconds.
pub fn bucket_width(span: Option<(i64, i64)>) -> i64 {
    match span {
        Some((first, last)) if last - first > HOURLY_UP_TO => 24 * 3600,
        _ => 3600,
    }
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];

const CHART_W: f64 = 880.0;
const CHART_H: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

type Release = (String, u64, String);

fn release_label((channel, sequence, version): &Release) -> String {
    format!("{channel} #{sequence} ({version})")
}

/// The whole page. `now` is shown as the time of the figures.
pub fn page(stats: &[ReleaseStats], adoption: &[AdoptionRow], width: i64, now: u64) -> String {
    let releases: Vec<Release> = stats
        .iter()
        .map(|s| (s.channel.clone(), s.sequence, s.version.clone()))
        .collect();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liveship fleet dashboard</title>
<style>
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2430; background: #f5f6f8; }}
header {{ background: #1d2430; color: #fff; padding: 14px 28px; }}
header h1 {{ font-size: 18px; margin: 0; font-weight: 600; }}
header p {{ margin: 2px 0 0; color: #b9c1cf; font-size: 12px; }}
main {{ padding: 20px 28px; max-width: 1000px; }}
section {{ background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 14px 18px; margin-bottom: 18px; }}
h2 {{ font-size: 15px; margin: 0 0 10px; }}
.note {{ color: #5b6575; font-size: 12px; margin: 6px 0 0; }}
table {{ border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 5px 6px; border-bottom: 1px solid #e6e9ee; text-align: right; white-space: nowrap; }}
th {{ font-size: 12px; color: #5b6575; font-weight: 600; white-space: normal; vertical-align: bottom; }}
th:first-child, td:first-child {{ text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 130px; max-width: 220px; }}
.scroll {{ overflow-x: auto; }}
th:last-child {{ text-align: left; }}
td.reasons {{ text-align: left; white-space: normal; font-size: 12px; color: #5b6575; min-width: 110px; overflow-wrap: anywhere; }}
.legend {{ display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; margin-top: 6px; }}
.swatch {{ display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 5px; }}
.swatch.dashed {{ border-top-style: dashed; }}
.empty {{ color: #5b6575; font-style: italic; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #5b6575; }}
</style>
</head>
<body>
<header><h1>Liveship fleet dashboard</h1><p>Figures as of {now} UTC · every count is of distinct devices</p></header>
<main>
"#,
        now = escape(&short_time(now as i64)),
    );
    adoption_section(&mut html, &releases, adoption, width);
    failures_section(&mut html, stats);
    table_section(&mut html, stats);
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn short_time(seconds: i64) -> String {
    // 2026-01-02T03:04:05Z -> 2026-01-02 03:04
    let iso = iso8601(u64::try_from(seconds).unwrap_or(0));
    iso.get(..16).unwrap_or(&iso).replacen('T', " ", 1)
}

fn adoption_section(html: &mut String, releases: &[Release], rows: &[AdoptionRow], width: i64) {
    html.push_str("<section id=\"adoption\">\n<h2>Adoption over time</h2>\n");
    if rows.is_empty() {
        html.push_str("<p class=\"empty\">No device has downloaded or confirmed a release yet.</p>\n</section>\n");
        return;
    }
    let first = rows.iter().map(|r| r.bucket).min().unwrap_or(0);
    let last = rows
        .iter()
        .map(|r| r.bucket)
        .max()
        .unwrap_or(0)
        .max(first + 1);
    let buckets = (last - first + 1) as usize;
    // Cumulative devices per (release, action) at the end of each bucket.
    let mut series: BTreeMap<(Release, &str), Vec<u64>> = BTreeMap::new();
    for r in rows {
        let key = (
            (r.channel.clone(), r.sequence, r.version.clone()),
            if r.action == actions::APP_READY {
                actions::APP_READY
            } else {
                actions::DOWNLOAD_COMPLETE
            },
        );
        let counts = series.entry(key).or_insert_with(|| vec![0; buckets]);
        counts[(r.bucket - first) as usize] += r.devices;
    }
    for counts in series.values_mut() {
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
    }
    let top = nice_max(
        series
            .values()
            .filter_map(|c| c.last().copied())
            .max()
            .unwrap_or(1),
    );
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * i as f64 / (buckets - 1) as f64;
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / top as f64);

    let _ = writeln!(
        html,
        r#"<svg class="chart" role="img" aria-label="Devices that downloaded and confirmed each release, cumulative" viewBox="0 0 {CHART_W} {CHART_H}" width="100%">"#
    );
    for step in 0..=4u64 {
        let v = top * step / 4;
        let _ = writeln!(
            html,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y0:.1}" y2="{y0:.1}" stroke="#e6e9ee"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
            x2 = CHART_W - RIGHT,
            y0 = y(v),
            tx = LEFT - 6.0,
            ty = y(v) + 4.0,
        );
    }
    // One label every `step` buckets, at most one per 120 px; a label names the day only when
    // it changes.
    let most = ((plot_w / 120.0) as usize).max(2);
    let step = (buckets - 1).div_ceil(most - 1).max(1);
    let mut last_day = String::new();
    for i in (0..buckets).step_by(step) {
        let when = short_time((first + i as i64) * width);
        let (day, hour) = when.split_once(' ').unwrap_or((&when, ""));
        let label = if width >= 24 * 3600 {
            day.to_owned()
        } else if day != last_day {
            format!("{} {hour}", day.get(5..).unwrap_or(day))
        } else {
            hour.to_owned()
        };
        last_day = day.to_owned();
        let anchor = match i {
            0 => "start",
            i if i + 1 == buckets => "end",
            _ => "middle",
        };
        let _ = writeln!(
            html,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            x(i),
            CHART_H - BOTTOM + 16.0,
            escape(&label),
        );
    }
    let _ = writeln!(
        html,
        r##"<line x1="{LEFT}" x2="{x2}" y1="{yb}" y2="{yb}" stroke="#9aa3b2"/>"##,
        x2 = CHART_W - RIGHT,
        yb = CHART_H - BOTTOM,
    );
    let mut legend = String::new();
    for ((release, action), counts) in &series {
        let colour = colour_of(releases, release);
        let dashed = *action == actions::DOWNLOAD_COMPLETE;
        // A step line: a device counts from the bucket it first did it in.
        let mut points = format!("{:.1},{:.1}", x(0), y(0));
        for (i, v) in counts.iter().enumerate() {
            let _ = write!(
                points,
                " {:.1},{:.1} {:.1},{:.1}",
                x(i),
                y(if i == 0 { 0 } else { counts[i - 1] }),
                x(i),
                y(*v)
            );
        }
        let what = if dashed { "downloaded" } else { "confirmed" };
        let label = format!("{} {what}", release_label(release));
        let _ = writeln!(
            html,
            r#"<polyline class="series" fill="none" stroke="{colour}" stroke-width="2.5"{dash} points="{points}"><title>{title}: {n} devices</title></polyline>"#,
            dash = if dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            },
            title = escape(&label),
            n = counts.last().copied().unwrap_or(0),
        );
        let _ = writeln!(
            legend,
            r#"<span><span class="swatch{cls}" style="border-color:{colour}"></span>{}</span>"#,
            escape(&label),
            cls = if dashed { " dashed" } else { "" },
        );
    }
    html.push_str("</svg>\n");
    let _ = writeln!(html, "<div class=\"legend\">\n{legend}</div>");
    let unit = if width >= 24 * 3600 { "day" } else { "hour" };
    let _ = writeln!(
        html,
        "<p class=\"note\">Devices that confirmed (solid) or downloaded (dashed) each release, cumulative, per {unit} (UTC).</p>\n</section>"
    );
}

fn failures_section(html: &mut String, stats: &[ReleaseStats]) {
    html.push_str("<section id=\"failures\">\n<h2>Failures by reason</h2>\n");
    let bars: Vec<(&ReleaseStats, &super::figures::FailureCount)> = stats
        .iter()
        .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
        .collect();
    if bars.is_empty() {
        html.push_str("<p class=\"empty\">No failure reported.</p>\n</section>\n");
        return;
    }
    let releases: Vec<Release> = stats
        .iter()
        .map(|s| (s.channel.clone(), s.sequence, s.version.clone()))
        .collect();
    let max = bars.iter().map(|(_, f)| f.count).max().unwrap_or(1).max(1);
    let row_h = 26.0;
    let label_w = 360.0;
    let bar_w = CHART_W - label_w - 60.0;
    let height = row_h * bars.len() as f64 + 8.0;
    let _ = writeln!(
        html,
        r#"<svg class="chart" role="img" aria-label="Devices per failure reason" viewBox="0 0 {CHART_W} {height}" width="100%">"#
    );
    for (i, (s, f)) in bars.iter().enumerate() {
        let top = 4.0 + row_h * i as f64;
        let release = (s.channel.clone(), s.sequence, s.version.clone());
        let colour = colour_of(&releases, &release);
        let reason = if f.reason.is_empty() {
            "(no reason)"
        } else {
            &f.reason
        };
        let label = format!("{} · {} · {reason}", release_label(&release), f.action);
        let w = (bar_w * f.count as f64 / max as f64).max(2.0);
        let _ = writeln!(
            html,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end">{label}</text><rect class="bar" x="{label_w}" y="{top:.1}" width="{w:.1}" height="{bh}" rx="2" fill="{colour}"><title>{label}: {n} devices</title></rect><text x="{nx:.1}" y="{ty:.1}">{n}</text>"#,
            lx = label_w - 8.0,
            ty = top + 13.0,
            bh = row_h - 8.0,
            nx = label_w + w + 6.0,
            label = escape(&label),
            n = f.count,
        );
    }
    html.push_str("</svg>\n<p class=\"note\">Devices that reported each failure action and reason, per release.</p>\n</section>\n");
}

fn table_section(html: &mut String, stats: &[ReleaseStats]) {
    html.push_str("<section id=\"releases\">\n<h2>Releases</h2>\n");
    if stats.is_empty() {
        html.push_str("<p class=\"empty\">No event about a release yet.</p>\n</section>\n");
        return;
    }
    html.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>Release</th><th>Devices</th><th>Downloads</th><th>Installs</th>\
         <th>Confirmed</th><th>Reverted</th><th>Failed</th><th>Failure rate<br>[95% interval]</th>\
         <th>Top reasons</th></tr></thead>\n<tbody>\n",
    );
    for s in stats {
        let reasons = s
            .failures
            .iter()
            .take(3)
            .map(|f| {
                let reason = if f.reason.is_empty() {
                    &f.action
                } else {
                    &f.reason
                };
                format!("{} ({})", escape(reason), f.count)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            html,
            "<tr data-channel=\"{ch}\" data-sequence=\"{seq}\"><td>{label}</td><td class=\"devices\">{}</td>\
             <td class=\"downloads\">{}</td><td class=\"installs\">{}</td><td class=\"confirmed\">{}</td>\
             <td class=\"reverted\">{}</td><td class=\"failed\">{}</td><td class=\"rate\">{}</td>\
             <td class=\"reasons\">{reasons}</td></tr>",
            s.devices,
            s.downloads,
            s.installs,
            s.confirmed,
            s.reverted,
            s.failed,
            percent_interval(s),
            ch = escape(&s.channel),
            seq = s.sequence,
            label = escape(&release_label(&(
                s.channel.clone(),
                s.sequence,
                s.version.clone()
            ))),
        );
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// `12.5% [4.1%, 33.0%]`.
pub fn percent_interval(s: &ReleaseStats) -> String {
    format!(
        "{:.1}% [{:.1}%, {:.1}%]",
        s.failure_rate * 100.0,
        s.failure_rate_low * 100.0,
        s.failure_rate_high * 100.0
    )
}

fn colour_of(releases: &[Release], release: &Release) -> &'static str {
    let i = releases.iter().position(|r| r == release).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// The top of a scale of four equal grid steps, each 1, 2 or 5 × 10^k, that reaches `v`.
fn nice_max(v: u64) -> u64 {
    let need = v.div_ceil(4).max(1);
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * unit >= need {
                return 4 * m * unit;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn chart_scale_has_four_round_steps_up_to_the_maximum() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(3), 4);
        assert_eq!(nice_max(8), 8);
        assert_eq!(nice_max(9), 20);
        assert_eq!(nice_max(48), 80);
        assert_eq!(nice_max(501), 800);
    }

    #[test]
    fn long_spans_are_drawn_per_day() {
        assert_eq!(bucket_width(None), 3600);
        assert_eq!(bucket_width(Some((0, HOURLY_UP_TO))), 3600);
        assert_eq!(bucket_width(Some((0, HOURLY_UP_TO + 1))), 86_400);
    }
}
