//! proto2 end to end: required fields (always written, bound from path,
//! query and body), optional fields with declared defaults (written when
//! set, `null` when unset and defaults are emitted), groups, an extension
//! range, an enum without a zero value, and a server stream; both backends.

mod common;

use common::{Backend, Env, sparse};
use gateway_runtime::Gateway;

/// A `Record` with nothing set: its required fields at prost's defaults
/// (declared `-1` for `total`, the enum's first value, an empty required
/// message), nothing else.
const EMPTY_SPARSE: &str = r#"{"ref":"","count":0,"total":"-1","active":false,"ratio":0,"digest":"","grade":"GRADE_PASS","badge":{"code":""}}"#;

both_backends!(required_fields_are_always_written, sparse(), |env| {
    let (status, body) = env.post("/proto2/records", "{}").await;
    assert_eq!((status, body.as_str()), (200, EMPTY_SPARSE));
});

both_backends!(
    unset_proto2_optionals_are_null_with_defaults,
    Gateway::default(),
    |env| {
        let (status, body) = env.post("/proto2/records", "").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            concat!(
                r#"{"ref":"","count":0,"total":"-1","active":false,"ratio":0,"digest":"","#,
                r#""grade":"GRADE_PASS","badge":{"code":"","weight":null},"label":null,"limit":null,"#,
                r#""floor":null,"strict":null,"salt":null,"scale":null,"serial":null,"extra":null,"#,
                r#""first":null,"history":[],"badges":[],"note":null,"lineItem":[],"badgesByCode":{},"#,
                r#""tree":null,"extras":null}"#
            )
        );
    }
);

both_backends!(every_shape_both_ways, sparse(), |env| {
    // Optional fields set to their declared defaults are still set: written.
    let request = r#"{
        "ref": "r1", "count": -3, "total": "9007199254740993", "active": true, "ratio": 0.25,
        "digest": "AQI=", "grade": "GRADE_DISTINCTION", "badge": {"code": "gold", "weight": 5},
        "label": "unnamed", "limit": 25, "floor": "GRADE_MERIT", "strict": true, "salt": "cwE=",
        "scale": 1.5, "serial": "7", "extra": {"code": "x"}, "first": 1,
        "history": ["GRADE_MERIT", 3], "badges": [{"code": "a"}],
        "Note": {"body": "hello", "stars": 3}, "Line_Item": [{"text": "one"}, {}],
        "alt": {"code": "alt"}, "badgesByCode": {"k": {"code": "v"}},
        "tree": {"branch": {"label": "top", "parent": {"branch": {"label": "inner"}}}},
        "extras": {"nick": "x", "at": "2024-02-29T12:00:00.5+01:00", "meta": null}
    }"#;
    let (status, body) = env.post("/proto2/records", request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        concat!(
            r#"{"ref":"r1","count":-3,"total":"9007199254740993","active":true,"ratio":0.25,"#,
            r#""digest":"AQI=","grade":"GRADE_DISTINCTION","badge":{"code":"gold","weight":5},"#,
            r#""label":"unnamed","limit":25,"floor":"GRADE_MERIT","strict":true,"salt":"cwE=","#,
            r#""scale":1.5,"serial":"7","extra":{"code":"x"},"first":"GRADE_PASS","#,
            r#""history":["GRADE_MERIT","GRADE_DISTINCTION"],"badges":[{"code":"a"}],"#,
            r#""note":{"body":"hello","stars":3},"lineItem":[{"text":"one","mark":{}},{"mark":{}}],"#,
            r#""alt":{"code":"alt"},"badgesByCode":{"k":{"code":"v"}},"#,
            r#""tree":{"branch":{"label":"top","parent":{"branch":{"label":"inner"}}}},"#,
            r#""extras":{"nick":"x","at":"2024-02-29T11:00:00.500Z","meta":null}}"#
        )
    );
});

