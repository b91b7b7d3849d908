//! DAP wire framing: `Content-Length: N\r\n\r\n` followed by N bytes of JSON.
//!
//! A malformed frame (no Content-Length, a bad number, a body that is not JSON) decodes to
//! [`Frame::Malformed`] instead of an error, so the session logs it and keeps serving: a codec
//! error would end the stream.

use bytes::{Buf, BufMut, BytesMut};
use serde_json::Value;
use tokio_util::codec::{Decoder, Encoder};

/// Headers longer than this without the blank line that ends them are garbage.
const MAX_HEADER: usize = 8 * 1024;
/// A message larger than this is refused (and skipped) rather than buffered.
const MAX_BODY: usize = 64 * 1024 * 1024;

#[derive(Debug, PartialEq)]
pub enum Frame {
    Message(Value),
    /// Something that is not a DAP message; the text says what was wrong.
    Malformed(String),
}

#[derive(Default)]
pub struct DapCodec {
    /// Body length of the frame whose headers were read, and whether it is to be skipped.
    pending: Option<(usize, bool)>,
}

impl Decoder for DapCodec {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if self.pending.is_none() {
            let Some(end) = find(buf, b"\r\n\r\n") else {
                if buf.len() > MAX_HEADER {
                    let n = buf.len();
                    buf.clear();
                    return Ok(Some(Frame::Malformed(format!("{n} bytes without a DAP header; discarded"))));
                }
                return Ok(None);
            };
            let header = buf.split_to(end + 4);
            let text = String::from_utf8_lossy(&header[..end]).into_owned();
            match content_length(&text) {
                Ok(n) if n > MAX_BODY => {
                    self.pending = Some((n, true));
                }
                Ok(n) => self.pending = Some((n, false)),
                Err(why) => return Ok(Some(Frame::Malformed(why))),
            }
        }
        let (len, skip) = self.pending.expect("set above");
        if skip {
            // Drop the oversized body as it arrives, without buffering it.
            let take = buf.len().min(len);
            buf.advance(take);
            if take < len {
                self.pending = Some((len - take, true));
                return Ok(None);
            }
            self.pending = None;
            return Ok(Some(Frame::Malformed(format!("message body too large (over {MAX_BODY} bytes); skipped"))));
        }
        if buf.len() < len {
            buf.reserve(len - buf.len());
            return Ok(None);
        }
        self.pending = None;
        let body = buf.split_to(len);
        Ok(Some(match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.is_object() => Frame::Message(v),
            Ok(_) => Frame::Malformed("message body is JSON but not an object".into()),
            Err(e) => Frame::Malformed(format!("message body is not JSON ({e}): {}", preview(&body))),
        }))
    }
}

impl Encoder<Value> for DapCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: Value, dst: &mut BytesMut) -> Result<(), Self::Error> {
        let body = serde_json::to_vec(&item)?;
        dst.reserve(body.len() + 32);
        dst.put_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        dst.put_slice(&body);
        Ok(())
    }
}

fn content_length(header: &str) -> Result<usize, String> {
    for line in header.split("\r\n") {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                return value
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad Content-Length {:?}", value.trim()));
            }
        }
    }
    Err(format!("DAP header without Content-Length: {:?}", preview(header.as_bytes())))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn preview(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned();
    if bytes.len() > 120 {
        s + "…"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{}", body.len(), body).into_bytes()
    }

    fn decode_all(bytes: &[u8]) -> Vec<Frame> {
        let mut c = DapCodec::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        // Feed byte by byte: framing must not depend on how reads are split.
        for b in bytes {
            buf.put_u8(*b);
            while let Some(f) = c.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        out
    }

    #[test]
    fn decodes_split_and_back_to_back_frames() {
        let mut bytes = frame(r#"{"seq":1,"type":"request","command":"initialize"}"#);
        bytes.extend(frame(r#"{"seq":2,"type":"request","command":"threads","arguments":{"x":"é"}}"#));
        let frames = decode_all(&bytes);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], Frame::Message(json!({"seq":1,"type":"request","command":"initialize"})));
        assert_eq!(frames[1], Frame::Message(json!({"seq":2,"type":"request","command":"threads","arguments":{"x":"é"}})));
    }

    #[test]
    fn malformed_frames_are_reported_and_skipped() {
        let mut bytes = b"Content-Type: json\r\n\r\n".to_vec();
        bytes.extend(frame("{not json"));
        bytes.extend(b"Content-Length: abc\r\n\r\n");
        bytes.extend(frame("[1,2]"));
        bytes.extend(frame(r#"{"seq":5}"#));
        let frames = decode_all(&bytes);
        assert_eq!(frames.len(), 5, "{frames:?}");
        for f in &frames[..4] {
            assert!(matches!(f, Frame::Malformed(_)), "{f:?}");
        }
        assert_eq!(frames[4], Frame::Message(json!({"seq":5})));
    }

    #[test]
    fn header_garbage_is_discarded() {
        let mut bytes = vec![b'x'; MAX_HEADER + 10];
        bytes.extend(b"\r\n");
        bytes.extend(frame(r#"{"seq":1}"#));
        let frames = decode_all(&bytes);
        assert!(matches!(frames[0], Frame::Malformed(_)));
        assert_eq!(frames.last().unwrap(), &Frame::Message(json!({"seq":1})));
    }

    #[test]
    fn encodes_with_byte_length() {
        let mut c = DapCodec::default();
        let mut buf = BytesMut::new();
        c.encode(json!({"a":"é"}), &mut buf).unwrap();
        assert_eq!(&buf[..], "Content-Length: 10\r\n\r\n{\"a\":\"é\"}".as_bytes());
    }
}
