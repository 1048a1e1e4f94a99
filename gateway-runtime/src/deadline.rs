//! The deadline a client sets with `Grpc-Timeout`, enforced by the gateway
//! for every kind of call: tonic passes the header on, but neither an
//! in-process service nor a remote one bounds a response stream by it.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::GatewayError;
use crate::metadata::parse_grpc_timeout;

/// When the call must be over; `None`: no deadline.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// The deadline of a request: now plus its `Grpc-Timeout`. A value that
    /// is not a valid timeout (`-1S`, `abc`, more than 8 digits) is the
    /// client's error (400), as in the Go gateways.
    pub(crate) fn of(headers: &http::HeaderMap) -> Result<Deadline, GatewayError> {
        Ok(Deadline::within(Deadline::timeout_of(headers)?))
    }

    /// The request's `Grpc-Timeout`, parsed; errors as in [`Deadline::of`].
    pub(crate) fn timeout_of(headers: &http::HeaderMap) -> Result<Option<Duration>, GatewayError> {
        let Some(value) = headers.get(crate::metadata::GRPC_TIMEOUT) else {
            return Ok(None);
        };
        value
            .to_str()
            .ok()
            .and_then(|v| parse_grpc_timeout(v.trim()))
            .map(Some)
            .ok_or_else(|| GatewayError::InvalidHeader {
                name: "grpc-timeout".to_owned(),
                message: format!(
                    "{:?} is not a timeout: 1 to 8 digits and a unit (H, M, S, m, u, n)",
                    String::from_utf8_lossy(value.as_bytes())
                ),
            })
    }

    /// A deadline `timeout` from now; none without a timeout.
    pub(crate) fn within(timeout: Option<Duration>) -> Deadline {
        timeout.map_or(Deadline(None), Deadline::after)
    }

    /// A deadline `timeout` from now (none when that is past the clock's range).
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// Whether there is a deadline at all.
    pub(crate) fn is_set(self) -> bool {
        self.0.is_some()
    }

    /// Resolves when the deadline has passed; never without one.
    pub(crate) async fn expired(self) {
        match self.0 {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// Runs `call` within the deadline: past it, the call is dropped
    /// (cancelled) and the result is DEADLINE_EXCEEDED, whoever notices first.
    pub(crate) async fn run<T>(
        self,
        call: impl Future<Output = Result<T, tonic::Status>>,
    ) -> Result<T, tonic::Status> {
        let Some(at) = self.0 else {
            return call.await;
        };
        match tokio::time::timeout_at(at, call).await {
            Ok(result) => result.map_err(|status| self.status_of(status)),
            Err(_) => Err(exceeded()),
        }
    }

    /// tonic's own timeout reports `Cancelled("Timeout expired")`; past the
    /// deadline, any failure is the deadline's.
    pub(crate) fn status_of(self, status: tonic::Status) -> tonic::Status {
        match self.0 {
            Some(at) if Instant::now() >= at && status.code() != tonic::Code::DeadlineExceeded => {
                exceeded()
            }
            _ => status,
        }
    }
}

/// The status of a call whose deadline passed (504 before the response
/// started; each streaming mode's error ending after).
pub(crate) fn exceeded() -> tonic::Status {
    tonic::Status::deadline_exceeded("deadline exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(value: &str) -> Result<Deadline, String> {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        Deadline::of(&headers).map_err(|e| e.message())
    }

    #[tokio::test(start_paused = true)]
    async fn parses_and_expires() {
        assert!(Deadline::of(&http::HeaderMap::new()).unwrap().0.is_none());
        let d = of("2S").unwrap();
        let start = Instant::now();
        d.expired().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(
            of("-1S").unwrap_err(),
            "invalid header \"grpc-timeout\": \"-1S\" is not a timeout: 1 to 8 digits and a unit (H, M, S, m, u, n)"
        );
        assert!(of("99999999999H").is_err());
        assert!(of("abc").is_err());
        assert!(of("99999999H").is_ok());
        let slow = d.run(async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, tonic::Status>(())
        });
        assert_eq!(
            of("1S").unwrap().run(slow).await.unwrap_err().code(),
            tonic::Code::DeadlineExceeded
        );
    }
}
