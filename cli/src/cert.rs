//! Issuing and inspecting membership certificates, offline, on the issuer's
//! machine. A certificate is only written once it verifies against the
//! community it was issued for.

use crate::{keys, render, rfc3339};
use anyhow::{bail, Context, Result};
use cairn_protocol::{
    Certificate, CertificateBody, EntityType, MemberState, Role, Sector, Timestamp,
};
use cairn_store::files;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a member certificate signed by an issuer of the community; prints its id
    Issue(IssueArgs),
    /// Issue a pseudonymous certificate beside a member's named one (issuer,
    /// offline): publish role only, the member's identity escrowed to the
    /// competent authority; prints its id
    Pseudonym(crate::pseudonym::PseudonymArgs),
    /// Seal a member's identity for a pseudonym key, check it opens, and
    /// sign it for the issuer (competent authority, offline); prints the
    /// pseudonym
    Escrow(crate::pseudonym::EscrowArgs),
    /// Show a certificate, and whether it verifies against a community now
    /// (exits non-zero when it does not)
    Show(ShowArgs),
    /// Revoke certificates (issuer, offline); prints the revocation's id.
    /// Hand the file to any node with `cairn revocation publish`
    Revoke(crate::revoke::RevokeArgs),
    /// Re-issue a certificate for the same key and entity with a new serial
    /// and validity (issuer, offline); install it with `cairn cert install`
    Renew(crate::revoke::RenewArgs),
    /// Make the local node present a renewed certificate, without a restart
    Install {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Validity of a new certificate unless the issuer says otherwise: short,
/// so a leaked key ages out even if its revocation never arrives.
pub const DEFAULT_VALID_DAYS: u64 = 90;

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The community file the certificate is for
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The issuer's secret key file (one of the community's issuers)
    #[arg(long, value_name = "FILE")]
    issuer_key: PathBuf,
    /// The member node's public key (hex) or its key file
    #[arg(long, value_name = "HEX_OR_KEYFILE")]
    member_key: String,
    /// The member's encryption key (hex, from `cairn key show --encryption`);
    /// needed when --member-key is hex
    #[arg(long, value_name = "HEX")]
    member_encryption_key: Option<String>,
    /// The entity's legal name
    #[arg(long, value_name = "NAME")]
    entity_name: String,
    /// essential, important, supplier, csirt or competent-authority
    #[arg(long, value_name = "TYPE")]
    entity_type: EntityType,
    /// NIS2 Annex I or II sector, e.g. health, energy, digital-infrastructure
    #[arg(long)]
    sector: Sector,
    /// EU Member State, ISO 3166-1 alpha-2 (e.g. DE, FR, GR)
    #[arg(long, value_name = "CC")]
    member_state: MemberState,
    /// Comma-separated roles: publish, receive, authority
    #[arg(long, value_delimiter = ',', required = true)]
    roles: Vec<Role>,
    /// Serial number [default: the current time in milliseconds]
    #[arg(long)]
    serial: Option<u64>,
    /// Days the certificate stays valid (at most the community's maximum)
    #[arg(long, default_value_t = DEFAULT_VALID_DAYS, value_parser = clap::value_parser!(u64).range(1..))]
    valid_days: u64,
    /// Start of validity, RFC 3339 (e.g. 2026-03-01T00:00:00Z) [default: now]
    #[arg(long, value_name = "TIME", value_parser = rfc3339::parse)]
    not_before: Option<Timestamp>,
    /// The issuer's ledger [default: the issuer key file's path + .ledger]
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Where to write the certificate; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Verify the certificate against this community file
    #[arg(long, value_name = "FILE")]
    community: Option<PathBuf>,
    /// Print the certificate and the verification result as JSON
    #[arg(long)]
    json: bool,
}

/// Runs an offline certificate command; `node` is for `install`.
pub fn run(
    cmd: &CertCommand,
    node: impl FnOnce() -> Result<crate::client::Client>,
    out: &mut dyn Write,
) -> Result<()> {
    match cmd {
        CertCommand::Issue(a) => issue(a, out),
        CertCommand::Pseudonym(a) => crate::pseudonym::issue(a, out),
        CertCommand::Escrow(a) => crate::pseudonym::escrow(a, out),
        CertCommand::Show(a) => show(a, out),
        CertCommand::Revoke(a) => crate::revoke::revoke(a, out),
        CertCommand::Renew(a) => crate::revoke::renew(a, out),
        CertCommand::Install { file } => crate::revoke::install(&node()?, file, out),
    }
}

/// The issuer's key, refused unless it is one of `community`'s issuers.
pub fn issuer_key(
    community: &cairn_protocol::Community,
    path: &std::path::Path,
    community_path: &std::path::Path,
) -> Result<cairn_protocol::SecretKey> {
    let issuer = keys::read_secret(path)?;
    if !community.is_issuer(&issuer.public()) {
        bail!(
            "{} is not an issuer key of community '{}' ({}): sign with the key the community was created with",
            path.display(),
            community.name,
            community_path.display()
        );
    }
    Ok(issuer)
}

