//! Search by relevance, the same on every database (it runs over the cached charter and the
//! in-memory registry, never in SQL): words are folded (case, accents), Italian and English
//! function words dropped, and each remaining word of the query must match somewhere. A match
//! in a heavier field (a title) counts more than one in a lighter field (a description), and a
//! whole word more than the same stem ("certificati" for "certificato"), which counts more
//! than the start of a word, which counts more than a fragment.

use crate::slugify;

/// The folded words of a text ("Carta d'identità" → `["carta", "d", "identita"]`).
pub fn words(s: &str) -> Vec<String> {
    slugify(s)
        .split('-')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Function words a query means nothing by (folded).
const STOP: &[&str] = &[
    "a", "ad", "al", "alla", "alle", "agli", "ai", "allo", "col", "con", "d", "da", "dal", "dalla",
    "dalle", "dai", "dagli", "dallo", "de", "dei", "del", "della", "delle", "degli", "dello", "di",
    "e", "ed", "gli", "i", "il", "in", "l", "la", "le", "lo", "nel", "nella", "nelle", "nei",
    "negli", "nello", "o", "per", "su", "sul", "sulla", "sulle", "sui", "tra", "fra", "un", "una",
    "uno", "an", "and", "for", "of", "or", "the", "to",
];

/// The most words of a query that count.
pub const MOST_TERMS: usize = 8;

/// A light stemmer for Italian (and English plurals): the ending that marks gender and number
/// goes, so "certificato", "certificati" and "certificate" meet at "certificat".
pub fn stem(w: &str) -> String {
    let mut s = w.to_owned();
    if s.chars().count() > 4 && s.ends_with('s') {
        s.pop();
    }
    if s.chars().count() > 4
        && let Some(last) = s.chars().last()
        && "aeiou".contains(last)
    {
        s.pop();
    }
    s
}

#[derive(Debug, Clone)]
struct Term {
    word: String,
    stem: String,
}

/// A query, ready to score texts.
#[derive(Debug, Clone)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    pub fn parse(q: &str) -> Query {
        let all = words(q);
        let meaningful: Vec<String> = all
            .iter()
            .filter(|w| !STOP.contains(&w.as_str()))
            .cloned()
            .collect();
        // A query of function words only ("di") still searches for them.
        let mut chosen = if meaningful.is_empty() {
            all
        } else {
            meaningful
        };
        // Each word once, and a bounded number of them (a query is a few words, not a text).
        let mut seen = std::collections::HashSet::new();
        chosen.retain(|w| seen.insert(w.clone()));
        chosen.truncate(MOST_TERMS);
        Query {
            terms: chosen
                .into_iter()
                .map(|w| Term {
                    stem: stem(&w),
                    word: w,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The relevance of a record whose fields are `(text, weight)`; `None` when a word of the
    /// query matches none of them.
    pub fn score(&self, fields: &[(&str, u32)]) -> Option<u32> {
        let fields: Vec<(Vec<String>, u32)> = fields.iter().map(|(t, w)| (words(t), *w)).collect();
        let mut total = 0;
        for t in &self.terms {
            let best = fields
                .iter()
                .map(|(ws, weight)| ws.iter().map(|w| word_match(t, w)).max().unwrap_or(0) * weight)
                .max()
                .unwrap_or(0);
            if best == 0 {
                return None;
            }
            total += best;
        }
        Some(total)
    }
}

/// How well one word of a text matches one word of the query: 4 the same word, 3 the same
/// stem, 2 the start of the word, 1 inside it (three letters or more), 0 not at all.
fn word_match(t: &Term, w: &str) -> u32 {
    if w == t.word {
        4
    } else if stem(w) == t.stem {
        3
    } else if w.starts_with(&t.word) {
        2
    } else if t.word.chars().count() >= 3 && w.contains(&t.word) {
        1
    } else {
        0
    }
}

#[cfg(test)]
#[path = "tests/search.rs"]
mod tests;
