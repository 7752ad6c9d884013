//! Searching a commune's charter: its services, offices and people, by relevance
//! (`domain::search`), over the charter the node already holds in memory. Titles weigh more
//! than summaries, which weigh more than descriptions; ties are alphabetical.

use sportello_domain::search::Query;
use sportello_store::charter::{Office, Service};
use sportello_store::entity::staff;

use crate::Charter;

/// What a search found, best first.
#[derive(Debug, Default)]
pub struct Found<'a> {
    pub services: Vec<&'a Service>,
    pub offices: Vec<&'a Office>,
    pub staff: Vec<&'a staff::Model>,
}

impl Found<'_> {
    pub fn total(&self) -> usize {
        self.services.len() + self.offices.len() + self.staff.len()
    }
}

/// Weights: a title, a summary or a role, a long text.
const TITLE: u32 = 6;
const SUMMARY: u32 = 3;
const BODY: u32 = 1;

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// Ranks the items `score` accepts, best first, then by `name`.
fn ranked<T>(items: &[T], score: impl Fn(&T) -> Option<u32>, name: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut hits: Vec<(u32, &T)> = items
        .iter()
        .filter_map(|i| score(i).map(|s| (s, i)))
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| name(a.1).cmp(name(b.1))));
    hits.into_iter().map(|(_, i)| i).collect()
}

pub fn find<'a>(ch: &'a Charter, q: &str) -> Found<'a> {
    let q = Query::parse(q);
    if q.is_empty() {
        return Found::default();
    }
    Found {
        services: ranked(
            &ch.services,
            |s| {
                let docs = s.documents.join(" ");
                q.score(&[
                    (&s.title, TITLE),
                    (opt(&s.title_en), TITLE),
                    (&s.summary, SUMMARY),
                    (opt(&s.summary_en), SUMMARY),
                    (&s.description, BODY),
                    (opt(&s.description_en), BODY),
                    (opt(&s.title_de), TITLE),
                    (opt(&s.summary_de), SUMMARY),
                    (opt(&s.description_de), BODY),
                    (&docs, BODY),
                ])
            },
            |s| &s.title,
        ),
        offices: ranked(
            &ch.offices,
            |o| {
                q.score(&[
                    (&o.name, TITLE),
                    (opt(&o.name_en), TITLE),
                    (&o.description, BODY),
                    (opt(&o.description_en), BODY),
                    (opt(&o.name_de), TITLE),
                    (opt(&o.description_de), BODY),
                ])
            },
            |o| &o.name,
        ),
        staff: ranked(
            &ch.staff,
            |p| q.score(&[(&p.name, TITLE), (&p.role, SUMMARY)]),
            |p| &p.name,
        ),
    }
}
