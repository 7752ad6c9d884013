//! A small, strict XML reader for the checks on the raw Response (never for trusted values):
//! namespaces resolved, no DTD, no entities beyond the predefined ones, depth and size limits.

const MAX_DEPTH: usize = 64;
const MAX_ELEMENTS: usize = 20_000;
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// An element.
#[derive(Debug, Default)]
pub(super) struct El {
    /// Namespace URI ("" when none).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes as written (qualified names), namespace declarations excluded.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
    /// The direct text content, entities decoded.
    pub text: String,
    /// A comment or processing instruction directly inside.
    pub comments: bool,
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn kids<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a El> {
        self.children
            .iter()
            .filter(move |c| c.ns == ns && c.name == name)
    }

    /// This element and all its descendants, in document order.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a El)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

struct Frame {
    el: El,
    qname: String,
    decls: Vec<(String, String)>,
}

fn find(s: &str, from: usize, pat: &str) -> Result<usize, String> {
    s.get(from..)
        .and_then(|rest| rest.find(pat))
        .map(|p| from + p)
        .ok_or_else(|| format!("unterminated construct (expected {pat:?})"))
}

/// The characters XML 1.0 allows in a document (`Char`, §2.2): no NUL, no other control
/// character but tab and line ends, no surrogates, no U+FFFE/U+FFFF.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn decode(t: &str) -> Result<String, String> {
    if !t.contains('&') {
        return Ok(t.to_owned());
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let semi = after.find(';').ok_or("bad entity reference")?;
        let ent = &after[..semi];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .filter(|c| xml_char(*c))
                    .ok_or_else(|| format!("unknown or forbidden character reference &{ent};"))?
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(prefix: &str, own: &[(String, String)], stack: &[Frame]) -> Result<String, String> {
    if prefix == "xml" {
        return Ok(XML_NS.to_owned());
    }
    let scopes = std::iter::once(own).chain(stack.iter().rev().map(|f| f.decls.as_slice()));
    for decls in scopes {
        if let Some((_, uri)) = decls.iter().find(|(p, _)| p == prefix) {
            return Ok(uri.clone());
        }
    }
    if prefix.is_empty() {
        Ok(String::new())
    } else {
        Err(format!("undeclared namespace prefix {prefix:?}"))
    }
}

fn attach(stack: &mut [Frame], root: &mut Option<El>, el: El) -> Result<(), String> {
    if let Some(top) = stack.last_mut() {
        top.el.children.push(el);
        Ok(())
    } else if root.is_none() {
        *root = Some(el);
        Ok(())
    } else {
        Err("more than one root element".to_owned())
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Parses a whole document.
pub(super) fn parse(s: &str) -> Result<El, String> {
    if let Some(c) = s.chars().find(|c| !xml_char(*c)) {
        return Err(format!(
            "character U+{:04X} is not allowed in XML",
            u32::from(c)
        ));
    }
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let b = s.as_bytes();
    let mut i = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    while i < b.len() {
        if b[i] != b'<' {
            let next = s[i..].find('<').map_or(b.len(), |p| i + p);
            let text = &s[i..next];
            match stack.last_mut() {
                Some(top) => top.el.text.push_str(&decode(text)?),
                None if text.trim().is_empty() => {}
                None => return Err("text outside the root element".to_owned()),
            }
            i = next;
            continue;
        }
        let rest = &s[i..];
        if rest.starts_with("<!--") {
            let end = find(s, i + 4, "-->")?;
            if let Some(top) = stack.last_mut() {
                top.el.comments = true;
            }
            i = end + 3;
        } else if rest.starts_with("<![CDATA[") {
            let end = find(s, i + 9, "]]>")?;
            let top = stack.last_mut().ok_or("CDATA outside the root element")?;
            top.el.text.push_str(&s[i + 9..end]);
            i = end + 3;
        } else if rest.starts_with("<?") {
            let end = find(s, i + 2, "?>")?;
            if let Some(top) = stack.last_mut() {
                top.el.comments = true;
            }
            i = end + 2;
        } else if rest.starts_with("<!") {
            return Err("DOCTYPE and other declarations are not allowed".to_owned());
        } else if rest.starts_with("</") {
            let end = find(s, i + 2, ">")?;
            let name = s[i + 2..end].trim_end();
            let frame = stack.pop().ok_or("end tag without start tag")?;
            if frame.qname != name {
                return Err(format!("mismatched end tag </{name}>"));
            }
            attach(&mut stack, &mut root, frame.el)?;
            i = end + 1;
        } else {
            i += 1;
            let start = i;
            while i < b.len() && !is_ws(b[i]) && b[i] != b'/' && b[i] != b'>' {
                i += 1;
            }
            let qname = s[start..i].to_owned();
            if qname.is_empty() || qname.contains('<') {
                return Err("bad element name".to_owned());
            }
            let mut raw: Vec<(String, String)> = Vec::new();
            let self_closing;
            loop {
                while i < b.len() && is_ws(b[i]) {
                    i += 1;
                }
                match b.get(i) {
                    None => return Err("unterminated start tag".to_owned()),
                    Some(b'>') => {
                        i += 1;
                        self_closing = false;
                        break;
                    }
                    Some(b'/') => {
                        if b.get(i + 1) != Some(&b'>') {
                            return Err("bad start tag".to_owned());
                        }
                        i += 2;
                        self_closing = true;
                        break;
                    }
                    Some(_) => {}
                }
                let an_start = i;
                while i < b.len() && !is_ws(b[i]) && !matches!(b[i], b'=' | b'>' | b'/' | b'<') {
                    i += 1;
                }
                let an = s[an_start..i].to_owned();
                while i < b.len() && is_ws(b[i]) {
                    i += 1;
                }
                if an.is_empty() || b.get(i) != Some(&b'=') {
                    return Err("bad attribute".to_owned());
                }
                i += 1;
                while i < b.len() && is_ws(b[i]) {
                    i += 1;
                }
                let quote = match b.get(i) {
                    Some(q @ (b'"' | b'\'')) => *q as char,
                    _ => return Err("unquoted attribute value".to_owned()),
                };
                let vend = s[i + 1..]
                    .find(quote)
                    .map(|p| i + 1 + p)
                    .ok_or("unterminated attribute value")?;
                let v = &s[i + 1..vend];
                if v.contains('<') {
                    return Err("'<' in attribute value".to_owned());
                }
                if raw.iter().any(|(k, _)| *k == an) {
                    return Err(format!("duplicate attribute {an}"));
                }
                raw.push((an, decode(v)?));
                i = vend + 1;
                if i < b.len() && !is_ws(b[i]) && b[i] != b'>' && b[i] != b'/' {
                    return Err("missing space between attributes".to_owned());
                }
            }
            let mut decls = Vec::new();
            let mut attrs = Vec::new();
            for (k, v) in raw {
                if k == "xmlns" {
                    decls.push((String::new(), v));
                } else if let Some(p) = k.strip_prefix("xmlns:") {
                    decls.push((p.to_owned(), v));
                } else {
                    attrs.push((k, v));
                }
            }
            let (prefix, local) = qname.split_once(':').unwrap_or(("", qname.as_str()));
            let ns = resolve(prefix, &decls, &stack)?;
            for (k, _) in &attrs {
                if let Some((p, _)) = k.split_once(':') {
                    resolve(p, &decls, &stack)?;
                }
            }
            count += 1;
            if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                return Err("document too large or too deep".to_owned());
            }
            if root.is_some() && stack.is_empty() {
                return Err("content after the root element".to_owned());
            }
            let el = El {
                ns,
                name: local.to_owned(),
                attrs,
                ..El::default()
            };
            if self_closing {
                attach(&mut stack, &mut root, el)?;
            } else {
                stack.push(Frame { el, qname, decls });
            }
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".to_owned());
    }
    root.ok_or_else(|| "no root element".to_owned())
}
