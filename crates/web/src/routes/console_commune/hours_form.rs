//! The opening hours as a form: a row per weekday with two (or more) time slots, and the
//! closures as rows of date, reason and optional hours, with blank rows to add more. What is
//! sent is written back into the text lines the charter reads (`WeeklyHours::parse_lines`,
//! `Closure::parse_lines`); those lines stay editable as text for whoever prefers them: when
//! the text was changed, the text wins.

use serde_json::{Value, json};
use sportello_domain::hours::{Closure, WeeklyHours};

use crate::routes::Ctx;

/// Weekdays: the form's key, the text lines' key, the name's key in `ui.toml`.
const DAYS: [(&str, &str, &str); 7] = [
    ("mon", "lun", "day_monday"),
    ("tue", "mar", "day_tuesday"),
    ("wed", "mer", "day_wednesday"),
    ("thu", "gio", "day_thursday"),
    ("fri", "ven", "day_friday"),
    ("sat", "sab", "day_saturday"),
    ("sun", "dom", "day_sunday"),
];
/// Blank closure rows offered for new closures.
const BLANK_CLOSURES: usize = 2;

/// The week as a field (`kind: week`) of the console form.
pub(super) fn week_field(ctx: &Ctx, weekly: &WeeklyHours) -> Value {
    let lines = weekly.to_lines();
    let slots = DAYS
        .iter()
        .map(|(_, it, _)| {
            lines
                .lines()
                .find(|l| l.starts_with(it))
                .map(|l| {
                    l.split_whitespace()
                        .skip(1)
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect::<Vec<_>>();
    let width = slots.iter().map(Vec::len).max().unwrap_or(0).max(2);
    let days: Vec<Value> = DAYS
        .iter()
        .zip(&slots)
        .map(|((key, _, label), ranges)| {
            let cells: Vec<Value> = (0..width)
                .map(|i| {
                    let (from, to) = ranges
                        .get(i)
                        .and_then(|r| r.split_once('-'))
                        .unwrap_or(("", ""));
                    json!({"n": i + 1, "from": from, "to": to})
                })
                .collect();
            json!({"key": key, "label": ctx.t(label), "slots": cells})
        })
        .collect();
    json!({
        "kind": "week", "name": "week", "sent": {}, "label": ctx.t("console_weekly_hours"),
        "help": ctx.t("console_week_help"), "days": days,
        "slot_names": (1..=width).map(|n| ctx.tf("console_slot", &[&n])).collect::<Vec<_>>(),
        "opens": ctx.t("console_opens"), "closes": ctx.t("console_closes"),
    })
}

/// The closures as a field (`kind: closures`), with blank rows to add more.
pub(super) fn closures_field(ctx: &Ctx, closures: &[Closure]) -> Value {
    let lines = Closure::to_lines(closures);
    let mut rows: Vec<Value> = closures
        .iter()
        .zip(lines.lines())
        .map(|(c, line)| {
            // The hours as the text line has them (between the date and the reason).
            let hours: Vec<&str> = line
                .split_whitespace()
                .skip(1)
                .take_while(|w| w.contains(':') && w.contains('-'))
                .collect();
            json!({"date": c.date.to_string(), "hours": hours.join(" "), "note": c.note.clone().unwrap_or_default()})
        })
        .collect();
    rows.extend((0..BLANK_CLOSURES).map(|_| json!({"date": "", "hours": "", "note": ""})));
    let rows: Vec<Value> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r["n"] = json!(i + 1);
            r
        })
        .collect();
    json!({
        "kind": "closures", "name": "closure", "sent": {}, "label": ctx.t("console_closures"),
        "help": ctx.t("console_closures_form_help"), "rows": rows,
        "date_label": ctx.t("console_date"), "hours_label": ctx.t("console_open_only"),
        "note_label": ctx.t("console_reason_label"),
    })
}

/// The most slots a day's row may carry, and closure rows a form may send.
const MOST: usize = 50;

/// Where the hours came from, to put a refusal by the fields the person typed in.
pub(super) struct Sources {
    hours_from_rows: bool,
    closures_from_rows: bool,
}

impl Sources {
    /// The field a problem of the text lines belongs to, as the person typed it.
    pub(super) fn field_of<'a>(&self, field: &'a str) -> &'a str {
        match field {
            "hours" if self.hours_from_rows => "week",
            "closures" if self.closures_from_rows => "closure",
            other => other,
        }
    }
}

/// The text lines the form's rows stand for: `(hours, closures)`. The text areas win where the
/// person changed them (`hours_was`/`closures_was` hold what they showed).
pub(super) fn lines_of(pairs: &[(String, String)]) -> (String, String, Sources) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
    let text_changed = |field: &str| {
        has(field)
            && (!has(&format!("{field}_was"))
                || normalise(&get(field)) != normalise(&get(&format!("{field}_was"))))
    };
    let sources = Sources {
        hours_from_rows: !text_changed("hours")
            && pairs.iter().any(|(k, _)| k.starts_with("week:")),
        closures_from_rows: !text_changed("closures")
            && pairs.iter().any(|(k, _)| k.starts_with("closure:")),
    };
    let hours = if sources.hours_from_rows {
        let mut out = String::new();
        for (key, it, _) in DAYS {
            let ranges: Vec<String> = (1..=MOST)
                .map(|n| {
                    (
                        get(&format!("week:{key}:{n}:from")),
                        get(&format!("week:{key}:{n}:to")),
                    )
                })
                .filter(|(from, to)| !from.is_empty() || !to.is_empty())
                .map(|(from, to)| format!("{from}-{to}"))
                .collect();
            if !ranges.is_empty() {
                out.push_str(&format!("{it} {}\n", ranges.join(" ")));
            }
        }
        out
    } else {
        get("hours")
    };
    let closures = if sources.closures_from_rows {
        let mut out = String::new();
        for n in 1..=MOST {
            let date = get(&format!("closure:{n}:date"));
            let hours = get(&format!("closure:{n}:hours"));
            let note = get(&format!("closure:{n}:note"));
            if date.is_empty() && hours.is_empty() && note.is_empty() {
                continue;
            }
            // A row without a date is kept as a line the parser refuses, naming what it has.
            let date = if date.is_empty() { note.clone() } else { date };
            let line = [date.as_str(), hours.as_str(), note.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&line);
            out.push('\n');
        }
        out
    } else {
        get("closures")
    };
    (hours, closures, sources)
}

fn normalise(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
