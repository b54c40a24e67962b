//! request_response framing for Cairn's direct messages.
//!
//! One request or response per stream, read to the end of the stream and
//! decoded with the protocol codec. Reading stops at the frame limit, so a
//! peer cannot make a node buffer more than one maximal frame per stream.

use cairn_protocol::codec::{self, MAX_FRAME};
use cairn_protocol::wire::{Request, Response};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use std::io;

/// The protocol name negotiated for direct requests.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/direct/1");

/// Encodes and decodes [`Request`] and [`Response`] frames.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameCodec;

async fn read_frame<T, V>(io: &mut T) -> io::Result<V>
where
    T: AsyncRead + Unpin + Send,
    V: serde::de::DeserializeOwned + serde::Serialize,
{
    let mut buf = Vec::new();
    // One byte past the limit tells "too large" apart from "exactly at it".
    io.take(MAX_FRAME as u64 + 1).read_to_end(&mut buf).await?;
    codec::decode(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

async fn write_frame<T, V>(io: &mut T, value: &V) -> io::Result<()>
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
        read_frame(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io).await
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
}
