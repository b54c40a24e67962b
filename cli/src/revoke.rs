//! Ending a certificate's service early: the issuer's offline revocation
//! (`cairn cert revoke`), renewal (`cairn cert renew`), and handing either
//! to a running node (`cairn revocation publish`, `cairn cert install`).

use crate::client::Client;
use crate::rfc3339;
use anyhow::{anyhow, Context, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::revocation::{RevocationBody, RevokedCertificate};
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
    /// A certificate to revoke (repeat for a member's named certificate and
    /// its pseudonymous ones)
    #[arg(long = "cert", value_name = "FILE", required = true)]
    certs: Vec<PathBuf>,
    /// key-compromise, withdrawn, superseded or misbehaviour
    #[arg(long)]
    reason: RevocationReason,
    /// From when the certificates no longer serve, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = rfc3339::parse)]
    effective: Option<Timestamp>,
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
    /// Where to write the new certificate; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `cairn cert revoke`: signs a revocation offline and prints its id.
pub fn revoke(a: &RevokeArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = crate::cert::issuer_key(&community, &a.issuer_key, &a.community)?;
    let mut certificates = Vec::new();
    for path in &a.certs {
        let c = files::read_certificate(path)?;
        c.verify_authenticity(&community).with_context(|| {
            format!(
                "{} is not a certificate of community '{}'",
                path.display(),
                community.name
            )
        })?;
        certificates.push(RevokedCertificate {
            id: c.id(),
            serial: c.body.serial,
            member_key: c.body.member_key,
        });
    }
    let now = Timestamp::now();
    let body = RevocationBody {
        community: community.id,
        issuer: issuer.public(),
        certificates,
        reason: a.reason,
        effective: a.effective.unwrap_or(now),
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

/// `cairn cert renew`: the same certificate with a new serial and validity.
pub fn renew(a: &RenewArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = crate::cert::issuer_key(&community, &a.issuer_key, &a.community)?;
    let old = files::read_certificate(&a.cert)?;
    old.verify_authenticity(&community)
        .with_context(|| format!("{} cannot be renewed", a.cert.display()))?;
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
    files::write_certificate(&a.out, &cert)?;
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
