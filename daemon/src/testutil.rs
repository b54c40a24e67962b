//! Test fixtures: a community with an issuer, and certified members.

use cairn_protocol::{
    Certificate, CertificateBody, Community, CommunityId, EntityType, ItemBody, ItemKind, Role,
    SecretKey, Sector, SignedItem, Timestamp, Tlp,
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
            entity_name: name.into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().unwrap(),
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

    fn item_with(&self, key: &SecretKey, cert: &Certificate, title: &str) -> SignedItem {
        let body = ItemBody {
            community: self.community.id,
            kind: ItemKind::CyberThreat,
            tlp: Tlp::Green,
            title: title.into(),
            body: "details".into(),
            payload: None,
            tags: vec![],
            created: Timestamp::now(),
            publisher: cert.id(),
        };
        SignedItem::sign(body, key, cert).unwrap()
    }

    pub fn item(&self, name: &str, title: &str) -> (SignedItem, Certificate) {
        let (key, cert) = self.certificate(name);
        (self.item_with(&key, &cert, title), cert)
    }

    /// An item whose certificate the member signed itself.
    pub fn rogue_item(&self) -> (SignedItem, Certificate) {
        let key = Self::key("rogue");
        let cert = Certificate::issue(self.body(&key, &key, "Rogue Ltd"), &key).unwrap();
        (self.item_with(&key, &cert, "fake alert"), cert)
    }
}