both_backends!(null_leaves_required_fields_as_they_are, sparse(), |env| {
    // prost has no "unset" for a required field: `null`, like a missing
    // key, leaves its default.
    let (status, body) = env
        .post(
            "/proto2/records",
            r#"{"ref":null,"count":null,"grade":null,"badge":null,"digest":null,"label":null,"limit":null}"#,
        )
        .await;
    assert_eq!((status, body.as_str()), (200, EMPTY_SPARSE));
    // Required well-known types left out: an empty string, the epoch, and
    // a Value with no kind, written as `null`.
    let (status, body) = env.post("/proto2/records", r#"{"extras":{}}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.strip_prefix(&EMPTY_SPARSE[..EMPTY_SPARSE.len() - 1]),
        Some(r#","extras":{"nick":"","at":"1970-01-01T00:00:00Z","meta":null}}"#)
    );
});

both_backends!(enum_numbers_without_a_name_stay_numbers, sparse(), |env| {
    let (status, body) = env
        .post("/proto2/records", r#"{"grade": 9, "floor": 0}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"ref":"","count":0,"total":"-1","active":false,"ratio":0,"digest":"","grade":9,"badge":{"code":""},"floor":0}"#
    );
});

#[tokio::test]
async fn groups_are_written_under_their_type_name_with_proto_names() {
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder()
            .emit_defaults(false)
            .use_proto_names(true)
            .build(),
    )
    .await;
    // The group's lower-case field name is not one of its JSON names.
    let (status, body) = env
        .post(
            "/proto2/records",
            r#"{"note":{"body":"b"},"lineItem":[{"text":"t"}],"line_item":[{"text":"ignored"}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"ref":"","count":0,"total":"-1","active":false,"ratio":0,"digest":"","grade":"GRADE_PASS","badge":{"code":""},"Note":{"body":"b"},"Line_Item":[{"text":"t","mark":{}}]}"#
    );
}

both_backends!(path_and_query_bind_every_shape, sparse(), |env| {
    let (status, body) = env
        .get(
            "/proto2/records/abc?count=4&total=5&active=true&ratio=0.5&digest=AQI%3D\
             &grade=GRADE_MERIT&limit=25&floor=3&strict=false\
             &badge.code=q&badge.weight=5&note.body=n&history=2&history=GRADE_PASS\
             &tree.branch.label=leaf",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        concat!(
            r#"{"ref":"abc","count":4,"total":"5","active":true,"ratio":0.5,"digest":"AQI=","#,
            r#""grade":"GRADE_MERIT","badge":{"code":"q","weight":5},"limit":25,"#,
            r#""floor":"GRADE_DISTINCTION","strict":false,"history":["GRADE_MERIT","GRADE_PASS"],"#,
            r#""note":{"body":"n"},"tree":{"branch":{"label":"leaf"}}}"#
        )
    );
});

both_backends!(
    closed_enums_refuse_undefined_numbers_in_query,
    sparse(),
    |env| {
        let (status, body) = env.get("/proto2/records/abc?grade=0").await;
        assert_eq!(status, 400, "{body}");
        assert!(body.starts_with(r#"{"code":3,"#), "{body}");
        assert!(body.contains("grade"), "{body}");
    }
);

both_backends!(
    selectors_through_a_required_message,
    Gateway::default(),
    |env| {
        let (status, body) = env.get("/proto2/badges/gold").await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                r#"{"badge":{"code":"gold","weight":null},"limit":null,"grade":"GRADE_PASS","floor":null,"note":null,"extras":null}"#
            )
        );
        let (status, body) = env
            .get("/proto2/badges/gold?badge.weight=2&limit=10&grade=GRADE_DISTINCTION&floor=GRADE_PASS&note.stars=1")
            .await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                r#"{"badge":{"code":"gold","weight":2},"limit":10,"grade":"GRADE_DISTINCTION","floor":"GRADE_PASS","note":{"body":"","stars":1},"extras":null}"#
            )
        );
        let (status, body) = env
            .get("/proto2/badges/gold?extras.nick=n&extras.at=2024-02-29T12:00:00Z&extras.meta=true&extras.size=4")
            .await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                concat!(
                    r#"{"badge":{"code":"gold","weight":null},"limit":null,"grade":"GRADE_PASS","floor":null,"note":null,"#,
                    r#""extras":{"nick":"n","at":"2024-02-29T12:00:00Z","meta":true,"size":4}}"#
                )
            )
        );
    }
);

