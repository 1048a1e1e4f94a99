//! The chat service on Redis, so that any number of instances share the
//! rooms: each room is a Redis Stream. Posting appends (`XADD`), replay reads
//! a range after an entry id (`XRANGE`), and live messages come from one
//! blocking reader per room and instance (`XREAD BLOCK`) that hands them to
//! the instance's listeners. The stream entry id is the message id, hence
//! the SSE event id: a client that reconnects to any instance with
//! `Last-Event-ID` continues right after the last event it saw.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Client, FromRedisValue, RedisError};
use tokio::sync::{Mutex, broadcast, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::pb::chat::v1::chat_service_server::ChatService;
use crate::pb::chat::v1::{
    ChatMessage, GetRoomRequest, PostMessageRequest, Room, SubscribeRequest, UploadSummary,
};
use crate::rooms::{ResponseStream, check_name, checked_post, resume_after, stream_limit};

/// Room `lobby` is the stream at key `chat:room:lobby`.
const KEY_PREFIX: &str = "chat:room:";
/// Entries a stream keeps, about (`XADD … MAXLEN ~`): what can be replayed.
const KEPT: usize = 1000;
/// A room nobody posts to for this long is deleted (`EXPIRE` on each post).
const ROOM_TTL: Duration = Duration::from_secs(24 * 3600);
/// Messages `GetRoom` returns.
const RECENT: usize = 20;
/// Entries read per `XRANGE` or `XREAD`.
const PAGE: usize = 100;
/// How long one `XREAD` blocks; between two, a reader with no listeners left
/// stops.
const BLOCK: Duration = Duration::from_secs(2);
/// Messages a listener may fall behind the room's reader before it catches
/// up from Redis instead (nothing is skipped).
const LIVE_BUFFER: usize = 256;
/// Most rooms one instance follows at once (one Redis connection each).
const MAX_FEEDS: usize = 1000;
/// The in-stream error a listener gets when its room's reader lost Redis:
/// the client reconnects with the last id it saw and continues from there.
const FEED_LOST: &str = "the room's Redis connection was lost; reconnect to resume";

/// The chat service on Redis. Cheap to clone: clones share the connection
/// and the room readers.
#[derive(Clone)]
pub struct RedisRooms {
    client: Client,
    /// Posts and reads; reconnects by itself after a lost connection.
    conn: ConnectionManager,
    /// The rooms this instance follows: one reader task each, feeding the
    /// instance's listeners.
    feeds: Arc<Mutex<HashMap<String, broadcast::Sender<FeedItem>>>>,
}

impl fmt::Debug for RedisRooms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRooms")
            .field("redis", &self.server())
            .finish_non_exhaustive()
    }
}

/// What a room's reader hands to the listeners.
#[derive(Debug, Clone)]
enum FeedItem {
    Message(ChatMessage),
    /// The reader lost Redis and stopped.
    Lost,
}

/// A stream entry id, `<milliseconds>-<sequence>`; a bare number `n` means
/// `n-0`, as in Redis. Ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct EntryId(u64, u64);

impl EntryId {
    /// Before every entry.
    const ZERO: EntryId = EntryId(0, 0);

    /// The smallest id after this one: the start of "everything after".
    fn next(self) -> EntryId {
        match self.1.checked_add(1) {
            Some(seq) => EntryId(self.0, seq),
            None => EntryId(self.0.saturating_add(1), 0),
        }
    }
}

impl FromStr for EntryId {
    type Err = Status;

