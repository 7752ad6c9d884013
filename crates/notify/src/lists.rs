//! The messages sent, as the commune's console and the person's own area list them.

use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Result};
use sportello_store::outbox::{MessageFilter, MessageRow, Status};

/// Counts per channel and status.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    pub channel: String,
    pub created: i64,
    pub sending: i64,
    pub delivered: i64,
    pub temporary_failure: i64,
    pub permanent_failure: i64,
}

/// The commune's messages (newest first, filtered) and its counts per channel.
pub async fn for_commune(
    deps: &Deps,
    actor: &Actor,
    f: &MessageFilter,
) -> Result<(Vec<MessageRow>, Vec<Counts>)> {
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let rows = db.messages(f).await?;
    let mut counts: Vec<Counts> = vec![];
    for (channel, status, n) in db.message_counts().await? {
        let i = match counts.iter().position(|c| c.channel == channel) {
            Some(i) => i,
            None => {
                counts.push(Counts {
                    channel: channel.clone(),
                    ..Default::default()
                });
                counts.len() - 1
            }
        };
        let c = &mut counts[i];
        match status {
            Status::Created => c.created += n,
            Status::Sending => c.sending += n,
            Status::Delivered => c.delivered += n,
            Status::TemporaryFailure => c.temporary_failure += n,
            Status::PermanentFailure => c.permanent_failure += n,
        }
    }
    tx.commit().await?;
    Ok((rows, counts))
}

/// What this commune (tenant 0: the sign-in host) sent to one person, newest first.
pub async fn for_person(
    deps: &Deps,
    commune: TenantId,
    person_id: &str,
) -> Result<Vec<MessageRow>> {
    let tx = deps.store.tenant_read(commune).await?;
    let rows = tx
        .db()
        .messages(&MessageFilter {
            person_id: Some(person_id.to_owned()),
            limit: 100,
            ..Default::default()
        })
        .await?;
    tx.commit().await?;
    Ok(rows)
}
