//! request_response framing for Cairn's direct messages.
//!
//! One request or response per stream, read to the end of the stream and
//! decoded with the protocol codec. The frame's first two bytes (version,
//! variant) name its kind; reading stops at that kind's limit
//! (`wire::request_limit`, `wire::response_limit`), so a peer cannot make a
//! node buffer or parse a megabyte where a hundred bytes belong.

use cairn_protocol::codec::{self, MAX_FRAME};
use cairn_protocol::wire::{self, Request, Response};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use std::io;

/// The protocol name negotiated for direct requests.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/direct/1");

/// Encodes and decodes [`Request`] and [`Response`] frames.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameCodec;

fn invalid(detail: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, detail)
}

/// Reads one frame of at most the limit `limit_of` gives for its kind,
/// then decodes it.
pub(crate) async fn read_frame<T, V>(
    io: &mut T,
    limit_of: fn(&[u8]) -> Option<usize>,
) -> io::Result<V>
where
    T: AsyncRead + Unpin + Send,
    V: serde::de::DeserializeOwned + serde::Serialize,
{
    let mut buf = Vec::new();
    (&mut *io).take(2).read_to_end(&mut buf).await?;
    let limit = limit_of(&buf)
        .ok_or_else(|| invalid("a frame of no known kind".into()))?
        .min(MAX_FRAME);
    // One byte past the limit tells "too large" apart from "exactly at it".
    io.take((limit + 1 - buf.len()) as u64)
        .read_to_end(&mut buf)
        .await?;
    if buf.len() > limit {
        return Err(invalid(format!(
            "a frame over its kind's limit of {limit} bytes"
        )));
    }
    codec::decode(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

pub(crate) async fn write_frame<T, V>(io: &mut T, value: &V) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    V: serde::Serialize,
{
    let bytes = codec::encode(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, wire::request_limit).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, wire::response_limit).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
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
        res: Response,
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
    async fn frames_round_trip_and_garbage_is_invalid_data() {
        let mut c = FrameCodec;
        let mut out = Cursor::new(Vec::new());
        let res = Response::Refused {
            reason: "no".into(),
        };
        c.write_response(&PROTOCOL, &mut out, res.clone())
            .await
            .unwrap();
        let mut input = Cursor::new(out.into_inner());
        assert_eq!(c.read_response(&PROTOCOL, &mut input).await.unwrap(), res);

        let mut garbage = Cursor::new(vec![1u8, 0xff, 0xff, 0xff]);
        let err = c.read_request(&PROTOCOL, &mut garbage).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);

        let mut huge = Cursor::new(vec![1u8; MAX_FRAME + 10]);
        let err = c.read_request(&PROTOCOL, &mut huge).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    /// A frame of `len` bytes claiming variant `variant`.
    fn frame(variant: u8, len: usize) -> Cursor<Vec<u8>> {
        let mut f = vec![0u8; len];
        f[0] = codec::VERSION;
        f[1] = variant;
        Cursor::new(f)
    }

    #[tokio::test]
    async fn each_kind_is_refused_past_its_own_limit_before_decoding() {
        let mut c = FrameCodec;
        // A revocation summary request (variant 4) has 128 bytes; 64 KiB of
        // it is refused as too large, not parsed.
        let err = c
            .read_request(&PROTOCOL, &mut frame(4, 64 * 1024))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("limit of 128"), "{err}");
        // The same size is within a reconcile request's limit: it reaches
        // the decoder (and fails there, as zeroes).
        let err = c
            .read_request(&PROTOCOL, &mut frame(2, 64 * 1024))
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("limit"), "{err}");
        // Responses too: an `Accepted` takes a few bytes.
        let err = c
            .read_response(&PROTOCOL, &mut frame(0, 1024))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("limit of 16"), "{err}");
        let err = c
            .read_response(&PROTOCOL, &mut frame(9, 10))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no known kind"), "{err}");
        // Real messages of every size class still pass.
        let mut out = Cursor::new(Vec::new());
        let req = Request::Fetch {
            ids: vec![cairn_protocol::ItemId([1; 32]); wire::MAX_FETCH_IDS],
        };
        c.write_request(&PROTOCOL, &mut out, req.clone())
            .await
            .unwrap();
        let mut input = Cursor::new(out.into_inner());
        assert_eq!(c.read_request(&PROTOCOL, &mut input).await.unwrap(), req);
        let mut out = Cursor::new(Vec::new());
        c.write_response(&PROTOCOL, &mut out, Response::Accepted)
            .await
            .unwrap();
        let mut input = Cursor::new(out.into_inner());
        assert_eq!(
            c.read_response(&PROTOCOL, &mut input).await.unwrap(),
            Response::Accepted
        );
    }
}
