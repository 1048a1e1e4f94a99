//! Request bodies and the serde mirror types the hand-written baseline uses.
//!
//! The unary payloads use a subset of `e2e.echo.v1.Kitchen` (strings, an
//! int32, a bool, a nested message, repeated strings and messages) so that
//! a plain serde struct can carry them. The gateway runs with
//! `emit_defaults(false)` and the serde types skip empty fields: both then
//! answer with the very JSON that was sent, which the load generator checks
//! on the first response of every connection.

use gateway_e2e::e2e::echo::v1::{Kitchen, Nested};
use gateway_e2e::e2e::stream::v1::{AddResponse, ChatMessage, GenerateResponse, TextMessage};
use serde::{Deserialize, Serialize};

/// Which unary body a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BodySize {
    /// About 100 bytes.
    Small,
    /// About 10 KiB.
    Large,
}

impl BodySize {
    pub fn name(self) -> &'static str {
        match self {
            BodySize::Small => "small",
            BodySize::Large => "10KiB",
        }
    }
}

/// The JSON of `Kitchen` for the fields the benchmark uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EchoBody {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub i32: i32,
    #[serde(skip_serializing_if = "is_false")]
    pub flag: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<NestedBody>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<NestedBody>,
}

/// The JSON of `Nested`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NestedBody {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub count: i32,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl From<NestedBody> for Nested {
    fn from(n: NestedBody) -> Nested {
        Nested {
            text: n.text,
            count: n.count,
        }
    }
}

impl From<Nested> for NestedBody {
    fn from(n: Nested) -> NestedBody {
        NestedBody {
            text: n.text,
            count: n.count,
        }
    }
}

impl From<EchoBody> for Kitchen {
    fn from(b: EchoBody) -> Kitchen {
        Kitchen {
            text: b.text,
            i32: b.i32,
            flag: b.flag,
            nested: b.nested.map(Into::into),
            tags: b.tags,
            items: b.items.into_iter().map(Into::into).collect(),
            ..Kitchen::default()
        }
    }
}

impl From<Kitchen> for EchoBody {
    fn from(k: Kitchen) -> EchoBody {
        EchoBody {
            text: k.text,
            i32: k.i32,
            flag: k.flag,
            nested: k.nested.map(Into::into),
            tags: k.tags,
            items: k.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// The body of a run.
pub fn echo_body(size: BodySize) -> EchoBody {
    match size {
        BodySize::Small => EchoBody {
            text: "hello, gateway".into(),
            i32: 42,
            flag: true,
            nested: Some(NestedBody {
                text: "inner".into(),
                count: 7,
            }),
            tags: vec!["alpha".into(), "beta".into()],
            items: Vec::new(),
        },
        // A document-like body: a long string, a list of short strings and
        // a list of small objects, about 10 KiB of JSON in all.
        BodySize::Large => EchoBody {
            text: "lorem ipsum dolor sit amet ".repeat(170),
            i32: 123_456,
            flag: true,
            nested: Some(NestedBody {
                text: "inner".into(),
                count: 7,
            }),
            tags: (0..64)
                .map(|i| format!("tag-{i:04}-abcdefghijklmnop"))
                .collect(),
            items: (0..64)
                .map(|i| NestedBody {
                    text: format!("item {i:04}: the quick brown fox jumps"),
                    count: i + 1,
                })
                .collect(),
        },
    }
}

/// The JSON bytes of a run's body.
pub fn echo_json(size: BodySize) -> Vec<u8> {
    serde_json::to_vec(&echo_body(size)).expect("serializable")
}

/// The JSON of `TextMessage`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TextBody {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl From<TextMessage> for TextBody {
    fn from(m: TextMessage) -> TextBody {
        TextBody { text: m.text }
    }
}

/// The JSON of `ChatMessage`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatBody {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl From<ChatBody> for ChatMessage {
    fn from(b: ChatBody) -> ChatMessage {
        ChatMessage {
            user: b.user,
            text: b.text,
        }
    }
}

impl From<ChatMessage> for ChatBody {
    fn from(m: ChatMessage) -> ChatBody {
        ChatBody {
            user: m.user,
            text: m.text,
        }
    }
}

/// The WebSocket request frame of the chat echo.
pub const CHAT_FRAME: &str = r#"{"user":"bench","text":"hello over a websocket"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_body_is_about_ten_kib() {
        let len = echo_json(BodySize::Large).len();
        assert!((9 * 1024..11 * 1024).contains(&len), "{len}");
    }
}

/// The JSON of `GenerateResponse` (NDJSON server stream).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GenerateBody {
    #[serde(skip_serializing_if = "is_zero")]
    pub index: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_event_id: String,
}

impl From<GenerateResponse> for GenerateBody {
    fn from(m: GenerateResponse) -> GenerateBody {
        GenerateBody {
            index: m.index,
            id: m.id,
            kind: m.kind,
            last_event_id: m.last_event_id,
        }
    }
}

/// The JSON of `AddRequest` (NDJSON client stream).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AddBody {
    pub value: i32,
}

/// The JSON of `AddResponse`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SumBody {
    #[serde(skip_serializing_if = "is_zero")]
    pub sum: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub count: i32,
}

impl From<AddResponse> for SumBody {
    fn from(m: AddResponse) -> SumBody {
        SumBody {
            sum: m.sum,
            count: m.count,
        }
    }
}
