//! The pseudonym side of the local API: which key and certificate sign a
//! publication, and the authority's reveal of the entity behind an item.

use super::{error, Api};
use cairn_protocol::control::{ControlResponse, RegisterView};
use cairn_protocol::{Certificate, ItemId, SecretKey, Timestamp};

impl Api {
    /// The key and certificate a publication is signed with: the node's
    /// named ones, or its pseudonymous ones (`[pseudonym]`).
    pub(super) fn signer(&self, as_pseudonym: bool) -> Result<(SecretKey, Certificate), String> {
        if !as_pseudonym {
            return Ok((self.ctx.key.clone(), self.ctx.certificate()));
        }
        match &self.ctx.pseudonym {
            Some(p) => Ok((p.key.clone(), p.certificate.clone())),
            None => Err(
                "this node has no pseudonym: add [pseudonym] key_file and certificate_file (from `cairn cert pseudonym`) to cairn.toml and restart it"
                    .into(),
            ),
        }
    }

    /// The expiry warning of the pseudonymous certificate, if any.
    pub(super) fn pseudonym_warning(&self) -> Option<String> {
        let p = self.ctx.pseudonym.as_ref()?;
        crate::expiry::warning(&p.certificate, Timestamp::now()).map(|w| {
            format!(
                "pseudonym: {}",
                w.replace("this node's certificate", "the pseudonymous certificate")
                    .replace(
                        "a renewal (`cairn cert renew`) and install it (`cairn cert install`)",
                        "a new one (`cairn cert pseudonym`) and restart the node with it"
                    )
            )
        })
    }

    /// `cairn reveal ITEM`: the authority's node opens the escrow behind a
    /// pseudonymous item, records the reveal in its register, and answers
    /// with the register entry. Any other node, and any item not published
    /// under a pseudonym, is refused plainly.
    pub(super) async fn reveal(&self, id: ItemId, reason: String) -> ControlResponse {
        let Some(authority) = self.ctx.authority.clone() else {
            return error(
                "this node is not the community's authority: only the authority's node holds the key that opens a pseudonym's escrow, and records the reveal in its register",
            );
        };
        let item = match self.ctx.items.get(&id) {
            Ok(Some((item, _))) => item,
            Ok(None) => {
                return error(format!(
                    "no item {id} on this node: `cairn items list` shows what is here"
                ))
            }
            Err(e) => return error(format!("cannot read item {id}: {e}")),
        };
        let publisher = match self.ctx.items.certificate(&item.body.publisher) {
            Ok(Some(c)) => c,
            Ok(None) => return error(format!("the certificate of item {id} is not stored here")),
            Err(e) => return error(format!("cannot read the certificate of item {id}: {e}")),
        };
        if !publisher.body.subject.is_pseudonym() {
            return error(format!(
                "item {id} was published under a named certificate ({}): there is no pseudonym to reveal",
                publisher.body.subject.display_name()
            ));
        }
        let revealed = tokio::task::spawn_blocking(move || {
            authority.reveal(&item, &publisher, &reason, Timestamp::now())
        })
        .await;
        match revealed {
            Ok(Ok(entry)) => ControlResponse::Revealed(RegisterView::of(&entry)),
            Ok(Err(e)) => error(format!("not revealed: {e}")),
            Err(e) => error(format!("internal error: {e}")),
        }
    }
}
