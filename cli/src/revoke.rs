//! Ending a certificate's service early: the issuer's offline revocation
//! (`cairn cert revoke`), renewal (`cairn cert renew`), and handing either
//! to a running node (`cairn revocation publish`, `cairn cert install`).

use crate::client::Client;
use crate::rfc3339;
use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::revocation::{RevocationBody, RevokedCertificate, MAX_REVOKED_PER_REVOCATION};
use cairn_protocol::{Certificate, CertificateBody, Revocation, RevocationReason, Timestamp};
use cairn_store::files;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The community file the certificates belong to
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The issuer's secret key file
    #[arg(long, value_name = "FILE")]
    issuer_key: PathBuf,
    /// A certificate to revoke (repeatable). A named certificate's
    /// pseudonymous certificates, as the issuer's ledger records them, are
    /// revoked with it in the same revocation
    #[arg(long = "cert", value_name = "FILE", required = true)]
    certs: Vec<PathBuf>,
    /// key-compromise, withdrawn, superseded or misbehaviour
    #[arg(long)]
    reason: RevocationReason,
    /// From when the certificates no longer serve, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = rfc3339::parse)]
    effective: Option<Timestamp>,
    /// The issuer's ledger [default: the issuer key file's path + .ledger]
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Where to write the revocation; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// The community file
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The issuer's secret key file
    #[arg(long, value_name = "FILE")]
    issuer_key: PathBuf,
    /// The certificate to renew: same key, entity and roles, new serial
    #[arg(long = "cert", value_name = "FILE")]
    cert: PathBuf,
    /// Days the new certificate stays valid from now
    #[arg(long, default_value_t = crate::cert::DEFAULT_VALID_DAYS,
          value_parser = clap::value_parser!(u64).range(1..))]
    valid_days: u64,
    /// The issuer's ledger [default: the issuer key file's path + .ledger]
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Where to write the new certificate; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `cairn cert revoke`: signs a revocation offline and prints its id. Each
/// named certificate's pseudonymous certificates (from the issuer's ledger)
/// are named in the same revocation: nodes cannot link them, so a member
/// revoked under its name would otherwise go on publishing under its
/// pseudonym.
pub fn revoke(a: &RevokeArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = crate::cert::issuer_key(&community, &a.issuer_key, &a.community)?;
    let now = Timestamp::now();
    let effective = a.effective.unwrap_or(now);
    let mut given = Vec::new();
    for path in &a.certs {
        let c = files::read_certificate(path)?;
        c.verify_authenticity(&community).with_context(|| {
            format!(
                "{} is not a certificate of community '{}'",
                path.display(),
                community.name
            )
        })?;
        given.push(c);
    }
    let pseudonyms = pseudonyms_to_revoke(a, &given, effective)?;
    let mut certificates: Vec<RevokedCertificate> = Vec::new();
    for c in given.iter().chain(&pseudonyms) {
        let id = c.id();
        if certificates.iter().all(|r| r.id != id) {
            certificates.push(RevokedCertificate {
                id,
                serial: c.body.serial,
                member_key: c.body.member_key,
            });
        }
    }
    let body = RevocationBody {
        community: community.id,
        issuer: issuer.public(),
        certificates,
        reason: a.reason,
        effective,
        issued: now,
    };
    let revocation = Revocation::issue(body, &issuer)?;
    revocation
        .verify(&community, now)
        .context("the new revocation does not verify against its community")?;
    files::write_revocation(&a.out, &revocation)?;
    writeln!(out, "{}", revocation.id())?;
    Ok(())
}