fn issue(a: &IssueArgs, out: &mut dyn Write) -> Result<()> {
    let community = files::read_community(&a.community)?;
    let issuer = issuer_key(&community, &a.issuer_key, &a.community)?;
    let (member_key, encryption_key) = keys::member_keys_arg(
        &a.member_key,
        a.member_encryption_key.as_deref(),
        ("--member-key", "--member-encryption-key"),
    )?;
    if a.roles.contains(&Role::Authority) && member_key != community.authority {
        bail!("the authority role belongs to the community's authority key only ({}); this member key is not it", community.authority);
    }
    let mut roles: Vec<Role> = Vec::new();
    for r in &a.roles {
        if !roles.contains(r) {
            roles.push(*r);
        }
    }
    let not_before = a.not_before.unwrap_or_else(Timestamp::now);
    let body = CertificateBody {
        community: community.id,
        serial: a.serial.unwrap_or_else(|| Timestamp::now().millis()),
        issuer: issuer.public(),
        member_key,
        encryption_key,
        subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
            name: a.entity_name.trim().to_string(),
            entity_type: a.entity_type,
            sector: a.sector,
            member_state: a.member_state,
        }),
        roles,
        not_before,
        not_after: not_before.plus_days(a.valid_days),
    };
    let cert = Certificate::issue(body, &issuer)?;
    cert.verify(&community, not_before)
        .context("the new certificate does not verify against its community")?;
    if cert.body.not_after <= Timestamp::now() {
        bail!(
            "the certificate would already have expired (valid until {}): move --not-before later or raise --valid-days",
            cert.body.not_after.to_rfc3339()
        );
    }
    record_and_write(&a.issuer_key, a.ledger.as_deref(), &a.out, &cert)?;
    writeln!(out, "{}", cert.id())?;
    Ok(())
}

/// Records a named certificate in the issuer's ledger, then writes it to
/// `out` (never overwritten).
pub fn record_and_write(
    issuer_key: &std::path::Path,
    ledger: Option<&std::path::Path>,
    out: &std::path::Path,
    cert: &Certificate,
) -> Result<()> {
    if out.exists() {
        bail!(
            "{} already exists: refusing to overwrite it (move it away first)",
            out.display()
        );
    }
    crate::ledger::append(
        &crate::ledger::path(issuer_key, ledger),
        &crate::ledger::Record {
            issued: Timestamp::now(),
            certificate: cert.clone(),
            beside: None,
        },
    )?;
    files::write_certificate(out, cert)?;
    Ok(())
}

fn show(a: &ShowArgs, out: &mut dyn Write) -> Result<()> {
    let cert = files::read_certificate(&a.file)?;
    let now = Timestamp::now();
    let check = match &a.community {
        Some(path) => {
            let community = files::read_community(path)?;
            Some((community.name.clone(), cert.verify(&community, now)))
        }
        None => None,
    };
    if a.json {
        let verification = check.as_ref().map(|(name, result)| {
            serde_json::json!({
                "community": name,
                "at": now,
                "valid": result.is_ok(),
                "error": result.as_ref().err().map(ToString::to_string),
            })
        });
        let doc = serde_json::json!({
            "id": cert.id(),
            "certificate": cert,
            "verification": verification,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    let verdict = match &check {
        None => "not checked: pass --community FILE".to_string(),
        Some((name, Ok(()))) => format!("yes, against community '{name}' at {now}"),
        Some((name, Err(e))) => format!("NO, against community '{name}' at {now}: {e}"),
    };
    write!(out, "{}", describe(&cert, verdict))?;
    match check {
        Some((_, Err(e))) => bail!("the certificate does not verify: {e}"),
        _ => Ok(()),
    }
}

/// A field a pseudonym may leave undisclosed.
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "(not disclosed)".to_string(), |v| v.to_string())
}

/// The certificate as labelled lines, ending with `verdict`.
fn describe(cert: &Certificate, verdict: String) -> String {
    let b = &cert.body;
    let roles: Vec<&str> = b.roles.iter().map(|r| r.as_str()).collect();
    render::fields(&[
        ("certificate", cert.id().to_string()),
        ("entity", b.subject.display_name()),
        ("entity type", opt(b.subject.entity_type())),
        ("sector", opt(b.subject.sector())),
        ("member state", opt(b.subject.member_state())),
        ("roles", roles.join(", ")),
        ("member key", b.member_key.to_string()),
        ("valid from", b.not_before.to_rfc3339()),
        ("valid until", b.not_after.to_rfc3339()),
        ("serial", b.serial.to_string()),
        ("community", b.community.to_string()),
        ("issuer", b.issuer.to_string()),
        ("verifies", verdict),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::{Community, CommunityId, SecretKey};

    #[test]
    fn the_description_lists_identity_roles_and_validity() {
        let issuer = SecretKey::from_seed(&[1; 32]);
        let community = Community {
            id: CommunityId([9; 16]),
            name: "Health ISAC".into(),
            issuers: vec![issuer.public()],
            authority: issuer.public(),
            authority_encryption: cairn_protocol::EncryptionSecretKey::derive_from(&issuer)
                .public(),
            max_validity_days: 366,
        };
        let body = CertificateBody {
            community: community.id,
            serial: 7,
            issuer: issuer.public(),
            member_key: SecretKey::from_seed(&[2; 32]).public(),
            encryption_key: cairn_protocol::EncryptionSecretKey::derive_from(
                &SecretKey::from_seed(&[2; 32]),
            )
            .public(),
            subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
                name: "St. Example Hospital".into(),
                entity_type: EntityType::Essential,
                sector: Sector::Health,
                member_state: "DE".parse().unwrap(),
            }),
            roles: vec![Role::Publish, Role::Receive],
            not_before: Timestamp(0),
            not_after: Timestamp(0).plus_days(365),
        };
        let cert = Certificate::issue(body, &issuer).unwrap();
        let out = describe(&cert, "yes".into());
        assert!(out.contains("roles         publish, receive\n"), "{out}");
        assert!(
            out.contains("valid until   1971-01-01T00:00:00Z\n"),
            "{out}"
        );
        assert!(out.ends_with("verifies      yes\n"), "{out}");
    }
}
