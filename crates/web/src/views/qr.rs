//! QR codes drawn on the server as SVG (the pages run no script): the authenticator's enrolment
//! link, later the certificates' and payment notices' codes.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as an inline SVG QR code, `px` wide, black on white with its quiet zone; `label`
/// names it for screen readers. `None` if the text is too long for a QR code.
pub fn svg(text: &str, px: u32, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(px, px)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // The renderer's document starts with an XML declaration: inline SVG starts at `<svg`.
    let start = image.find("<svg")?;
    let label = crate::render::escape(label);
    Some(image[start..].replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{label}\" focusable=\"false\""),
        1,
    ))
}

#[cfg(test)]
#[path = "../tests/qr.rs"]
mod tests;
