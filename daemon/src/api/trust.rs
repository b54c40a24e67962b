//! The trust side of the local API: revocations handed to the node,
//! renewed certificates installed on it, and the members view with their
//! standing (revoked members included).

use super::{error, Api};
use cairn_protocol::control::{ControlResponse, MemberView, RevokedView};
use cairn_protocol::{Certificate, Revocation, Timestamp};
use tracing::info;

impl Api {
    /// Enforces `revocation` here (verified, fsynced) and spreads it on the
    /// community's gossip; members that miss it learn it at their next
    /// handshake or anti-entropy session.
    pub async fn publish_revocation(&self, revocation: Revocation) -> ControlResponse {
        let id = revocation.id();
        match crate::revocations::enforce_and_spread(&self.ctx, &self.client, revocation).await {
            Ok(new) => ControlResponse::RevocationPublished { id, new },
            Err(e) => error(format!("revocation refused: {e}")),
        }
    }

    pub(super) async fn install_certificate(&self, certificate: Certificate) -> ControlResponse {
        let ctx = &self.ctx;
        let now = Timestamp::now();
        let current = ctx.certificate();
        if certificate.body.member_key != ctx.key.public() {
            return error(
                "the certificate is for another key: a renewal certifies this node's own key",
            );
        }
        if let Err(e) = certificate.verify(&ctx.community, now) {
            return error(format!("the certificate does not verify: {e}"));
        }
        if let Err(e) = ctx.revocations.check_peer(&certificate, now) {
            return error(format!("the certificate is revoked: {e}"));
        }
        if certificate.body.subject != current.body.subject {
            return error("the certificate names another entity than this node's: ask the issuer for a renewal (`cairn cert renew`)");
        }
        if let Some(path) = &ctx.certificate_path {
            let cert = certificate.clone();
            let path = path.clone();
            let written = tokio::task::spawn_blocking(move || {
                cairn_store::files::replace_certificate(&path, &cert)
            })
            .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return error(format!("cannot write the certificate file: {e}")),
                Err(e) => return error(format!("internal error: {e}")),
            }
        }
        ctx.admission.set_certificate(certificate.clone());
        info!(
            certificate = %certificate.id(),
            not_after = %certificate.body.not_after,
            "renewed certificate installed"
        );
        // Connected members learn it now; new connections present it anyway.
        let _ = self.client.present_certificate(certificate.clone()).await;
        ControlResponse::CertificateInstalled {
            certificate: certificate.id(),
            not_after: certificate.body.not_after,
        }
    }

    pub(super) async fn members(&self) -> ControlResponse {
        let Ok(snap) = self.client.snapshot().await else {
            return error("the node is shutting down");
        };
        let revocations = &self.ctx.revocations;
        let view = |cert: &Certificate, peer: String, connected: bool, from: Vec<String>| {
            let c = &cert.body;
            let id = cert.id();
            MemberView {
                entity_name: c.subject.display_name(),
                entity_type: c.subject.entity_type(),
                sector: c.subject.sector(),
                member_state: c.subject.member_state(),
                member_key: c.member_key,
                certificate: id,
                serial: c.serial,
                peer_id: peer,
                connected,
                not_after: c.not_after,
                revoked: revocations.status(&id, cert).map(|e| RevokedView {
                    reason: e.reason,
                    effective: e.effective,
                }),
                key_in_use_from: from,
                reached_at: None,
            }
        };
        let mut members: Vec<MemberView> = snap
            .members
            .iter()
            .map(|(peer, cert)| {
                let from = snap.duplicates.get(peer).cloned().unwrap_or_default();
                MemberView {
                    reached_at: snap.reached.get(peer).cloned(),
                    ..view(cert, peer.to_string(), true, from)
                }
            })
            .collect();
        // Revoked members are no longer connected: list every certificate a
        // revocation reaches that this node can name.
        let (named, unnamed) = crate::revocations::revoked_certificates(&self.ctx, &snap.seen);
        for cert in named {
            if members.iter().all(|m| m.certificate != cert.id()) {
                let peer = crate::network::peers::peer_id_of(&cert.body.member_key).to_string();
                members.push(view(&cert, peer, false, Vec::new()));
            }
        }
        // Revoked certificates this node never saw: shown by id and key.
        for c in unnamed {
            let effect = self
                .ctx
                .revocations
                .all()
                .into_iter()
                .find_map(|r| match r {
                    Revocation::Issued { body, .. } if body.certificates.contains(&c) => {
                        Some(RevokedView {
                            reason: body.reason,
                            effective: body.effective,
                        })
                    }
                    _ => None,
                });
            members.push(MemberView {
                entity_name: format!("(certificate {} not seen by this node)", c.id),
                entity_type: None,
                sector: None,
                member_state: None,
                member_key: c.member_key,
                certificate: c.id,
                serial: c.serial,
                peer_id: crate::network::peers::peer_id_of(&c.member_key).to_string(),
                connected: false,
                not_after: Timestamp(0),
                revoked: effect,
                key_in_use_from: Vec::new(),
                reached_at: None,
            });
        }
        members.sort_by(|a, b| a.entity_name.cmp(&b.entity_name));
        ControlResponse::Members { members }
    }
}
