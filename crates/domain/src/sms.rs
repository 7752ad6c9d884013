//! SMS texts: the GSM 03.38 alphabet (160 characters in one message, 153 in each part of a
//! longer one), typographic characters folded into it, and parts cut between words.

/// The GSM 03.38 basic set (one septet each).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension set (two septets each: an escape and the character).
const EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The characters of one message when it is a single part, and of each part otherwise.
pub const SINGLE: usize = 160;
pub const PART: usize = 153;

fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The text in the GSM alphabet: typographic quotes, dashes and ellipses as their plain
/// forms, capital accented vowels as the letter and an apostrophe (Italian usage: `E'`),
/// other accents dropped; anything still outside the alphabet becomes `?`.
pub fn to_gsm(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if septets(c).is_some() {
            out.push(c);
            continue;
        }
        match c {
            '‘' | '’' | '`' | '´' => out.push('\''),
            '“' | '”' | '«' | '»' => out.push('"'),
            '–' | '—' | '−' => out.push('-'),
            '…' => out.push_str("..."),
            '\u{a0}' | '\t' => out.push(' '),
            'È' | 'Ì' | 'Ò' | 'Ù' | 'À' => {
                out.push(match c {
                    'È' => 'E',
                    'Ì' => 'I',
                    'Ò' => 'O',
                    'Ù' => 'U',
                    _ => 'A',
                });
                out.push('\'');
            }
            'á' | 'â' | 'ã' => out.push('a'),
            'ê' | 'ë' => out.push('e'),
            'í' | 'î' | 'ï' => out.push('i'),
            'ó' | 'ô' | 'õ' => out.push('o'),
            'ú' | 'û' => out.push('u'),
            'ç' => out.push('c'),
            'Á' | 'Â' => out.push('A'),
            'Ó' | 'Ô' => out.push('O'),
            'Í' => out.push('I'),
            'Ú' => out.push('U'),
            'š' => out.push('s'),
            'Š' => out.push('S'),
            'ž' => out.push('z'),
            'Ž' => out.push('Z'),
            'č' | 'ć' => out.push('c'),
            'Č' | 'Ć' => out.push('C'),
            _ => out.push('?'),
        }
    }
    out
}

/// How many septets the text takes (`to_gsm` first).
pub fn length(gsm: &str) -> usize {
    gsm.chars().map(|c| septets(c).unwrap_or(1)).sum()
}

/// The parts the text is sent in: one when it fits 160 septets, otherwise parts of at most
/// 153, each ending at a space (a word longer than a part is the only thing ever cut).
pub fn parts(text: &str) -> Vec<String> {
    let gsm = to_gsm(text.trim());
    if length(&gsm) <= SINGLE {
        return vec![gsm];
    }
    let mut parts = vec![];
    let mut rest = gsm.as_str();
    while !rest.is_empty() {
        // The longest prefix that fits a part.
        let (mut used, mut end) = (0, rest.len());
        for (i, c) in rest.char_indices() {
            let w = septets(c).unwrap_or(1);
            if used + w > PART {
                end = i;
                break;
            }
            used += w;
        }
        if end < rest.len() {
            // Back to the last space, unless the word fills the whole part.
            if let Some(space) = rest[..end].rfind([' ', '\n']).filter(|s| *s > 0) {
                end = space + 1;
            }
        }
        parts.push(rest[..end].trim_end().to_owned());
        rest = rest[end..].trim_start();
    }
    parts
}

#[cfg(test)]
#[path = "tests/sms.rs"]
mod tests;