    fn from_str(s: &str) -> Result<Self, Status> {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        match (ms.parse(), seq.parse()) {
            (Ok(ms), Ok(seq)) => Ok(EntryId(ms, seq)),
            _ => Err(Status::invalid_argument(format!(
                "since: {s:?} is not a message id (like 1700000000000-0)"
            ))),
        }
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

fn key(room: &str) -> String {
    format!("{KEY_PREFIX}{room}")
}

/// A Redis failure as the client sees it: the service is unavailable
/// (503, gRPC 14), so retrying later is right.
fn unavailable(error: RedisError) -> Status {
    Status::unavailable(format!("redis: {error}"))
}

/// A stream entry as a message of `room`.
fn message(room: &str, entry: &StreamId) -> ChatMessage {
    let field = |name| entry.get::<String>(name).unwrap_or_default();
    ChatMessage {
        id: entry.id.clone(),
        room: room.to_string(),
        user: field("user"),
        text: field("text"),
        source: field("source"),
    }
}

impl RedisRooms {
    /// Connects to the Redis at `url` (`redis://127.0.0.1:6379/`). Fails when
    /// it cannot be reached now; once running, lost connections are made
    /// again (calls fail with `UNAVAILABLE` meanwhile).
    pub async fn connect(url: &str) -> Result<RedisRooms, RedisError> {
        let client = Client::open(url)?;
        let conn = client.get_connection_manager().await?;
        Ok(RedisRooms {
            client,
            conn,
            feeds: Arc::default(),
        })
    }

    /// The Redis server's address (without credentials), for logs.
    pub fn server(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// Appends a message to its room's stream.
    async fn post(
        &self,
        request: &PostMessageRequest,
        source: &str,
    ) -> Result<ChatMessage, Status> {
        let (user, text) = checked_post(request)?;
        check_name(&request.room)?;
        let key = key(&request.room);
        let (id,): (String,) = redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(KEPT)
            .arg("*")
            .arg("user")
            .arg(user)
            .arg("text")
            .arg(text)
            .arg("source")
            .arg(source)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(ROOM_TTL.as_secs())
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(ChatMessage {
            id,
            room: request.room.clone(),
            user: user.to_string(),
            text: text.to_string(),
            source: source.to_string(),
        })
    }

    /// Runs a read-only command, once more if the connection was found
    /// broken: the first command after Redis came back fails, and a reader
    /// reconnecting then (an `EventSource` gives up on an error status)
    /// should not.
    async fn read<T: FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, Status> {
        let mut conn = self.conn.clone();
        match command.query_async(&mut conn).await {
            Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                command.query_async(&mut conn).await.map_err(unavailable)
            }
            reply => reply.map_err(unavailable),
        }
    }

    /// Up to a page of the room's messages after `after`.
    async fn range(&self, room: &str, after: EntryId) -> Result<Vec<ChatMessage>, Status> {
        let reply: StreamRangeReply = self
            .read(
                redis::cmd("XRANGE")
                    .arg(key(room))
                    .arg(after.next().to_string())
                    .arg("+")
                    .arg("COUNT")
                    .arg(PAGE),
            )
            .await?;
        Ok(reply.ids.iter().map(|e| message(room, e)).collect())
    }

    /// Sends every message of the room after `after` to `out`, page by page;
    /// returns the last id sent (`after` if none), or `None` once `out` is
    /// closed or failed.
    async fn catch_up(
        &self,
        room: &str,
        mut after: EntryId,
        out: &mpsc::Sender<Result<ChatMessage, Status>>,
    ) -> Option<EntryId> {
        loop {
            let page = match self.range(room, after).await {
                Ok(page) => page,
                Err(status) => {
                    let _ = out.send(Err(status)).await;
                    return None;
                }
            };
            let full = page.len() == PAGE;
            for message in page {
                after = message.id.parse().ok()?;
                out.send(Ok(message)).await.ok()?;
            }
            if !full {
                return Some(after);
            }
        }
    }

    /// A receiver of the room's new messages: everything appended after this
    /// returns. Starts the room's reader if this instance has none.
    async fn listen(&self, room: &str) -> Result<broadcast::Receiver<FeedItem>, Status> {
        check_name(room)?;
        let mut feeds = self.feeds.lock().await;
        if let Some(feed) = feeds.get(room) {
            return Ok(feed.subscribe());
        }
        if feeds.len() >= MAX_FEEDS {
            return Err(Status::resource_exhausted(format!(
                "too many rooms followed: at most {MAX_FEEDS} at once on this instance; \
                 try again later or use an existing room"
            )));
        }
        // The reader starts from the stream's last entry as of now, so every
        // later one reaches the receiver returned below.
        let last: StreamRangeReply = self
            .read(
                redis::cmd("XREVRANGE")
                    .arg(key(room))
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1),
            )
            .await?;
        let start = match last.ids.first() {
            Some(entry) => entry.id.parse()?,
            None => EntryId::ZERO,
        };
        // Its own connection: a blocking read would hold up every other
        // command on a shared one. It may block for `BLOCK`, so the
        // response timeout is longer.
        let config = AsyncConnectionConfig::new().set_response_timeout(Some(BLOCK * 3));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(unavailable)?;
        let (feed, receiver) = broadcast::channel(LIVE_BUFFER);
        feeds.insert(room.to_string(), feed.clone());
        tokio::spawn(read_room(
            self.feeds.clone(),
            room.to_string(),
            conn,
            start,
            feed,
        ));
        Ok(receiver)
    }

    /// Sends the room's messages after `since` (if given), then its new ones,
    /// to `out`, until `out` closes or Redis is lost.
    async fn follow(
        self,
        room: String,
        since: Option<EntryId>,
        mut live: broadcast::Receiver<FeedItem>,
        out: mpsc::Sender<Result<ChatMessage, Status>>,
    ) {
        // `live` was subscribed before this read: an entry is either in the
        // range read here or comes through `live` (or both: ids at or before
        // `last` are dropped below).
        let mut last = match since {
            Some(since) => match self.catch_up(&room, since, &out).await {
                Some(last) => Some(last),
                None => return,
            },
            None => None,
        };
        loop {
            let item = tokio::select! {
                item = live.recv() => item,
                // Nobody reads any more (the call was cancelled).
                () = out.closed() => return,
            };
            match item {
                Ok(FeedItem::Message(message)) => {
                    let Ok(id) = message.id.parse::<EntryId>() else {
                        continue;
                    };
                    if last.is_some_and(|last| id <= last) {
                        continue;
                    }
                    last = Some(id);
                    if out.send(Ok(message)).await.is_err() {
                        return;
                    }
                }
                // Fell behind the reader: the missed messages are still in
                // the stream.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Some(after) = last {
                        match self.catch_up(&room, after, &out).await {
                            Some(caught_up) => last = Some(caught_up),
                            None => return,
                        }
                    }
                }
                Ok(FeedItem::Lost) | Err(broadcast::error::RecvError::Closed) => {
                    let _ = out.send(Err(Status::unavailable(FEED_LOST))).await;
                    return;
                }
            }
        }
    }

    /// The room's messages from now on, as a channel fed by [`follow`].
    async fn follow_live(
        &self,
        room: &str,
    ) -> Result<mpsc::Receiver<Result<ChatMessage, Status>>, Status> {
        let live = self.listen(room).await?;
        let (out, messages) = mpsc::channel(16);
        tokio::spawn(self.clone().follow(room.to_string(), None, live, out));
        Ok(messages)
    }

    /// Runs one `Chat` call: joins with the first request, then posts the
    /// requests and forwards the room's messages until either side ends.
    async fn chat_session(
        &self,
        requests: &mut Streaming<PostMessageRequest>,
        out: &mpsc::Sender<Result<ChatMessage, Status>>,
    ) -> Result<(), Status> {
        let Some(first) = requests.message().await? else {
            return Ok(());
        };
        // Listen before announcing the join, so the joiner sees its own
        // join notice: that tells it the chat is live.
        let mut live = self.follow_live(&first.room).await?;
        let notice = |text: &str| PostMessageRequest {
            text: text.to_string(),
            ..first.clone()
        };
        self.post(&notice("joined the room"), "join").await?;
        if !first.text.trim().is_empty() {
            self.post(&first, "chat").await?;
        }
        let result = loop {
            tokio::select! {
                request = requests.message() => match request {
                    // The chat stays in the room it joined.
                    Ok(Some(request)) if !request.text.trim().is_empty() => {
                        let request = PostMessageRequest { room: first.room.clone(), ..request };
                        if let Err(status) = self.post(&request, "chat").await {
                            break Err(status);
                        }
                    }
                    Ok(Some(_)) => {}
                    // The client ended its requests: it is leaving.
                    Ok(None) => break Ok(()),
                    Err(status) => break Err(status),
                },
                message = live.recv() => match message {
                    Some(Ok(message)) => {
                        if out.send(Ok(message)).await.is_err() {
                            break Ok(());
                        }
                    }
                    Some(Err(status)) => break Err(status),
                    None => break Ok(()),
                },
                // Nobody reads the responses any more (the call was cancelled).
                () = out.closed() => break Ok(()),
            }
        };
        let _ = self.post(&notice("left the room"), "leave").await;
        result
    }
}

