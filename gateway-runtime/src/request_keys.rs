//! The keys of the request metrics (`gateway_requests_total`,
//! `gateway_request_duration_seconds`), kept per worker thread for the
//! (route, method, status) triples seen last.
//!
//! Building a key allocates its labels and hashes name and labels; a
//! gateway answers the same few triples over and over. Only keys are kept,
//! not the handles a recorder returns: every request is still registered
//! with whatever recorder is current (global or local, set at any time).

use std::cell::RefCell;

use http::{Method, StatusCode};
use metrics::{Key, Label, Level, Metadata};

/// Triples kept per thread; past that the oldest entry is replaced.
const KEPT: usize = 32;

/// What `metrics::counter!` and `metrics::histogram!` passed when these
/// metrics were recorded in `telemetry.rs`: that module as target, level
/// `INFO` (a recorder may filter by them).
const TARGET: &str = "gateway_runtime::telemetry";
static METADATA: Metadata<'static> = Metadata::new(TARGET, Level::INFO, Some(TARGET));

struct Entry {
    route: &'static str,
    method: Method,
    status: StatusCode,
    total: Key,
    duration: Key,
}

#[derive(Default)]
struct Kept {
    entries: Vec<Entry>,
    /// The entry replaced next once `entries` is full.
    next: usize,
}

thread_local! {
    static KEPT_KEYS: RefCell<Kept> = RefCell::new(Kept::default());
}

/// Counts one answered request and records its duration, if known.
pub(crate) fn record(
    route: &'static str,
    method: &Method,
    status: StatusCode,
    seconds: Option<f64>,
) {
    KEPT_KEYS.with(|kept| {
        let mut kept = kept.borrow_mut();
        let at = match kept.entries.iter().position(|e| {
            // The route is the binding's static string: its address decides
            // nearly always; equal text at another address is the same label.
            (std::ptr::eq(e.route, route) || e.route == route)
                && e.status == status
                && e.method == *method
        }) {
            Some(at) => at,
            None => kept.insert(route, method, status),
        };
        let entry = &kept.entries[at];
        metrics::with_recorder(|recorder| {
            recorder
                .register_counter(&entry.total, &METADATA)
                .increment(1);
            if let Some(seconds) = seconds {
                recorder
                    .register_histogram(&entry.duration, &METADATA)
                    .record(seconds);
            }
        });
    });
}

impl Kept {
    fn insert(&mut self, route: &'static str, method: &Method, status: StatusCode) -> usize {
        let labels = vec![
            Label::new("route", route),
            Label::new("method", method.as_str().to_owned()),
            Label::new("status", status.as_str().to_owned()),
        ];
        let entry = Entry {
            route,
            method: method.clone(),
            status,
            total: Key::from_parts("gateway_requests_total", labels.clone()),
            duration: Key::from_parts("gateway_request_duration_seconds", labels),
        };
        if self.entries.len() < KEPT {
            self.entries.push(entry);
            return self.entries.len() - 1;
        }
        let at = self.next;
        self.entries[at] = entry;
        self.next = (at + 1) % KEPT;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, HistogramFn, KeyName, Recorder, SharedString, Unit,
    };

    /// Counts increments and histogram samples per key, as text.
    #[derive(Default)]
    struct Seen(Mutex<Vec<(String, Arc<AtomicU64>)>>);

    struct Cell(Arc<AtomicU64>);

    impl CounterFn for Cell {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::Relaxed);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::Relaxed);
        }
    }

    impl HistogramFn for Cell {
        fn record(&self, _: f64) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl Seen {
        fn cell(&self, key: &Key, metadata: &Metadata<'_>) -> Arc<Cell> {
            assert_eq!(metadata.target(), "gateway_runtime::telemetry");
            assert_eq!(*metadata.level(), Level::INFO);
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let text = format!("{}{{{}}}", key.name(), labels.join(","));
            let mut seen = self.0.lock().unwrap();
            let value = match seen.iter().find(|(k, _)| *k == text) {
                Some((_, v)) => v.clone(),
                None => {
                    let v = Arc::new(AtomicU64::new(0));
                    seen.push((text, v.clone()));
                    v
                }
            };
            Arc::new(Cell(value))
        }

        fn get(&self, text: &str) -> u64 {
            let seen = self.0.lock().unwrap();
            seen.iter()
                .find(|(k, _)| k == text)
                .map_or(0, |(_, v)| v.load(Ordering::Relaxed))
        }
    }

    impl Recorder for Seen {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.cell(key, metadata))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(self.cell(key, metadata))
        }
    }

    const TOTAL: &str = "gateway_requests_total{route=/v1/x,method=POST,status=200}";
    const DURATION: &str = "gateway_request_duration_seconds{route=/v1/x,method=POST,status=200}";

    #[test]
    fn every_request_reaches_the_current_recorder() {
        let first = Seen::default();
        metrics::with_local_recorder(&first, || {
            record("/v1/x", &Method::POST, StatusCode::OK, Some(0.5));
            record("/v1/x", &Method::POST, StatusCode::OK, None);
        });
        assert_eq!(first.get(TOTAL), 2);
        assert_eq!(first.get(DURATION), 1);
        // Another recorder later gets its own registrations, not the
        // first one's handles.
        let second = Seen::default();
        metrics::with_local_recorder(&second, || {
            record("/v1/x", &Method::POST, StatusCode::OK, Some(0.5));
            // Same text at another address is the same label.
            let other = String::from("/v1/x").leak();
            record(other, &Method::POST, StatusCode::OK, None);
            record(
                "/v1/x",
                &Method::from_bytes(b"PURGE").unwrap(),
                StatusCode::IM_A_TEAPOT,
                None,
            );
        });
        assert_eq!(first.get(TOTAL), 2);
        assert_eq!(second.get(TOTAL), 2);
        assert_eq!(
            second.get("gateway_requests_total{route=/v1/x,method=PURGE,status=418}"),
            1
        );
    }

    #[test]
    fn more_triples_than_kept_replace_the_oldest() {
        let seen = Seen::default();
        metrics::with_local_recorder(&seen, || {
            for round in 0..3 {
                for code in 0..KEPT as u16 + 5 {
                    let status = StatusCode::from_u16(200 + code).unwrap();
                    record("/v1/x", &Method::GET, status, None);
                }
                assert!(
                    KEPT_KEYS.with(|k| k.borrow().entries.len()) <= KEPT,
                    "{round}"
                );
            }
        });
        for code in 0..KEPT as u16 + 5 {
            let text = format!(
                "gateway_requests_total{{route=/v1/x,method=GET,status={}}}",
                200 + code
            );
            assert_eq!(seen.get(&text), 3, "{text}");
        }
    }
}
