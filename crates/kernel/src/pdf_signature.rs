//! A PAdES signature (`ETSI.CAdES.detached`) on a stamped file, as an
//! incremental update: the file [`crate::stamped_pdf`] wrote stays byte for byte, and after it
//! come a new catalogue with a form holding one invisible signature field, the signature
//! dictionary and their cross-reference section. The CMS itself (made by the caller, with the
//! commune's certificate) signs every byte but its own hex string (`/ByteRange`).
//!
//! [`original`] finds the stamped file inside a signed one, only if what follows it is exactly
//! such an update (any other byte refuses the file): the strict reading stays strict. It does
//! not check the CMS: the stamp is what Sportello's verifiers check; readers such as `pdfsig`
//! check the PAdES signature against the commune's certificate and its CA.

/// Room for the CMS, in hex digits (8 KiB of DER: the signer's certificate, the CA's, the
/// signed attributes and the signature fit several times).
pub const CONTENTS_HEX: usize = 16384;

/// The update after `orig` (whose cross-reference section starts at `prev` and which has
/// `size - 1` objects), with `m` as the signing time, `range` as the byte range and `contents`
/// as the hex string; also where the hex string's `<` and the byte after its `>` are.
fn update(
    orig_len: usize,
    prev: usize,
    size: usize,
    m: &str,
    range: [usize; 4],
    contents: &[u8],
) -> (Vec<u8>, usize, usize) {
    let (field, sig) = (size, size + 1);
    let mut u: Vec<u8> = vec![];
    let catalog = orig_len;
    u.extend(
        format!(
            "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{field} 0 R] /SigFlags 3 >> >>\nendobj\n"
        )
        .into_bytes(),
    );
    let widget = orig_len + u.len();
    u.extend(
        format!(
            "{field} 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /T (Timbro) /Rect [0 0 0 0] /F 132 /P 6 0 R /V {sig} 0 R >>\nendobj\n"
        )
        .into_bytes(),
    );
    let dict = orig_len + u.len();
    u.extend(
        format!(
            "{sig} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ({m}) /ByteRange [{:010} {:010} {:010} {:010}] /Contents <",
            range[0], range[1], range[2], range[3]
        )
        .into_bytes(),
    );
    let start = orig_len + u.len() - 1;
    u.extend_from_slice(contents);
    u.extend_from_slice(b"> >>\nendobj\n");
    let end = start + 1 + contents.len() + 1;
    let xref = orig_len + u.len();
    u.extend(
        format!(
            "xref\n0 1\n0000000000 65535 f \n1 1\n{catalog:010} 00000 n \n{field} 2\n{widget:010} 00000 n \n{dict:010} 00000 n \ntrailer\n<< /Size {} /Root 1 0 R /Info 5 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n",
            sig + 1
        )
        .into_bytes(),
    );
    (u, start, end)
}

/// The stamped file's cross-reference offset and `/Size`, read from its last lines.
fn trailer_of(orig: &[u8]) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(orig.get(orig.len().saturating_sub(120)..)?).ok()?;
    let size: usize = text
        .split("/Size ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    // Sportello's files have a few hundred objects; anything larger is not one.
    if size > 100_000 {
        return None;
    }
    let prev = text
        .split("startxref\n")
        .nth(1)?
        .strip_suffix("\n%%EOF\n")?
        .parse()
        .ok()?;
    Some((prev, size))
}

/// `pdf` signed: `cms` gets the bytes the signature covers and gives the DER CMS; `m` is the
/// signing time as PDF writes dates (`D:20261207093000Z`). `None` when `pdf` is not a file of
/// [`crate::stamped_pdf`], or the CMS fails or does not fit.
pub fn sign(pdf: &[u8], m: &str, cms: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let (prev, size) = trailer_of(pdf)?;
    let blank = vec![b'0'; CONTENTS_HEX];
    let (u, start, end) = update(pdf.len(), prev, size, m, [0; 4], &blank);
    let total = pdf.len() + u.len();
    let range = [0, start, end, total - end];
    let (u, _, _) = update(pdf.len(), prev, size, m, range, &blank);
    let mut signed = pdf.to_vec();
    signed.extend(u);
    let mut covered = signed[..start].to_vec();
    covered.extend_from_slice(&signed[end..]);
    let der = cms(&covered)?;
    let mut hex = data_encoding::HEXUPPER.encode(&der).into_bytes();
    if hex.len() > CONTENTS_HEX {
        return None;
    }
    hex.resize(CONTENTS_HEX, b'0');
    signed[start + 1..end - 1].copy_from_slice(&hex);
    Some(signed)
}

/// The signature of a signed file, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signing time (`D:…`).
    pub m: String,
    /// The CMS, DER (trailing padding included).
    pub cms: Vec<u8>,
    /// The bytes it covers.
    pub covered: Vec<u8>,
}

const UPDATE_START: &[u8] = b"%%EOF\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm ";

/// The stamped file inside `pdf` and its signature, when `pdf` is a stamped file followed by
/// exactly the update [`sign`] writes; `None` otherwise (an unsigned file, or anything else).
pub fn original(pdf: &[u8]) -> Option<(&[u8], Signature)> {
    let at = pdf
        .windows(UPDATE_START.len())
        .rposition(|w| w == UPDATE_START)?
        + b"%%EOF\n".len();
    let (orig, tail) = pdf.split_at(at);
    let (prev, size) = trailer_of(orig)?;
    let text = std::str::from_utf8(tail).ok()?;
    let m = text.split("/M (").nth(1)?.split(')').next()?.to_owned();
    let hex = text.split("/Contents <").nth(1)?.split('>').next()?;
    if m.len() > 40 || hex.len() != CONTENTS_HEX {
        return None;
    }
    let blank = vec![b'0'; CONTENTS_HEX];
    let (u, start, end) = update(orig.len(), prev, size, &m, [0; 4], &blank);
    let range = [0, start, end, orig.len() + u.len() - end];
    let (expected, _, _) = update(orig.len(), prev, size, &m, range, hex.as_bytes());
    if expected != tail {
        return None;
    }
    let cms = data_encoding::HEXUPPER.decode(hex.as_bytes()).ok()?;
    let mut covered = pdf[..start].to_vec();
    covered.extend_from_slice(&pdf[end..]);
    Some((orig, Signature { m, cms, covered }))
}