/// The pseudonymous certificates the ledger records beside the named
/// certificates in `given` (any certificate of the same member key, so
/// renewals count) that could still serve at `effective`; all of them for
/// a key compromise, whose revocation reaches back. Said on stderr, so the
/// revocation id stays alone on stdout.
fn pseudonyms_to_revoke(
    a: &RevokeArgs,
    given: &[Certificate],
    effective: Timestamp,
) -> Result<Vec<Certificate>> {
    let named: Vec<&Certificate> = given
        .iter()
        .filter(|c| !c.body.subject.is_pseudonym())
        .collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let path = crate::ledger::path(&a.issuer_key, a.ledger.as_deref());
    let Some(records) = crate::ledger::read(&path)? else {
        eprintln!(
            "warning: no issuer's ledger at {}: pseudonymous certificates issued beside these named ones, if any, are not revoked with them (name them with --cert, or give --ledger FILE)",
            path.display()
        );
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for c in named {
        for p in crate::ledger::pseudonyms_of(&records, &c.body.member_key) {
            let expired = p.body.not_after < effective;
            if a.reason == RevocationReason::KeyCompromise || !expired {
                eprintln!(
                    "also revoking pseudonymous certificate {} ({}), issued beside {}",
                    p.id(),
                    p.body.subject.display_name(),
                    c.id()
                );
                found.push(p.clone());
            }
        }
    }
    let total = given.len() + found.len();
    if total > MAX_REVOKED_PER_REVOCATION {
        bail!(
            "these certificates and their pseudonyms are {total}, over the {MAX_REVOKED_PER_REVOCATION} one revocation may name: revoke fewer named certificates at once"
        );
    }
    Ok(found)
}

/// `cairn cert renew`: the same certificate with a new serial and validity.
pub fn renew(a: &RenewArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = crate::cert::issuer_key(&community, &a.issuer_key, &a.community)?;
    let old = files::read_certificate(&a.cert)?;
    old.verify_authenticity(&community)
        .with_context(|| format!("{} cannot be renewed", a.cert.display()))?;
    if old.body.subject.is_pseudonym() {
        bail!(
            "{} is pseudonymous: a renewal could not check it against its member's named certificate; issue a new pseudonym with `cairn cert pseudonym`",
            a.cert.display()
        );
    }
    let now = Timestamp::now();
    let body = CertificateBody {
        serial: now.millis().max(old.body.serial + 1),
        issuer: issuer.public(),
        not_before: now,
        not_after: now.plus_days(a.valid_days),
        ..old.body.clone()
    };
    let cert = Certificate::issue(body, &issuer)?;
    cert.verify(&community, now)
        .context("the renewed certificate does not verify against its community")?;
    crate::cert::record_and_write(&a.issuer_key, a.ledger.as_deref(), &a.out, &cert)?;
    writeln!(out, "{}", cert.id())?;
    Ok(())
}

/// `cairn revocation publish FILE`: the node enforces it and spreads it.
pub fn publish(client: &Client, file: &std::path::Path, out: &mut dyn Write) -> Result<()> {
    let revocation = files::read_revocation(file)?;
    let request = ControlRequest::PublishRevocation {
        revocation: Box::new(revocation),
    };
    match client.request(&request)? {
        ControlResponse::RevocationPublished { id, new } => {
            let note = if new {
                "enforced and spread"
            } else {
                "already known; spread again"
            };
            writeln!(out, "revocation {id}: {note}")?;
            Ok(())
        }
        _ => Err(anyhow!(
            "cairnd answered something else than a revocation result"
        )),
    }
}

/// `cairn cert install FILE`: the node presents a renewed certificate.
pub fn install(client: &Client, file: &std::path::Path, out: &mut dyn Write) -> Result<()> {
    let certificate = files::read_certificate(file)?;
    let request = ControlRequest::InstallCertificate {
        certificate: Box::new(certificate),
    };
    match client.request(&request)? {
        ControlResponse::CertificateInstalled {
            certificate,
            not_after,
        } => {
            writeln!(
                out,
                "certificate {certificate} installed, valid until {}; connected members have it",
                not_after.to_rfc3339()
            )?;
            Ok(())
        }
        _ => Err(anyhow!(
            "cairnd answered something else than an installation result"
        )),
    }
}
