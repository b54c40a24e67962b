//! request_response framing of the member directory's exchange
//! (`/cairn/directory/1`): one [`DirectoryRequest`] and one
//! [`DirectoryAnswer`] per stream, each a codec frame read up to its limit.
//!
//! A protocol of its own rather than new variants of the direct requests:
//! the directory can change without touching the item and catch-up codec,
//! and a node that does not speak it simply never answers.

use super::codec::{read_frame, write_frame};
use cairn_protocol::codec::MAX_FRAME;
use cairn_protocol::directory::{DirectoryAnswer, DirectoryRequest, MAX_REQUEST};
use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use std::io;

/// The protocol name negotiated for directory exchanges.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/directory/1");

fn request_limit(_: &[u8]) -> Option<usize> {
    Some(MAX_REQUEST)
}

fn answer_limit(_: &[u8]) -> Option<usize> {
    Some(MAX_FRAME)
}

/// Encodes and decodes directory frames.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirectoryCodec;

impl libp2p::request_response::Codec for DirectoryCodec {
    type Protocol = StreamProtocol;
    type Request = DirectoryRequest;
    type Response = DirectoryAnswer;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Self::Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, request_limit).await
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, answer_limit).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Self::Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Self::Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;
    use libp2p::request_response::Codec;

    #[tokio::test]
    async fn requests_round_trip_and_oversized_ones_are_refused() {
        let mut c = DirectoryCodec;
        let req = DirectoryRequest {
            have: vec![],
            mine: None,
        };
        let mut out = Cursor::new(Vec::new());
        c.write_request(&PROTOCOL, &mut out, req.clone())
            .await
            .unwrap();
        let mut input = Cursor::new(out.into_inner());
        assert_eq!(c.read_request(&PROTOCOL, &mut input).await.unwrap(), req);

        let mut big = vec![cairn_protocol::codec::VERSION];
        big.resize(MAX_REQUEST + 10, 0);
        let err = c
            .read_request(&PROTOCOL, &mut Cursor::new(big))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