both_backends!(path_variable_on_a_required_enum, sparse(), |env| {
    for (grade, name) in [("GRADE_MERIT", "GRADE_MERIT"), ("3", "GRADE_DISTINCTION")] {
        let (status, body) = env.get(&format!("/proto2/grades/{grade}/badges/b")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            format!(r#"{{"badge":{{"code":"b"}},"grade":"{name}"}}"#)
        );
    }
    let (status, body) = env.get("/proto2/grades/0/badges/b").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("grade"), "{body}");
});

both_backends!(body_field_that_is_a_required_message, sparse(), |env| {
    let (status, _, body) = env
        .send(
            "PUT",
            "/proto2/records/r9/badge?limit=25",
            Some(r#"{"code":"silver","weight":5}"#),
            &[],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"{"ref":"r9","badge":{"code":"silver","weight":5},"limit":25}"#
        )
    );
    let (status, _, body) = env
        .send("PUT", "/proto2/records/r9/badge", Some("null"), &[])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"ref":"r9","badge":{"code":""}}"#)
    );
    // response_body of a required message.
    let (status, body) = env.get("/proto2/records/r9/badge?badge.code=z").await;
    assert_eq!((status, body.as_str()), (200, r#"{"code":"z"}"#));
});

both_backends!(patch_fills_a_required_update_mask, sparse(), |env| {
    let (status, _, body) = env
        .send(
            "PATCH",
            "/proto2/records/p1",
            Some(r#"{"count":2,"badge":{"weight":1},"label":"unnamed"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        concat!(
            r#"{"record":{"ref":"p1","count":2,"total":"-1","active":false,"ratio":0,"digest":"","#,
            r#""grade":"GRADE_PASS","badge":{"code":"","weight":1},"label":"unnamed"},"#,
            r#""updateMask":"badge.weight,count,label"}"#
        )
    );
    // A mask sent by the client is kept.
    let (_, _, body) = env
        .send(
            "PATCH",
            "/proto2/records/p1?updateMask=count",
            Some(r#"{"count":2,"active":true}"#),
            &[],
        )
        .await;
    assert!(body.ends_with(r#""updateMask":"count"}"#), "{body}");
});

fn record_line(i: i32) -> String {
    let label = if i % 2 == 1 {
        r#","label":"unnamed""#
    } else {
        ""
    };
    format!(
        r#"{{"ref":"w-{i}","count":{i},"total":"-1","active":false,"ratio":0,"digest":"","grade":"GRADE_PASS","badge":{{"code":"b{i}"}}{label}}}"#
    )
}

both_backends!(server_stream_of_proto2_messages, sparse(), |env| {
    let (status, headers, body) = env
        .send("GET", "/proto2/records/w/watch?count=3", None, &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert_eq!(
        body,
        format!(
            "{}\n{}\n{}\n",
            record_line(0),
            record_line(1),
            record_line(2)
        )
    );
    let (status, _, body) = env
        .send(
            "GET",
            "/proto2/records/w/watch?count=2",
            None,
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            "data: {}\n\ndata: {}\n\nid: EOS\nevent: EOS\ndata: \n\n",
            record_line(0),
            record_line(1)
        )
    );
});

both_backends!(
    sse_ids_and_names_from_required_fields,
    Gateway::builder()
        .emit_defaults(false)
        .sse(
            gateway_runtime::streaming::SseConfig::default()
                .id_field("ref")
                .event_field("grade")
                .end_of_stream(None)
        )
        .build(),
    |env| {
        let (status, _, body) = env
            .send(
                "GET",
                "/proto2/records/s/watch?count=2",
                None,
                &[("Accept", "text/event-stream")],
            )
            .await;
        assert_eq!(status, 200);
        let (first, second) = (record_line(0), record_line(1));
        let first = first.replace("w-0", "s-0");
        let second = second.replace("w-1", "s-1");
        assert_eq!(
            body,
            format!(
                "id: s-0\nevent: GRADE_PASS\ndata: {first}\n\nid: s-1\nevent: GRADE_PASS\ndata: {second}\n\n"
            )
        );
    }
);
