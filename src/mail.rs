//! Optional e-mail of peer-board notices through an SMTP server the operator
//! runs and names with `--smtp-url` (off by default; never a hosted service).
//! Only accounts whose username is an e-mail address get mail. Sending
//! happens after the change is saved, in the background: a slow or absent
//! mail server never holds up or fails a page.

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::domain::peer_board::NoticeKind;

/// The SMTP relay and the sender address mail goes out as.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `smtp://[user:password@]host[:port]` sending as `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let relay = Relay::parse(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.host).port(relay.port);
        if let Some((user, password)) = relay.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer { transport: builder.build(), from: from.parse()? })
    }

    async fn send(&self, to: Mailbox, subject: &str, body: String) -> anyhow::Result<()> {
        let message = Message::builder().from(self.from.clone()).to(to).subject(subject).body(body)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// Where the relay is, from `smtp://[user:password@]host[:port]` (port 25 by default).
#[derive(Debug, PartialEq, Eq)]
struct Relay {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Relay {
    fn parse(url: &str) -> anyhow::Result<Relay> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| anyhow::anyhow!("the SMTP URL must start smtp://"))?;
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((user_info, address)) => {
                let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
                (Some((user.to_owned(), password.to_owned())), address)
            }
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| anyhow::anyhow!("the SMTP port is not a number"))?),
            None => (address, 25),
        };
        if host.is_empty() || host.contains('/') {
            anyhow::bail!("the SMTP URL names no host");
        }
        Ok(Relay { host: host.to_owned(), port, credentials })
    }
}

/// A notice's mail: its subject and plain-text body.
pub fn notice_mail(kind: NoticeKind, other: &str, when: &str, link: &str) -> (String, String) {
    let (subject, first) = match kind {
        NoticeKind::Claimed => ("Your slot was claimed", format!("{other} claimed your slot for {when}.")),
        NoticeKind::Cancelled => ("A swap was cancelled", format!("{other} cancelled your swap of {when}.")),
        NoticeKind::StartingSoon => ("Your swap starts soon", format!("Your swap with {other} starts at {when}.")),
    };
    (format!("mockloop: {subject}"), format!("{first}\n\nSee it here: {link}\n"))
}

/// Mails `user` about a notice in the background, if mail is configured and
/// their username is an e-mail address. Failures are logged, never shown.
pub fn send_notice(
    mailer: Option<Arc<Mailer>>,
    db: sqlx::PgPool,
    base_url: String,
    user: Uuid,
    swap: Uuid,
    kind: NoticeKind,
) {
    let Some(mailer) = mailer else { return };
    tokio::spawn(async move {
        let facts = match crate::db::peer_board::mail_facts(&db, user, swap).await {
            Ok(Some(facts)) => facts,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot read a notice's mail");
                return;
            }
        };
        let Ok(to) = facts.username.parse::<lettre::Address>() else { return };
        let when = crate::domain::schedule::format_in_zone_named(facts.starts_at, &facts.time_zone);
        let other = facts.other_name.as_deref().unwrap_or("A deleted account");
        let (subject, body) = notice_mail(kind, other, &when, &format!("{base_url}/swaps/{swap}"));
        match mailer.send(Mailbox::new(None, to), &subject, body).await {
            Ok(()) => tracing::info!(%swap, kind = kind.as_str(), "notice mailed"),
            Err(error) => tracing::warn!(%error, "cannot mail a notice"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_mail_says_what_happened_who_and_when_with_a_link() {
        for (kind, needle) in [
            (NoticeKind::Claimed, "Ben claimed your slot for Thu 10 Dec"),
            (NoticeKind::Cancelled, "Ben cancelled your swap of Thu 10 Dec"),
            (NoticeKind::StartingSoon, "Your swap with Ben starts at Thu 10 Dec"),
        ] {
            let (subject, body) = notice_mail(kind, "Ben", "Thu 10 Dec 2026, 18:00 (UTC)", "http://x/swaps/1");
            assert!(subject.starts_with("mockloop: "), "{subject}");
            assert!(body.contains(needle) && body.contains("http://x/swaps/1"), "{body}");
        }
    }

    #[test]
    fn the_relay_is_read_from_its_url() {
        let relay = |url| Relay::parse(url).ok();
        let plain = Relay { host: "localhost".into(), port: 25, credentials: None };
        assert_eq!(relay("smtp://localhost"), Some(plain));
        let with_login =
            Relay { host: "mail.lan".into(), port: 2525, credentials: Some(("me".into(), "secret".into())) };
        assert_eq!(relay("smtp://me:secret@mail.lan:2525/"), Some(with_login));
        for bad in ["https://mail.lan", "smtp://", "smtp://mail.lan:port", "mail.lan:25"] {
            assert_eq!(relay(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_mailer_needs_an_smtp_url_and_a_sender_address() {
        assert!(Mailer::new("smtp://localhost:2525", "mockloop <mockloop@localhost>").is_ok());
        assert!(Mailer::new("https://mail.example", "mockloop@localhost").is_err());
        assert!(Mailer::new("smtp://localhost:2525", "not an address").is_err());
    }
}
