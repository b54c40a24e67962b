//! Golden vectors of the member directory exchange (`protocol::directory`):
//! an answer carrying one signed address record, and a request.

use crate::assert_golden;
use crate::common::*;

/// A member directory record (`protocol::directory`), exchanged on its own
/// protocol: the certificate's bytes are `certificate_hex!()`.
const DIRECTORY_ANSWER_HEX: &str = concat!(
    "03",                                                                 // version
    "01",                                                                 // one record
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
    "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
    "01",                                                                 // one address
    "172f6970342f3139322e302e322e372f7463702f37343030", // "/ip4/192.0.2.7/tcp/7400"
    "fd00ac821da3010000",                               // signed_at T0 + 1 d
    "40d02cc1a3e2177e7259bce272129be190848627f90b6299dd47528b2b3e95c3",
    "868c0c22cf517bec38d2bcc918610c93809d0049cbdab37eee6b2e001f4af9dc06", // signature
    certificate_hex!(),                                                   // its certificate
);
const DIRECTORY_REQUEST_HEX: &str = concat!(
    "03",                                                                 // version
    "01",                                                                 // one held record:
    "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // its key
    "fd00ac821da3010000",                                                 // its version
    "00",                                                                 // mine: None
);

fn directory_record() -> cairn_protocol::directory::AddressRecord {
    cairn_protocol::directory::AddressRecord::sign(
        &member(),
        certificate(),
        vec!["/ip4/192.0.2.7/tcp/7400".into()],
        T0.plus_days(1),
    )
    .unwrap()
}

#[test]
fn golden_directory_exchange() {
    use cairn_protocol::directory::{DirectoryAnswer, DirectoryRequest};
    let r = directory_record();
    r.verify(&community(), &Default::default(), T0.plus_days(1))
        .unwrap();
    assert_golden(&DirectoryAnswer { records: vec![r] }, DIRECTORY_ANSWER_HEX);
    let q = DirectoryRequest {
        have: vec![(member().public(), T0.plus_days(1))],
        mine: None,
    };
    assert_golden(&q, DIRECTORY_REQUEST_HEX);
}
