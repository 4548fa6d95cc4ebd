//! Session actor behaviour that needs exact message order, which only a
//! direct mailbox gives (HTTP requests from a test may arrive in any order).

use bytes::Bytes;
use switchyard_shared::engine::EngineError;

use super::testing::{poll, start_post, start_session};
use crate::app::EngineEcho;

fn session() -> actix::Addr<super::SessionActor> {
    start_session(Box::new(EngineEcho), 4)
}

#[actix_rt::test]
async fn an_overlapping_post_is_refused_and_closes_the_session() {
    let session = session();
    // The first POST's body is still on its way when the second arrives.
    let (_still_reading, first) = start_post(&session);
    let (_, second) = start_post(&session);
    assert_eq!(second.await, Ok(Err(EngineError::BadRequest)));
    assert!(
        first.await.is_err(),
        "the closed session drops the first POST"
    );
}

#[actix_rt::test]
async fn sequential_posts_are_echoed_in_order_on_one_get() {
    let session = session();
    assert_eq!(poll(&session).await, Ok(Ok(Bytes::from_static(b"0{}"))));
    for text in ["4one\x1e4two", "4three"] {
        let (body, answer) = start_post(&session);
        body.send(Ok(Bytes::from(text))).expect("body");
        assert_eq!(answer.await, Ok(Ok(())));
    }
    let answer = poll(&session);
    let expected = Bytes::from_static(b"4one\x1e4two\x1e4three");
    assert_eq!(answer.await, Ok(Ok(expected)));
}

#[actix_rt::test]
async fn a_full_buffer_closes_the_session() {
    let session = session();
    // The open packet takes one of four places; five echoes overflow it.
    let (body, answer) = start_post(&session);
    body.send(Ok(Bytes::from("4a\x1e4b\x1e4c\x1e4d\x1e4e")))
        .expect("body");
    assert_eq!(answer.await, Ok(Ok(())));
    assert!(poll(&session).await.is_err(), "the session is gone");
}
