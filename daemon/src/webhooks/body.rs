//! Reading one delivery's body: the buffer grows as bytes arrive (never from what
//! `Content-Length` promises), each growth taken from the unverified-bytes budget first; the
//! HMACs are fed chunk by chunk; a body that falls below the minimum data rate is cut.

use super::budget::{Hold, Refused};
use super::verify::Verifier;
use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use std::time::Duration;
use tokio::time::Instant;

/// How fast a body must arrive.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body (GitHub's own cap on a payload).
    pub max_body: usize,
    /// No rate is asked of a body during its first moments (a tunnel's buffering, TCP's slow
    /// start).
    pub grace: Duration,
    /// After the grace, bytes per second on average since the head, or the body is cut.
    pub min_rate: u64,
    /// No body takes longer than this at all (GitHub gives up on a delivery after 10 s).
    pub timeout: Duration,
    /// How long a body waits for a larger one to give its bytes back.
    pub grow_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than GitHub's cap")]
    TooLarge,
    #[error("the body's framing is broken")]
    Broken,
    #[error("the body arrives too slowly")]
    TooSlow,
    #[error("no room for the body: {0}")]
    NoRoom(#[from] Refused),
}

/// By when the next bytes must have arrived, with `received` bytes in since `start`.
pub fn deadline(limits: &Limits, start: Instant, received: usize) -> Instant {
    let credit = Duration::from_secs_f64(received as f64 / limits.min_rate.max(1) as f64);
    (start + limits.grace + credit).min(start + limits.timeout)
}

/// What the buffer's capacity becomes to take `need` bytes: doubling (few copies), never past
/// the cap nor past a declared length that covers what has come.
fn next_capacity(current: usize, need: usize, declared: Option<u64>, max_body: usize) -> usize {
    let mut ceiling = max_body;
    if let Some(d) = declared.and_then(|d| usize::try_from(d).ok())
        && d >= need
    {
        ceiling = ceiling.min(d);
    }
    need.max(current.saturating_mul(2).min(ceiling))
}