/// A room's reader: blocks on `XREAD` after the last entry it saw and hands
/// every new entry to the instance's listeners. Stops when none are left, or
/// when Redis is lost (after telling them).
async fn read_room(
    feeds: Arc<Mutex<HashMap<String, broadcast::Sender<FeedItem>>>>,
    room: String,
    mut conn: MultiplexedConnection,
    mut cursor: EntryId,
    feed: broadcast::Sender<FeedItem>,
) {
    let key = key(&room);
    let block_ms = u64::try_from(BLOCK.as_millis()).unwrap_or(u64::MAX);
    loop {
        let reply: Result<Option<StreamReadReply>, RedisError> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(PAGE)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&key)
            .arg(cursor.to_string())
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(reply) => {
                for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                    if let Ok(id) = entry.id.parse() {
                        cursor = id;
                    }
                    // An error only means nobody is listening right now.
                    let _ = feed.send(FeedItem::Message(message(&room, &entry)));
                }
            }
            Err(error) => {
                eprintln!("room {room}: reading from Redis failed: {error}");
                // Out of the map first: a listener that comes now starts a
                // new reader instead of joining this dying one.
                feeds.lock().await.remove(&room);
                let _ = feed.send(FeedItem::Lost);
                return;
            }
        }
        if feed.receiver_count() == 0 {
            // Checked again under the lock: new listeners subscribe under it.
            let mut feeds = feeds.lock().await;
            if feed.receiver_count() == 0 {
                feeds.remove(&room);
                return;
            }
        }
    }
}

