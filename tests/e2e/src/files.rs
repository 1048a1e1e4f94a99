//! The `e2e.files` service: raw downloads and uploads of
//! `google.api.HttpBody`, generated on the fly so that nothing large is
//! ever held in memory.

use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::e2e::files::files_server::{Files, FilesServer};
use crate::e2e::files::{FileRequest, UploadRequest, UploadSummary};
use crate::google::api::HttpBody;

/// The content of every streamed file: byte `i` is `i * 7 % 251`.
pub fn file_byte(i: u64) -> u8 {
    (i * 7 % 251) as u8
}

/// FNV-1a over bytes, continued from `hash`.
pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

/// FNV-1a's starting value.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Serves files.
#[derive(Debug, Default, Clone)]
pub struct FileService;

type Pieces = Pin<Box<dyn Stream<Item = Result<HttpBody, Status>> + Send>>;

fn summarize(name: String, bodies: &[(String, usize)], checksum: u64) -> UploadSummary {
    UploadSummary {
        name,
        content_type: bodies.first().map(|b| b.0.clone()).unwrap_or_default(),
        bytes: bodies.iter().map(|b| b.1 as u64).sum(),
        messages: bodies.len() as u32,
        largest: bodies.iter().map(|b| b.1).max().unwrap_or(0) as u32,
        checksum,
    }
}

#[tonic::async_trait]
impl Files for FileService {
    async fn download(&self, r: Request<FileRequest>) -> Result<Response<HttpBody>, Status> {
        let name = r.into_inner().name;
        match name.as_str() {
            "report.csv" => Ok(Response::new(HttpBody {
                content_type: "text/csv; charset=utf-8".into(),
                data: b"a,b\n1,2\n".to_vec(),
                extensions: Vec::new(),
            })),
            "untyped" => Ok(Response::new(HttpBody {
                content_type: String::new(),
                data: vec![0, 1, 2, 255],
                extensions: Vec::new(),
            })),
            _ => Err(Status::not_found(format!("no file {name:?}"))),
        }
    }

    type StreamStream = Pieces;

    async fn stream(&self, r: Request<FileRequest>) -> Result<Response<Pieces>, Status> {
        let request = r.into_inner();
        if request.name == "missing" {
            return Err(Status::not_found("no file \"missing\""));
        }
        let piece = u64::from(request.piece.clamp(1, 1 << 20));
        let size = request.size;
        let pieces = futures_util::stream::unfold(0u64, move |at| async move {
            if at >= size {
                return None;
            }
            let end = (at + piece).min(size);
            let data = (at..end).map(file_byte).collect();
            let content_type = if at == 0 {
                "application/x-test-file"
            } else {
                "ignored/later"
            };
            let body = HttpBody {
                content_type: content_type.into(),
                data,
                extensions: Vec::new(),
            };
            Some((Ok(body), end))
        });
        Ok(Response::new(Box::pin(pieces)))
    }

    async fn echo(&self, r: Request<HttpBody>) -> Result<Response<HttpBody>, Status> {
        Ok(Response::new(r.into_inner()))
    }

    async fn upload(&self, r: Request<UploadRequest>) -> Result<Response<UploadSummary>, Status> {
        let request = r.into_inner();
        let file = request.file.unwrap_or_default();
        let checksum = fnv1a(FNV_START, &file.data);
        Ok(Response::new(summarize(
            request.name,
            &[(file.content_type, file.data.len())],
            checksum,
        )))
    }

    async fn upload_stream(
        &self,
        r: Request<Streaming<HttpBody>>,
    ) -> Result<Response<UploadSummary>, Status> {
        let mut stream = r.into_inner();
        let mut seen = Vec::new();
        let mut checksum = FNV_START;
        while let Some(body) = stream.next().await {
            let body = body?;
            checksum = fnv1a(checksum, &body.data);
            seen.push((body.content_type, body.data.len()));
        }
        Ok(Response::new(summarize(String::new(), &seen, checksum)))
    }
}

/// Starts the file service on 127.0.0.1 and returns the address.
pub async fn spawn_grpc() -> SocketAddr {
    crate::serve::spawn_grpc_routes(tonic::service::Routes::new(FilesServer::new(FileService)))
        .await
}
