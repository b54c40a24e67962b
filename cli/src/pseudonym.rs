//! Issuing accountable pseudonyms, offline: `cairn cert pseudonym` (the
//! issuer) and `cairn cert escrow` (the competent authority, when it is not
//! the issuer).
//!
//! The issuer's tool refuses to write a pseudonymous certificate whose
//! escrow it has not seen open, under the authority's key, to the member it
//! is issued for. The issuer cannot open an escrow itself, so it either
//! holds the authority's key (`--authority-key`: the body that issues is
//! also the competent authority, or the authority's operator issues) and
//! opens it, or it checks the authority's signed attestation (`--escrow`,
//! from `cairn cert escrow`), which the authority's tool makes only after
//! opening the escrow it sealed. Either way the pseudonym is recorded in
//! the issuer's ledger, beside the named certificate, before the file is
//! written, so `cairn cert revoke` of the named certificate revokes it too.

use crate::{cert, keys, ledger};
use anyhow::{bail, Context, Result};
use cairn_protocol::pseudonym::{
    authority_encryption, check_escrow, check_issue, escrowed_identity, EscrowAttestation,
};
use cairn_protocol::subject::seal_escrow;
use cairn_protocol::{
    Certificate, CertificateBody, Pseudonym, PseudonymId, Role, Subject, Timestamp,
};
use cairn_store::files;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PseudonymArgs {
    /// The community file
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The issuer's secret key file
    #[arg(long, value_name = "FILE")]
    issuer_key: PathBuf,
    /// The member's named certificate the pseudonym is issued beside
    #[arg(long, value_name = "FILE")]
    named_cert: PathBuf,
    /// The pseudonym's own public key (hex) or key file: a key the member
    /// made for it with `cairn key gen`, never its node key
    #[arg(long, value_name = "HEX_OR_KEYFILE")]
    pseudonym_key: String,
    /// The pseudonym's encryption key (hex, `cairn key show --encryption`);
    /// needed when --pseudonym-key is hex
    #[arg(long, value_name = "HEX")]
    pseudonym_encryption_key: Option<String>,
    /// Show the member's sector with the pseudonym
    #[arg(long)]
    disclose_sector: bool,
    /// Show the member's Member State with the pseudonym
    #[arg(long)]
    disclose_member_state: bool,
    /// Days the pseudonym stays valid, at most until the named certificate
    /// expires [default: until then]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    valid_days: Option<u64>,
    /// The competent authority's node key file, when the issuer holds it:
    /// the escrow is opened with it before anything is written
    #[arg(long, value_name = "FILE", required_unless_present = "escrow")]
    authority_key: Option<PathBuf>,
    /// The escrow the authority made, opened and signed for this member and
    /// pseudonym key (`cairn cert escrow`), when the issuer does not hold
    /// the authority's key
    #[arg(long, value_name = "FILE", conflicts_with = "authority_key")]
    escrow: Option<PathBuf>,
    /// The issuer's ledger [default: the issuer key file's path + .ledger]
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Where to write the certificate; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct EscrowArgs {
    /// The community file
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The competent authority's node key file
    #[arg(long, value_name = "FILE")]
    authority_key: PathBuf,
    /// The member's named certificate
    #[arg(long, value_name = "FILE")]
    named_cert: PathBuf,
    /// The pseudonym's public key (hex) or key file
    #[arg(long, value_name = "HEX_OR_KEYFILE")]
    pseudonym_key: String,
    /// Where to write the signed escrow for the issuer; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// The named certificate, checked: of this community, valid now, named.
fn named_certificate(
    community: &cairn_protocol::Community,
    path: &std::path::Path,
    now: Timestamp,
) -> Result<Certificate> {
    let named = files::read_certificate(path)?;
    named.verify(community, now).with_context(|| {
        format!(
            "the named certificate {} does not verify against community '{}'",
            path.display(),
            community.name
        )
    })?;
    escrowed_identity(&named)?;
    Ok(named)
}

/// `cairn cert pseudonym`: prints the new certificate's id.
pub fn issue(a: &PseudonymArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = cert::issuer_key(&community, &a.issuer_key, &a.community)?;
    let now = Timestamp::now();
    let named = named_certificate(&community, &a.named_cert, now)?;
    let (member_key, encryption_key) = keys::member_keys_arg(
        &a.pseudonym_key,
        a.pseudonym_encryption_key.as_deref(),
        ("--pseudonym-key", "--pseudonym-encryption-key"),
    )?;
    if a.out.exists() {
        bail!(
            "{} already exists: refusing to overwrite it (move it away first)",
            a.out.display()
        );
    }
    let expected = escrowed_identity(&named)?;
    // The escrow: sealed here to the community file's authority key and
    // opened with the authority's key in hand, or made by the authority
    // and vouched for by its signature.
    let (id, escrow, opener) = match (&a.authority_key, &a.escrow) {
        (Some(path), _) => {
            let authority = keys::read_secret(path)?;
            let opener = authority_encryption(&community, &authority)
                .with_context(|| format!("{} cannot open escrows", path.display()))?;
            let id = PseudonymId::generate();
            let escrow = seal_escrow(
                &community.authority_encryption,
                &id,
                &member_key,
                &expected,
            )?;
            (id, escrow, Some(opener))
        }
        (None, Some(path)) => {
            let attestation = files::read_escrow_attestation(path)?;
            attestation
                .verify(&community, &named.id(), &member_key)
                .with_context(|| {
                    format!(
                        "{} is not the authority's escrow for this member and pseudonym key",
                        path.display()
                    )
                })?;
            (attestation.body.pseudonym, attestation.body.escrow, None)
        }
        (None, None) => bail!(
            "give --authority-key FILE (the issuer holds the authority's key) or --escrow FILE (made by the authority with `cairn cert escrow`): an escrow nobody has opened is not issued"
        ),
    };
    let named_entity = &named.body.subject;
    let not_after = match a.valid_days {
        None => named.body.not_after,
        Some(days) => {
            let end = now.plus_days(days);
            if end > named.body.not_after {
                bail!(
                    "--valid-days {days} would outlive the named certificate (valid until {}): a pseudonym ends with its member's certificate",
                    named.body.not_after.to_rfc3339()
                );
            }
            end
        }
    };
    let body = CertificateBody {
        community: community.id,
        serial: now.millis(),
        issuer: issuer.public(),
        member_key,
        encryption_key,
        subject: Subject::Pseudonym(Pseudonym {
            id,
            sector: named_entity.sector().filter(|_| a.disclose_sector),
            member_state: named_entity
                .member_state()
                .filter(|_| a.disclose_member_state),
            escrow,
        }),
        roles: vec![Role::Publish],
        not_before: now,
        not_after,
    };
    check_issue(&named, &body)?;
    if let Some(opener) = &opener {
        check_escrow(opener, &body, &expected)
            .context("refusing to issue the pseudonym: its escrow does not open to this member")?;
    }
    let certificate = Certificate::issue(body, &issuer)?;
    certificate
        .verify(&community, now)
        .context("the new certificate does not verify against its community")?;
    let ledger_path = ledger::path(&a.issuer_key, a.ledger.as_deref());
    ledger::append(
        &ledger_path,
        &ledger::Record {
            issued: now,
            certificate: certificate.clone(),
            beside: Some(ledger::Named {
                certificate: named.id(),
                member_key: named.body.member_key,
            }),
        },
    )?;
    files::write_certificate(&a.out, &certificate)?;
    writeln!(out, "{}", certificate.id())?;
    Ok(())
}

/// `cairn cert escrow`: the authority seals the member's identity for a
/// pseudonym key, opens it again and signs it; prints the pseudonym.
pub fn escrow(a: &EscrowArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let authority = keys::read_secret(&a.authority_key)?;
    let named = named_certificate(&community, &a.named_cert, Timestamp::now())?;
    let pseudonym_key = keys::public_key_arg(&a.pseudonym_key)?;
    let attestation = EscrowAttestation::make(&community, &authority, &named, &pseudonym_key)
        .with_context(|| format!("{} cannot make escrows", a.authority_key.display()))?;
    files::write_escrow_attestation(&a.out, &attestation)?;
    writeln!(out, "{}", attestation.body.pseudonym)?;
    Ok(())
}