#[tonic::async_trait]
impl ChatService for RedisRooms {
    async fn post_message(
        &self,
        request: Request<PostMessageRequest>,
    ) -> Result<Response<ChatMessage>, Status> {
        self.post(request.get_ref(), "post")
            .await
            .map(Response::new)
    }

    async fn get_room(&self, request: Request<GetRoomRequest>) -> Result<Response<Room>, Status> {
        let name = request.into_inner().room;
        check_name(&name)?;
        let (count, mut recent): (i64, StreamRangeReply) = redis::pipe()
            .cmd("XLEN")
            .arg(key(&name))
            .cmd("XREVRANGE")
            .arg(key(&name))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(RECENT)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        recent.ids.reverse();
        // Listeners on this instance: the others' are theirs to count.
        let listeners = self
            .feeds
            .lock()
            .await
            .get(&name)
            .map_or(0, broadcast::Sender::receiver_count);
        Ok(Response::new(Room {
            message_count: i32::try_from(count).unwrap_or(i32::MAX),
            listener_count: i32::try_from(listeners).unwrap_or(i32::MAX),
            recent: recent.ids.iter().map(|e| message(&name, e)).collect(),
            name,
        }))
    }

    type SubscribeStream = ResponseStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let since = resume_after(&request)
            .map(|since| since.parse::<EntryId>())
            .transpose()?;
        let request = request.into_inner();
        let limit = stream_limit(request.limit)?;
        // Listening starts before the replay is read: see `follow`.
        let live = self.listen(&request.room).await?;
        let (out, messages) = mpsc::channel(16);
        tokio::spawn(self.clone().follow(request.room, since, live, out));
        Ok(Response::new(Box::pin(
            ReceiverStream::new(messages).take(limit),
        )))
    }

    async fn upload_messages(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<UploadSummary>, Status> {
        let mut requests = request.into_inner();
        let mut summary = UploadSummary::default();
        // Messages before an invalid one stay posted: a batch is not a
        // transaction.
        while let Some(request) = requests.message().await? {
            summary.ids.push(self.post(&request, "upload").await?.id);
            summary.count += 1;
        }
        Ok(Response::new(summary))
    }

    type ChatStream = ResponseStream;

    async fn chat(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        // Answer at once and run the session in its own task, as the
        // in-memory rooms do.
        let mut requests = request.into_inner();
        let (out, responses) = mpsc::channel(16);
        let rooms = self.clone();
        tokio::spawn(async move {
            if let Err(status) = rooms.chat_session(&mut requests, &out).await {
                let _ = out.send(Err(status)).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(responses))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_parse_order_and_advance() {
        let id: EntryId = "1700000000000-3".parse().unwrap();
        assert_eq!(id, EntryId(1_700_000_000_000, 3));
        assert_eq!("17".parse::<EntryId>().unwrap(), EntryId(17, 0));
        assert_eq!(id.to_string(), "1700000000000-3");
        assert!(EntryId(1, 9) < EntryId(2, 0));
        assert_eq!(id.next(), EntryId(1_700_000_000_000, 4));
        assert_eq!(EntryId(5, u64::MAX).next(), EntryId(6, 0));
        for bad in ["", "x", "1-", "-1", "1-2-3", "1.5"] {
            let error = bad.parse::<EntryId>().unwrap_err();
            assert_eq!(error.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
    }
}
