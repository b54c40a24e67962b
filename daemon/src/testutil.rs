//! Test fixtures: a community with an issuer, and certified members.

use cairn_protocol::revocation::{RevocationBody, RevokedCertificate};
use cairn_protocol::{
    Certificate, CertificateBody, Community, CommunityId, Content, Contents, EncryptionSecretKey,
    Entity, EntityType, ItemBody, ItemKind, Revocation, RevocationReason, Role, SecretKey, Sector,
    SignedItem, Subject, Timestamp, Tlp,
};

pub struct Fixture {
    pub issuer: SecretKey,
    pub authority: SecretKey,
    pub community: Community,
}

impl Fixture {
    pub fn new() -> Self {
        let issuer = SecretKey::from_seed(&[11; 32]);
        let authority = SecretKey::from_seed(&[12; 32]);
        let community = Community {
            id: CommunityId([5; 16]),
            name: "fixture".into(),
            issuers: vec![issuer.public()],
            authority: authority.public(),
            authority_encryption: EncryptionSecretKey::derive_from(&authority).public(),
            max_validity_days: 366,
        };
        Fixture {
            issuer,
            authority,
            community,
        }
    }

    pub fn key(name: &str) -> SecretKey {
        let mut seed = [0u8; 32];
        for (i, b) in name.bytes().enumerate().take(32) {
            seed[i] = b;
        }
        SecretKey::from_seed(&seed)
    }

    fn body(&self, key: &SecretKey, issuer: &SecretKey, name: &str) -> CertificateBody {
        let now = Timestamp::now();
        CertificateBody {
            community: self.community.id,
            serial: 1,
            issuer: issuer.public(),
            member_key: key.public(),
            encryption_key: EncryptionSecretKey::derive_from(key).public(),
            subject: Subject::Entity(Entity {
                name: name.into(),
                entity_type: EntityType::Essential,
                sector: Sector::Health,
                member_state: "DE".parse().unwrap(),
            }),
            roles: vec![Role::Publish, Role::Receive],
            not_before: now.minus_millis(60_000),
            not_after: now.plus_days(30),
        }
    }

    pub fn certificate(&self, name: &str) -> (SecretKey, Certificate) {
        let key = Self::key(name);
        let cert = Certificate::issue(self.body(&key, &self.issuer, name), &self.issuer).unwrap();
        (key, cert)
    }

    /// A certificate of `name` in `sector` and `state` with `roles`.
    pub fn certified(
        &self,
        name: &str,
        sector: Sector,
        state: &str,
        roles: &[Role],
    ) -> (SecretKey, Certificate) {
        let key = Self::key(name);
        let mut body = self.body(&key, &self.issuer, name);
        if let Subject::Entity(e) = &mut body.subject {
            e.sector = sector;
            e.member_state = state.parse().unwrap();
        }
        body.roles = roles.to_vec();
        (key, Certificate::issue(body, &self.issuer).unwrap())
    }

    fn item_with(&self, key: &SecretKey, cert: &Certificate, title: &str) -> SignedItem {
        let body = ItemBody {
            community: self.community.id,
            kind: ItemKind::CyberThreat,
            tlp: Tlp::Green,
            content: Content::Open(Contents {
                title: title.into(),
                body: "details".into(),
                payload: None,
                tags: vec![],
            }),
            created: Timestamp::now(),
            publisher: cert.id(),
        };
        SignedItem::sign(body, key, cert).unwrap()
    }

    pub fn item(&self, name: &str, title: &str) -> (SignedItem, Certificate) {
        let (key, cert) = self.certificate(name);
        (self.item_with(&key, &cert, title), cert)
    }

    /// A pseudonymous key and certificate beside `named`, escrowed to the
    /// community's authority.
    pub fn pseudonym(&self, named: &Certificate) -> (SecretKey, Certificate) {
        let key = Self::key("pseudonym");
        let id = cairn_protocol::PseudonymId::generate();
        let identity = cairn_protocol::pseudonym::escrowed_identity(named).unwrap();
        let escrow = cairn_protocol::subject::seal_escrow(
            &self.community.authority_encryption,
            &id,
            &key.public(),
            &identity,
        )
        .unwrap();
        let body = CertificateBody {
            member_key: key.public(),
            encryption_key: EncryptionSecretKey::derive_from(&key).public(),
            subject: Subject::Pseudonym(cairn_protocol::Pseudonym {
                id,
                sector: Some(Sector::Health),
                member_state: None,
                escrow,
            }),
            roles: vec![Role::Publish],
            ..named.body.clone()
        };
        let cert = Certificate::issue(body, &self.issuer).unwrap();
        (key, cert)
    }

    /// An item signed with `key` under `cert`.
    pub fn item_by(&self, key: &SecretKey, cert: &Certificate, title: &str) -> SignedItem {
        self.item_with(key, cert, title)
    }

    /// An item whose certificate the member signed itself.
    pub fn rogue_item(&self) -> (SignedItem, Certificate) {
        let key = Self::key("rogue");
        let cert = Certificate::issue(self.body(&key, &key, "Rogue Ltd"), &key).unwrap();
        (self.item_with(&key, &cert, "fake alert"), cert)
    }

    fn revocation_of(&self, cert: &Certificate, by: &SecretKey) -> Revocation {
        let now = Timestamp::now();
        let body = RevocationBody {
            community: self.community.id,
            issuer: by.public(),
            certificates: vec![RevokedCertificate {
                id: cert.id(),
                serial: cert.body.serial,
                member_key: cert.body.member_key,
            }],
            // Key compromise reaches every certificate of the key: fixtures
            // issue a member's certificate afresh (another instant, another
            // id) each time they are asked for it.
            reason: RevocationReason::KeyCompromise,
            effective: now.minus_millis(1_000),
            issued: now,
        };
        Revocation::issue(body, by).unwrap()
    }

    /// `name`'s certificate and the issuer's revocation of it.
    pub fn revoked_member(&self, name: &str) -> (Certificate, Revocation) {
        let (_, cert) = self.certificate(name);
        let r = self.revocation_of(&cert, &self.issuer);
        (cert, r)
    }

    /// `name`'s certificate and a revocation signed by someone not an issuer.
    pub fn self_revoked(&self, name: &str) -> (Certificate, Revocation) {
        let (key, cert) = self.certificate(name);
        let r = self.revocation_of(&cert, &key);
        (cert, r)
    }
}

/// Changes an open item's title after signing (a forgery).
pub fn retitle(item: &mut SignedItem, title: &str) {
    match &mut item.body.content {
        Content::Open(c) => c.title = title.into(),
        Content::Sealed(_) => panic!("retitle: a sealed test item"),
    }
}
