//! Text files people export from spreadsheets and other systems: UTF-8 or Windows-1252, any
//! separator, column names in any case.

use std::collections::HashMap;

/// Windows-1252's characters for the bytes 0x80–0x9F (where it differs from Latin-1; the five
/// bytes it leaves undefined stay as they are).
pub(crate) const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// The text of the file: UTF-8 (without its byte-order mark), else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9f => CP1252[usize::from(b - 0x80)],
                _ => char::from(b),
            })
            .collect(),
    }
}

/// The separator the header row uses most: `;`, tab or `,`.
pub fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b';')
}

/// A column name as compared: trimmed, lower case, spaces and dashes as `_`.
pub fn norm(h: &str) -> String {
    h.trim().to_lowercase().replace([' ', '-'], "_")
}

/// The columns as a file names them, for its mistakes: for each `(key, italian, english)`,
/// the Italian name unless the header used the English one.
pub fn column_names(
    bytes: &[u8],
    columns: &[(&'static str, &'static str, &'static str)],
) -> HashMap<&'static str, String> {
    let text_head = decode(bytes.get(..4096).unwrap_or(bytes));
    let head: Vec<String> = text_head
        .lines()
        .next()
        .unwrap_or("")
        .split([';', ',', '\t'])
        .map(norm)
        .collect();
    columns
        .iter()
        .map(|(k, it, en)| {
            let used = if head.iter().any(|h| h == en) && !head.iter().any(|h| h == it) {
                en
            } else {
                it
            };
            (*k, (*used).to_owned())
        })
        .collect()
}
