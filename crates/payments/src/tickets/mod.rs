//! Tickets for a museum or an event: the commune's offers and their times, each with a
//! capacity (offers.rs, for the console and the public page); buying without signing in, an
//! e-mail address being enough, paid by card like a notice (buy.rs); the tickets let in at the
//! entrance, once each (entrance.rs).

pub mod buy;
pub mod entrance;
pub mod offers;

/// A slot and the offer it belongs to (either missing: not found).
pub(crate) async fn slot_and_offer(
    db: &sportello_store::TenantDb<'_>,
    slot_id: &str,
) -> sportello_kernel::Result<(
    sportello_store::payments::TicketSlot,
    sportello_store::payments::TicketOffer,
)> {
    let nf = || sportello_kernel::Error::NotFound;
    let slot = db.ticket_slot(slot_id).await?.ok_or_else(nf)?;
    let offer = db.ticket_offer(&slot.offer_id).await?.ok_or_else(nf)?;
    Ok((slot, offer))
}

/// A ticket's code as people type it: letters and digits, spaces and dashes dropped.
pub fn code_of(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A code in groups of four, as printed.
pub fn grouped_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Italian local time now, as slots keep it (`YYYY-MM-DDTHH:MM`).
pub(crate) fn now_local() -> String {
    crate::rome(sportello_store::now_micros())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed_and_printed_in_fours() {
        assert_eq!(code_of(" abcd-efgh 2345 "), "ABCDEFGH2345");
        assert_eq!(grouped_code("ABCDEFGH23"), "ABCD-EFGH-23");
    }
}
