//! Outgoing e-mail (lettre): SMTP when `smtp_url` is set, otherwise `.eml` files in
//! `mail_outbox` (development: nothing leaves the machine, and the link is in the file).

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// One message to send.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The name the message is sent under (a commune's chosen sender name); the address stays
    /// the federation's, which is the one the mail system may send for.
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    /// The HTML part beside the text (multipart/alternative).
    pub html: Option<String>,
    /// `Message-ID` without brackets: the same on every attempt, so a retried message is
    /// recognisably the same one.
    pub message_id: Option<String>,
}

/// Why a message could not be sent: worth trying again later, or never.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    Temporary(String),
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Temporary(e) => write!(f, "temporary: {e}"),
            SendError::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}

impl Mailer {
    /// `timeout`: the longest an SMTP command may take (then the attempt is a temporary
    /// failure).
    pub fn new(
        smtp_url: Option<&str>,
        outbox: &str,
        from: &str,
        timeout: std::time::Duration,
    ) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail_from {from:?}: {e}"))?;
        let transport = match smtp_url.filter(|u| !u.is_empty()) {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("smtp_url: {e}"))?
                    .timeout(Some(timeout))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(outbox)
                    .map_err(|e| format!("mail_outbox {outbox}: {e}"))?;
                Transport::File(AsyncFileTransport::<Tokio1Executor>::new(outbox))
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends one message; an address that cannot be one, or an SMTP 5xx answer, is permanent.
    pub async fn deliver(&self, mail: Mail) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient: {e}")))?;
        let from = match mail.from_name {
            Some(name) => Mailbox::new(Some(name), self.from.email.clone()),
            None => self.from.clone(),
        };
        let mut builder = Message::builder().from(from).to(to);
        if let Some(r) = mail.reply_to {
            builder = builder.reply_to(
                r.parse()
                    .map_err(|e| SendError::Permanent(format!("reply-to: {e}")))?,
            );
        }
        if let Some(id) = mail.message_id {
            builder = builder.message_id(Some(format!("<{id}>")));
        }
        let builder = builder.subject(mail.subject);
        let msg = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.body, html)),
            None => builder.singlepart(SinglePart::plain(mail.body)),
        }
        .map_err(|e| SendError::Permanent(format!("message: {e}")))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Temporary(e.to_string())
                }
            }),
            Transport::File(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Temporary(e.to_string())),
        }
    }
}