/// Read the whole body into one buffer, feeding `verifier` as it comes. Every byte of the
/// buffer's capacity is taken from `hold` before it is allocated; on an error the caller drops
/// the buffer and `hold` gives the bytes back.
pub async fn read<B>(
    mut body: B,
    declared: Option<u64>,
    hold: &Hold,
    mut verifier: Option<&mut Verifier>,
    limits: &Limits,
) -> Result<Vec<u8>, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
{
    let start = Instant::now();
    let mut out: Vec<u8> = Vec::new();
    let timer = tokio::time::sleep_until(deadline(limits, start, 0));
    tokio::pin!(timer);
    loop {
        timer.as_mut().reset(deadline(limits, start, out.len()));
        let frame = tokio::select! {
            frame = body.frame() => frame,
            () = hold.gave_way() => return Err(Refused::GaveWay.into()),
            () = timer.as_mut() => return Err(BodyError::TooSlow),
        };
        let Some(frame) = frame else {
            return Ok(out);
        };
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let need = out.len() + data.len();
        if need > limits.max_body {
            return Err(BodyError::TooLarge);
        }
        if need > out.capacity() {
            let capacity = next_capacity(out.capacity(), need, declared, limits.max_body);
            hold.grow(capacity - out.capacity(), limits.grow_wait)
                .await?;
            out.reserve_exact(capacity - out.len());
        }
        if let Some(v) = verifier.as_deref_mut() {
            v.update(data);
        }
        out.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::budget::Budget;
    use crate::webhooks::verify::{parse_header, sign};
    use futures::StreamExt;
    use http_body_util::StreamBody;
    use hyper::body::Frame;

    const LIMITS: Limits = Limits {
        max_body: 1000,
        grace: Duration::from_secs(5),
        min_rate: 100,
        timeout: Duration::from_secs(20),
        grow_wait: Duration::from_millis(100),
    };

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    type Chunks = StreamBody<
        futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>>,
    >;

    fn chunks(parts: &[&[u8]]) -> Chunks {
        let frames: Vec<_> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::copy_from_slice(p))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    #[test]
    fn the_deadline_gives_a_grace_then_credit_for_bytes_and_never_passes_the_timeout() {
        let t = Instant::now();
        assert_eq!(deadline(&LIMITS, t, 0), t + Duration::from_secs(5));
        assert_eq!(deadline(&LIMITS, t, 300), t + Duration::from_secs(8));
        assert_eq!(deadline(&LIMITS, t, 1_000_000), t + Duration::from_secs(20));
    }

    #[test]
    fn the_buffer_grows_by_doubling_within_the_declared_length_and_the_cap() {
        assert_eq!(next_capacity(0, 10, None, 1000), 10);
        assert_eq!(next_capacity(10, 15, None, 1000), 20);
        assert_eq!(next_capacity(600, 700, None, 1000), 1000);
        assert_eq!(
            next_capacity(10, 15, Some(16), 1000),
            16,
            "not past the length"
        );
        assert_eq!(
            next_capacity(10, 15, Some(12), 1000),
            20,
            "a length the body already passed is no guide"
        );
        assert_eq!(
            next_capacity(0, 10, Some(1 << 40), 1000),
            10,
            "a promise reserves nothing"
        );
    }

    #[test]
    fn a_chunked_body_is_read_hashed_and_charged_by_its_capacity() {
        rt().block_on(async {
            let budget = Budget::new(10_000);
            let hold = budget.hold();
            let body = b"{\"zen\":\"Design for failure.\"}".to_vec();
            let mut v = Verifier::new(&[b"s"]);
            let (a, b) = body.split_at(7);
            let got = read(chunks(&[a, b, b""]), None, &hold, Some(&mut v), &LIMITS).await;
            let got = got.unwrap();
            assert_eq!(got, body);
            let sig = parse_header(Some(sign(b"s", &body).as_bytes())).unwrap();
            assert_eq!(v.finish(&sig), Ok(()));
            assert_eq!(hold.held(), got.capacity());
            assert_eq!(budget.used(), got.capacity());
            drop(hold);
            assert_eq!(budget.used(), 0);
        });
    }

    #[test]
    fn every_refusal_gives_every_byte_back() {
        rt().block_on(async {
            let budget = Budget::new(600);
            // Too large: over the cap after two chunks.
            let hold = budget.hold();
            let big = [b'x'; 600];
            let r = read(chunks(&[&big, &big]), None, &hold, None, &LIMITS).await;
            assert_eq!(r, Err(BodyError::TooLarge));
            drop(hold);
            assert_eq!(budget.used(), 0);
            // A larger body in the way gives way: its bytes come back at once.
            let other = budget.hold();
            other.try_grow(500).unwrap();
            let hold = budget.hold();
            let r = read(
                chunks(&[&big[..50], &big[..100]]),
                None,
                &hold,
                None,
                &LIMITS,
            )
            .await;
            assert_eq!(r.map(|b| b.len()), Ok(150));
            assert!(other.told_to_give_way());
            drop((hold, other));
            assert_eq!(budget.used(), 0);
            // Spent: the rest is held by a body no larger than this one would be, which is
            // not asked to give way.
            let small = Budget::new(200);
            let other = small.hold();
            other.try_grow(100).unwrap();
            let hold = small.hold();
            let r = read(
                chunks(&[&big[..50], &big[..100]]),
                None,
                &hold,
                None,
                &LIMITS,
            )
            .await;
            assert_eq!(r, Err(BodyError::NoRoom(Refused::Spent)));
            assert!(!other.told_to_give_way());
            drop(hold);
            assert_eq!(small.used(), 100);
            drop(other);
            assert_eq!(small.used(), 0);
            // Broken framing.
            let hold = budget.hold();
            let frames: Vec<Result<Frame<Bytes>, &str>> = vec![
                Ok(Frame::data(Bytes::from_static(b"abc"))),
                Err("bad chunk"),
            ];
            let r = read(
                StreamBody::new(futures::stream::iter(frames)),
                None,
                &hold,
                None,
                &LIMITS,
            )
            .await;
            assert_eq!(r, Err(BodyError::Broken));
            drop(hold);
            assert_eq!((budget.used(), budget.holders()), (0, 0));
        });
    }

    #[test]
    fn a_body_that_stops_arriving_is_cut_and_gives_its_bytes_back() {
        rt().block_on(async {
            let limits = Limits {
                grace: Duration::from_millis(50),
                timeout: Duration::from_millis(200),
                ..LIMITS
            };
            let budget = Budget::new(100);
            let hold = budget.hold();
            let frames = futures::stream::iter(vec![Ok::<_, std::convert::Infallible>(
                Frame::data(Bytes::from_static(b"a")),
            )])
            .chain(futures::stream::pending());
            let r = read(StreamBody::new(frames), None, &hold, None, &limits).await;
            assert_eq!(r, Err(BodyError::TooSlow));
            drop(hold);
            assert_eq!(budget.used(), 0);
        });
    }

    #[test]
    fn a_body_asked_to_give_way_stops_reading() {
        rt().block_on(async {
            let budget = Budget::new(100);
            let hold = budget.hold();
            hold.try_grow(80).unwrap();
            // A body that never ends: only giving way (or the deadline) stops its reader.
            let never = StreamBody::new(futures::stream::pending::<
                Result<Frame<Bytes>, std::convert::Infallible>,
            >());
            let smaller = budget.hold();
            let reader = async {
                let r = read(never, None, &hold, None, &LIMITS).await;
                hold.release();
                r
            };
            let (r, grown) = tokio::join!(reader, smaller.grow(50, Duration::from_secs(5)));
            assert_eq!(r, Err(BodyError::NoRoom(Refused::GaveWay)));
            assert_eq!(grown, Ok(()));
            assert_eq!(budget.used(), 50);
        });
    }
}
