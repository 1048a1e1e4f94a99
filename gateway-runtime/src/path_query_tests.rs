//! Parsers of request input never panic: random paths against templates,
//! random query strings, random map keys.

use crate::path::{CaptureSpec, Seg, Template};
use crate::query::{parse_query, split_map_key};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

static TEMPLATES: &[Template] = &[
    Template {
        segments: &[
            Seg::Lit("v1"),
            Seg::Lit("shelves"),
            Seg::Single,
            Seg::Lit("books"),
            Seg::Single,
        ],
        verb: Some("move"),
        captures: &[CaptureSpec { start: 1, len: 4 }],
    },
    Template {
        segments: &[Seg::Lit("v1"), Seg::Single, Seg::Multi],
        verb: None,
        captures: &[
            CaptureSpec { start: 1, len: 1 },
            CaptureSpec { start: 2, len: 1 },
        ],
    },
    Template {
        segments: &[Seg::Multi],
        verb: Some("x"),
        captures: &[CaptureSpec { start: 0, len: 1 }],
    },
];

#[test]
fn random_paths_and_queries_never_panic() {
    let pieces = [
        "/",
        "v1",
        "shelves",
        "books",
        "a",
        "%2F",
        "%2f",
        "%",
        "%ZZ",
        "%FF",
        "%E2%82%AC",
        ":",
        ":move",
        "é",
        "",
        "//",
        "+",
        "=",
        "&",
        "[",
        "]",
        "x[y]",
        "?",
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut matched = 0;
    for _ in 0..30_000 {
        let mut text = String::new();
        for _ in 0..(rng.next() % 10) {
            text.push_str(rng.pick(&pieces));
        }
        // Paths as segments, so that the templates match now and then.
        let segments: Vec<&str> = (0..rng.next() % 6).map(|_| rng.pick(&pieces)).collect();
        let path = format!("/{}", segments.join("/"));
        for template in TEMPLATES {
            if let Some(captures) = template.match_path(&path) {
                matched += 1;
                for i in 0..captures.len() {
                    let _ = captures.decoded(i);
                    let _ = captures.raw(i);
                }
            }
        }
        if let Ok(pairs) = parse_query(&text) {
            for (key, _) in pairs {
                let _ = split_map_key(&key);
            }
        }
    }
    assert!(matched > 100, "some random paths should match ({matched})");
}
