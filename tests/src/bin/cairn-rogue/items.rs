//! The items of the publishing modes (`valid`, `forged`, `red-to-all`,
//! `relabelled`, and each item of a flood): signed as an honest node would,
//! then broken the way the mode says.

use crate::Mode;
use anyhow::Context as _;
use cairn_protocol::signing::{signing_input, DOMAIN_ITEM};
use cairn_protocol::{
    Certificate, Community, Content, Contents, EncryptionSecretKey, ItemBody, ItemKind, SecretKey,
    SignedItem, Timestamp, Tlp,
};

/// Item `i` in `mode`: signed, then (forged) broken after signing.
pub(crate) fn item(
    i: usize,
    mode: Mode,
    created: Timestamp,
    community: &Community,
    key: &SecretKey,
    certificate: &Certificate,
) -> anyhow::Result<(String, SignedItem)> {
    let marker = format!("ROGUE-{}-{i}", mode.as_str());
    let body = ItemBody {
        community: community.id,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Green,
        content: Content::Open(Contents {
            title: format!("{marker} C2 server at 198.51.100.{i}"),
            body: "Block this address at the perimeter.".into(),
            payload: None,
            tags: vec!["rsit:malicious-code".into()],
        }),
        created,
        publisher: certificate.id(),
    };
    let mut body = body;
    match mode {
        Mode::RedToAll => body.tlp = Tlp::Red,
        Mode::Relabelled => {
            body.tlp = Tlp::AmberStrict;
            let Content::Open(contents) = &body.content else {
                unreachable!("built open above")
            };
            let me = (key.public(), EncryptionSecretKey::derive_from(key).public());
            let envelope =
                cairn_protocol::envelope::seal(contents, &[me], vec![], body.seal_context())?;
            body.content = Content::Sealed(envelope);
        }
        _ => {}
    }
    let mut item = if certificate.body.member_key == key.public() && mode != Mode::RedToAll {
        SignedItem::sign(body, key, certificate).context("signing")?
    } else {
        // A stolen certificate, or a marking `SignedItem::sign` refuses:
        // signed by hand.
        let signature = key.sign(&signing_input(DOMAIN_ITEM, &body)?);
        SignedItem { body, signature }
    };
    if mode == Mode::Relabelled {
        if i & 1 == 0 {
            item.body.tlp = Tlp::Amber;
        } else if let Content::Sealed(e) = &mut item.body.content {
            let mut widened = e.recipients[0].clone();
            widened.member_key = SecretKey::from_seed(&[i as u8; 32]).public();
            e.recipients.push(widened);
            e.selectors.push(cairn_protocol::Selector::Sector(
                cairn_protocol::Sector::Energy,
            ));
        }
    }
    if mode == Mode::Forged {
        if i & 1 == 0 {
            item.signature.0[7] ^= 0x01;
        } else {
            if let Content::Open(c) = &mut item.body.content {
                c.title = format!("{marker} (altered after signing) C2 at 192.0.2.66");
            }
        }
    }
    let title = match &item.body.content {
        Content::Open(c) => c.title.clone(),
        Content::Sealed(_) => marker,
    };
    Ok((title, item))
}
