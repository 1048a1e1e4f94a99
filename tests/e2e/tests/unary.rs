//! Unary bindings end to end: real HTTP over loopback into the generated
//! handlers, a real tonic service behind them (remote and in-process).

mod common;

use std::time::Duration;

use common::{Backend, Env, sparse};
use gateway_runtime::Gateway;

const DEFAULT_KITCHEN: &str = r#"{"text":"","i32":0,"i64":"0","u32":0,"u64":"0","s32":0,"s64":"0","fx32":0,"fx64":"0","sfx32":0,"sfx64":"0","fl":0,"db":0,"flag":false,"blob":"","mood":"MOOD_UNSPECIFIED","nested":null,"tags":[],"ids":[],"moods":[],"items":[],"labels":{},"byId":{},"at":null,"ttl":null,"mask":null,"maybeI32":null,"maybeText":null,"maybeI64":null,"attrs":null,"anyValue":null,"list":null,"detail":null,"price":null,"child":null,"name":""}"#;

both_backends!(empty_body_emits_every_default, Gateway::default(), |env| {
    let (status, headers, body) = env.send("POST", "/v1/echo", Some(""), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, DEFAULT_KITCHEN);
});

both_backends!(canonical_json_both_ways, sparse(), |env| {
    let request = r#"{
        "text": "hi", "i32": -5, "i64": "-9007199254740993", "u32": 7, "u64": 18446744073709551615,
        "s32": -1, "s64": "-2", "fx32": 3, "fx64": "4", "sfx32": -6, "sfx64": "-7",
        "fl": 1.5, "db": 1e-7, "flag": true, "blob": "aGk=", "mood": "MOOD_SAD",
        "nested": {"text": "n", "count": 2}, "tags": ["a", "b"], "ids": [1, "2"], "moods": ["MOOD_HAPPY", 2],
        "items": [{"text": "i"}], "labels": {"k": "v"}, "byId": {"7": {"count": 1}},
        "at": "2024-02-29T12:00:00.5+01:00", "ttl": "-1.5s", "mask": "a.fooBar,b",
        "maybeI32": 0, "maybeText": "w", "maybeI64": "8",
        "attrs": {"x": [1, "two", null, true]}, "anyValue": null, "list": [1],
        "detail": {"@type": "type.googleapis.com/e2e.echo.v1.Nested", "count": 3},
        "choiceNested": {"text": "c"}, "optI32": 0,
        "price": {"currency": "EUR", "units": "12"},
        "child": {"child": {"text": "deep"}},
        "name": "n"
    }"#;
    let (status, body) = env.post("/v1/echo", request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        concat!(
            r#"{"text":"hi","i32":-5,"i64":"-9007199254740993","u32":7,"u64":"18446744073709551615","#,
            r#""s32":-1,"s64":"-2","fx32":3,"fx64":"4","sfx32":-6,"sfx64":"-7","fl":1.5,"db":1e-7,"#,
            r#""flag":true,"blob":"aGk=","mood":"MOOD_SAD","nested":{"text":"n","count":2},"tags":["a","b"],"#,
            r#""ids":["1","2"],"moods":["MOOD_HAPPY","MOOD_SAD"],"items":[{"text":"i"}],"labels":{"k":"v"},"#,
            r#""byId":{"7":{"count":1}},"at":"2024-02-29T11:00:00.500Z","ttl":"-1.500s","mask":"a.fooBar,b","#,
            r#""maybeI32":0,"maybeText":"w","maybeI64":"8","attrs":{"x":[1,"two",null,true]},"anyValue":null,"#,
            r#""list":[1],"detail":{"@type":"type.googleapis.com/e2e.echo.v1.Nested","count":3},"#,
            r#""choiceNested":{"text":"c"},"optI32":0,"price":{"currency":"EUR","units":"12"},"#,
            r#""child":{"child":{"text":"deep"}},"name":"n"}"#
        )
    );
});

both_backends!(proto_names_are_accepted_in_bodies, sparse(), |env| {
    let (status, body) = env
        .post("/v1/echo", r#"{"maybe_i32": 4, "opt_i32": 1, "by_id": {}}"#)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"maybeI32":4,"optI32":1}"#)
    );
});

#[tokio::test]
async fn proto_names_out_when_configured() {
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder()
            .emit_defaults(false)
            .use_proto_names(true)
            .build(),
    )
    .await;
    let (_, body) = env.post("/v1/echo", r#"{"maybeI32": 4}"#).await;
    assert_eq!(body, r#"{"maybe_i32":4}"#);
}

both_backends!(
    unknown_json_fields_are_ignored_by_default,
    sparse(),
    |env| {
        let (status, body) = env
            .post("/v1/echo", r#"{"text":"a","nope":{"x":[1]}}"#)
            .await;
        assert_eq!((status, body.as_str()), (200, r#"{"text":"a"}"#));
    }
);

#[tokio::test]
async fn unknown_json_fields_are_refused_when_configured() {
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder().ignore_unknown_fields(false).build(),
    )
    .await;
    let (status, body) = env.post("/v1/echo", r#"{"text":"a","nope":1}"#).await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid request body: "#),
        "{body}"
    );
    assert!(body.contains("nope"), "{body}");
}

both_backends!(malformed_json_says_where, sparse(), |env| {
    let (status, body) = env
        .post("/v1/echo", "{\n  \"text\": \"a\",\n  \"i32\": 1.5\n}")
        .await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid request body: "#),
        "{body}"
    );
    assert!(body.contains("i32"), "{body}");
    assert!(body.contains("line 3 column"), "{body}");
    let (status, body) = env.post("/v1/echo", "{\"text\": \"a\",}").await;
    assert_eq!(status, 400);
    assert!(body.contains("line 1 column"), "{body}");
});

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder().body_limit(64).build(),
    )
    .await;
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(100));
    let (status, body) = env.post("/v1/echo", &big).await;
    assert_eq!(status, 413);
    assert_eq!(
        body,
        r#"{"code":8,"message":"request body is larger than the limit of 64 bytes","details":[]}"#
    );
}

both_backends!(path_variables_are_percent_decoded, sparse(), |env| {
    let (status, body) = env.get("/v1/echo/hello%20w%C3%B6rld%2Fx").await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"text":"hello wörld/x"}"#)
    );
});

both_backends!(typed_path_variables, sparse(), |env| {
    let (status, body) = env.get("/v1/echo/int/-42/7/true/2.5").await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"i64":"-42","u32":7,"db":2.5,"flag":true}"#)
    );
    let (status, body) = env.get("/v1/echo/int/abc/7/true/2.5").await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid path parameter \"i64\": "#),
        "{body}"
    );
    let (status, body) = env.get("/v1/echo/int/1/-7/true/2.5").await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"path parameter \"u32\""#), "{body}");
});

both_backends!(enum_path_variables_by_name_or_number, sparse(), |env| {
    assert_eq!(
        env.get("/v1/echo/mood/MOOD_HAPPY").await,
        (200, r#"{"mood":"MOOD_HAPPY"}"#.into())
    );
    assert_eq!(
        env.get("/v1/echo/mood/2").await,
        (200, r#"{"mood":"MOOD_SAD"}"#.into())
    );
    let (status, body) = env.get("/v1/echo/mood/GRUMPY").await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"path parameter \"mood\""#), "{body}");
    let (status, _) = env.get("/v1/echo/mood/9").await;
    assert_eq!(status, 400);
});

both_backends!(repeated_path_variables_are_split, sparse(), |env| {
    assert_eq!(
        env.get("/v1/echo/ids/1,2,-3").await,
        (200, r#"{"ids":["1","2","-3"]}"#.into())
    );
});

both_backends!(wrapper_path_variable, sparse(), |env| {
    assert_eq!(
        env.get("/v1/echo/wrapped/0").await,
        (200, r#"{"maybeI32":0}"#.into())
    );
});

both_backends!(
    timestamp_duration_and_field_mask_path_variables,
    sparse(),
    |env| {
        assert_eq!(
            env.get("/v1/echo/at/2024-05-01T10:00:00.5%2B02:00/ttl/-1.25s/mask/text,nested.text")
                .await,
            (
                200,
                r#"{"at":"2024-05-01T08:00:00.500Z","ttl":"-1.250s","mask":"text,nested.text"}"#
                    .into()
            )
        );
        // A `+` in a path is a plus, not a space.
        assert_eq!(
            env.get("/v1/echo/at/2024-05-01T10:00:00+02:00/ttl/0s/mask/a")
                .await,
            (
                200,
                r#"{"at":"2024-05-01T08:00:00Z","ttl":"0s","mask":"a"}"#.into()
            )
        );
        let (status, body) = env.get("/v1/echo/at/yesterday/ttl/1s/mask/a").await;
        assert_eq!(status, 400);
        assert!(
            body.starts_with(r#"{"code":3,"message":"invalid path parameter \"at\": "#),
            "{body}"
        );
        let (status, body) = env
            .get("/v1/echo/at/2024-05-01T10:00:00Z/ttl/90/mask/a")
            .await;
        assert_eq!(status, 400);
        assert!(body.contains(r#"path parameter \"ttl\""#), "{body}");
    }
);

both_backends!(multi_segment_captures_keep_their_slashes, sparse(), |env| {
    assert_eq!(
        env.get("/v1/shelves/s1/books/b%2F2").await,
        (200, r#"{"name":"shelves/s1/books/b%2F2"}"#.into())
    );
    // `{name=**}` captures what `**` matches: zero or more segments.
    assert_eq!(
        env.get("/v1/files/a/b/c.txt").await,
        (200, r#"{"name":"a/b/c.txt"}"#.into())
    );
    assert_eq!(env.get("/v1/files").await, (200, "{}".into()));
    // shelves/*/books/* needs exactly four segments.
    assert_eq!(env.get("/v1/shelves/s1/books").await.0, 404);
});

both_backends!(custom_verbs, sparse(), |env| {
    let (status, body) = env.post("/v1/echo/hi:shout", r#"{"text":"inner"}"#).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"text":"hi","nested":{"text":"inner"}}"#)
    );
    // The same path without the verb is no binding of POST.
    let (status, body) = env.post("/v1/echo/hi", "{}").await;
    assert_eq!(
        (status, body.as_str()),
        (404, r#"{"code":5,"message":"Not Found","details":[]}"#)
    );
});

both_backends!(body_into_a_field, sparse(), |env| {
    assert_eq!(
        env.post("/v1/echo/text-body", r#""just text""#).await,
        (200, r#"{"text":"just text"}"#.into())
    );
    let (status, _, body) = env
        .send(
            "PUT",
            "/v1/echo/nested/from-path",
            Some(r#"[{"text":"a"},{"count":2}]"#),
            &[],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"{"nested":{"text":"from-path"},"items":[{"text":"a"},{"count":2}]}"#
        )
    );
});

both_backends!(
    response_body_writes_only_that_field,
    Gateway::default(),
    |env| {
        assert_eq!(env.get("/v1/echo-text/hi").await, (200, r#""hi""#.into()));
        assert_eq!(env.get("/v1/echo-nested/hi").await, (200, r#""""#.into()));
        assert_eq!(env.get("/v1/echo-items").await, (200, "[]".into()));
    }
);

both_backends!(custom_http_method, sparse(), |env| {
    let (status, _, body) = env
        .send("SEARCH", "/v1/echo", Some(r#"{"text":"s"}"#), &[])
        .await;
    assert_eq!((status, body.as_str()), (200, r#"{"text":"s"}"#));
    let (status, _, body) = env.send("BREW", "/v1/echo", Some("{}"), &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            405,
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
        )
    );
});

both_backends!(query_parameters_of_every_kind, sparse(), |env| {
    let query = concat!(
        "?i32=5&i64=-9007199254740993&tags=a&tags=b%2Cc&mood=MOOD_SAD&moods=1&moods=MOOD_SAD",
        "&nested.text=n&nested.count=3&labels%5Bk%5D=v&labels[x y]=z",
        "&flag=true&fl=1.5&blob=aGk&at=2024-01-02T03:04:05.5Z&ttl=1.5s&mask=a.fooBar,c",
        "&maybeI32=7&attrs=%7B%22a%22%3A1%7D&choiceText=x&optI32=4&price.currency=EUR&price.units=3",
        "&zzz=ignored"
    );
    let (status, body) = env.get(&format!("/v1/echo/t{query}")).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"text":"t","i32":5,"i64":"-9007199254740993","tags":["a","b,c"],"mood":"MOOD_SAD",
        "moods":["MOOD_HAPPY","MOOD_SAD"],"nested":{"text":"n","count":3},"labels":{"k":"v","x y":"z"},
        "flag":true,"fl":1.5,"blob":"aGk=","at":"2024-01-02T03:04:05.500Z","ttl":"1.500s","mask":"a.fooBar,c",
        "maybeI32":7,"attrs":{"a":1},"choiceText":"x","optI32":4,"price":{"currency":"EUR","units":"3"}}"#,
    )
    .unwrap();
    assert_eq!(json, expected);
});

both_backends!(query_json_names_and_proto_names, sparse(), |env| {
    assert_eq!(
        env.get("/v1/echo/t?maybe_i32=1").await,
        (200, r#"{"text":"t","maybeI32":1}"#.into())
    );
    assert_eq!(
        env.get("/v1/echo/t?maybeI32=1").await,
        (200, r#"{"text":"t","maybeI32":1}"#.into())
    );
});

both_backends!(query_errors, sparse(), |env| {
    let (status, body) = env.get("/v1/echo/t?i32=1&i32=2").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"code":3,"message":"invalid query parameter \"i32\": given more than once for a field that holds one value","details":[]}"#
    );
    let (status, body) = env.get("/v1/echo/t?choiceText=a&choiceNum=1").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"code":3,"message":"invalid query parameter \"choiceNum\": another field of oneof `choice` is already set","details":[]}"#
    );
    let (status, body) = env.get("/v1/echo/t?i32=x").await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid query parameter \"i32\": "#),
        "{body}"
    );
    let (status, _) = env.get("/v1/echo/t?at=yesterday").await;
    assert_eq!(status, 400);
});

both_backends!(selectors_through_a_oneof_member_pick_it, sparse(), |env| {
    // Query parameters inside a oneof's message member are discovered.
    assert_eq!(
        env.get("/v1/echo/t?choiceNested.text=a&choice_nested.count=2")
            .await,
        (
            200,
            r#"{"text":"t","choiceNested":{"text":"a","count":2}}"#.into()
        )
    );
    // Another member already set is an error, whichever kind came first.
    let conflict = |name: &str| {
        format!(
            r#"{{"code":3,"message":"invalid query parameter \"{name}\": another field of oneof `choice` is already set","details":[]}}"#
        )
    };
    assert_eq!(
        env.get("/v1/echo/t?choiceText=x&choiceNested.count=2")
            .await,
        (400, conflict("choiceNested.count"))
    );
    assert_eq!(
        env.get("/v1/echo/t?choiceNested.count=2&choiceText=x")
            .await,
        (400, conflict("choiceText"))
    );
    // A path variable inside the member.
    assert_eq!(
        env.get("/v1/echo/choice/p?choiceNested.count=3").await,
        (200, r#"{"choiceNested":{"text":"p","count":3}}"#.into())
    );
});

both_backends!(query_aliases_from_the_binding_file, sparse(), |env| {
    assert_eq!(
        env.get("/v1/search?q=a&t=b").await,
        (200, r#"{"text":"b","nested":{"text":"a"}}"#.into())
    );
    // Two names of one field: the later wins.
    assert_eq!(
        env.get("/v1/search?t=1&title=2").await,
        (200, r#"{"text":"2"}"#.into())
    );
    assert_eq!(
        env.get("/v1/search?title=2&t=1").await,
        (200, r#"{"text":"1"}"#.into())
    );
    // Ignored field, and the aliased field's own name no longer binds.
    assert_eq!(
        env.get("/v1/search?i32=5&nested.text=x&text=y").await,
        (200, "{}".into())
    );
    // Other fields are still discovered.
    assert_eq!(
        env.get("/v1/search?u32=5").await,
        (200, r#"{"u32":5}"#.into())
    );
    // Discovery stops at a type already on the path (Kitchen.child is a
    // Kitchen); an explicit entry reaches into it.
    assert_eq!(
        env.get("/v1/search?grandchild=g&child.text=c").await,
        (200, r#"{"child":{"child":{"text":"g"}}}"#.into())
    );
});

both_backends!(patch_fills_update_mask_from_the_body, sparse(), |env| {
    let (status, _, body) = env
        .send(
            "PATCH",
            "/v1/kitchens/k1",
            Some(r#"{"text":"t","nested":{"count":2},"tags":["x"],"maybe_i32":1}"#),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"kitchen":{"text":"t","nested":{"count":2},"tags":["x"],"maybeI32":1,"name":"k1"},"updateMask":"maybeI32,nested.count,tags,text"}"#
    );
    // A mask sent by the client is kept.
    let (_, _, body) = env
        .send(
            "PATCH",
            "/v1/kitchens/k1?updateMask=text",
            Some(r#"{"text":"t","i32":1}"#),
            &[],
        )
        .await;
    assert_eq!(
        body,
        r#"{"kitchen":{"text":"t","i32":1,"name":"k1"},"updateMask":"text"}"#
    );
});

both_backends!(delete_and_empty_responses, Gateway::default(), |env| {
    let (status, _, body) = env.send("DELETE", "/v1/kitchens/k", None, &[]).await;
    assert_eq!((status, body.as_str()), (200, "{}"));
    let (status, _, body) = env.send("DELETE", "/v1/kitchens/missing", None, &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            404,
            r#"{"code":5,"message":"kitchen \"missing\" does not exist","details":[]}"#
        )
    );
});

both_backends!(upstream_errors_map_to_http_statuses, sparse(), |env| {
    for (code, status) in [
        (3, 400),
        (5, 404),
        (6, 409),
        (7, 403),
        (8, 429),
        (9, 400),
        (12, 501),
        (13, 500),
        (14, 503),
        (4, 504),
        (1, 499),
        (2, 500),
        (10, 409),
        (11, 400),
        (15, 500),
    ] {
        let (got, body) = env
            .post(
                "/v1/fail",
                &format!(r#"{{"code":{code},"message":"m\"{code}"}}"#),
            )
            .await;
        assert_eq!(got, status, "code {code}: {body}");
        assert_eq!(
            body,
            format!(r#"{{"code":{code},"message":"m\"{code}","details":[]}}"#)
        );
    }
    let (status, headers, body) = env
        .send(
            "POST",
            "/v1/fail",
            Some(r#"{"code":16,"message":"who are you"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "who are you");
    assert_eq!(body, r#"{"code":16,"message":"who are you","details":[]}"#);
});

both_backends!(error_details_are_decoded, sparse(), |env| {
    let (status, body) = env
        .post(
            "/v1/fail",
            r#"{"code":9,"message":"no","withDetails":true}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"code":9,"message":"no","details":[{"@type":"type.googleapis.com/e2e.echo.v1.Nested","text":"why","count":1},{"@type":"type.googleapis.com/unknown.Detail","value":"AQID"}]}"#
    );
});

both_backends!(unknown_routes_and_methods, sparse(), |env| {
    let not_found = r#"{"code":5,"message":"Not Found","details":[]}"#;
    assert_eq!(env.get("/nope").await, (404, not_found.into()));
    assert_eq!(env.get("/v1/echo/a/b/c/d/e").await, (404, not_found.into()));
    // Trailing and doubled slashes are other paths: no normalization.
    assert_eq!(env.get("/v1/echo-items/").await, (404, not_found.into()));
    assert_eq!(env.get("//v1/echo-items").await.0, 404);
    assert_eq!(env.get("/v1//echo-items").await.0, 404);
    let (status, _, body) = env.send("GET", "/v1/fail", None, &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            405,
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
        )
    );
});

both_backends!(headers_become_metadata, Gateway::default(), |env| {
    let (status, headers, body) = env
        .send(
            "GET",
            "/v1/metadata",
            None,
            &[
                ("Grpc-Metadata-Tenant", "acme"),
                ("Authorization", "Bearer t0k"),
                ("User-Agent", "e2e/1"),
                ("X-Ignored", "1"),
                ("Grpc-Metadata-Blob-Bin", "AAEC"),
                ("X-Forwarded-For", "10.0.0.1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let md = &json["metadata"];
    assert_eq!(md["tenant"], "acme");
    assert_eq!(md["authorization"], "Bearer t0k");
    assert_eq!(md["grpcgateway-authorization"], "Bearer t0k");
    assert_eq!(md["grpcgateway-user-agent"], "e2e/1");
    assert_eq!(md["blob-bin"], "[0, 1, 2]");
    assert_eq!(md["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(md["x-forwarded-host"], format!("{}", env.addr));
    assert!(md.get("x-ignored").is_none(), "{md}");
    // Response header metadata comes back as Grpc-Metadata-*.
    assert_eq!(headers["grpc-metadata-x-reply"], "yes");
    assert_eq!(headers["grpc-metadata-x-raw-bin"], "AAE=");
});

both_backends!(grpc_timeout_sets_the_deadline, sparse(), |env| {
    let (status, _, body) = env
        .send("GET", "/v1/slow/2000", None, &[("Grpc-Timeout", "50m")])
        .await;
    assert_eq!(status, 504, "{body}");
    assert!(body.starts_with(r#"{"code":4,"#), "{body}");
    // A malformed timeout is the client's error, as in the Go gateways.
    let (status, _, body) = env
        .send("GET", "/v1/slow/1", None, &[("Grpc-Timeout", "bogus")])
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid header \"grpc-timeout\""#),
        "{body}"
    );
});

both_backends!(dropped_client_cancels_the_call, sparse(), |env| {
    let tag = format!("cancel-unary-{:?}", std::thread::current().id());
    let request = env
        .http
        .get(env.url(&format!("/v1/slow/60000?tag={tag}")))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(request.unwrap_err().is_timeout());
    // The client gave up and closed its connection: the service must see
    // its call go away without completing.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let record = gateway_e2e::streaming::record(&tag);
        if record.is_some_and(|r| r.dropped) {
            assert_eq!(record.unwrap().produced, 0);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{record:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
});

both_backends!(keyword_names_and_nested_types, sparse(), |env| {
    let (status, body) = env
        .get("/awkward/x/KIND_LOOP?match=3&inner.fn=f&money.units=5")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"type":"x","match":3,"inner":{"fn":"f"},"kind":"KIND_LOOP","money":{"units":"5"}}"#
    );
    let (status, body) = env.post("/awkward", r#"{"type":"t","kind":1}"#).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"type":"t","kind":"KIND_LOOP"}"#)
    );
});

both_backends!(unbound_methods_are_posted_by_name, sparse(), |env| {
    assert_eq!(
        env.post("/e2e.echo.v1.EchoService/Unbound", r#"{"text":"u"}"#)
            .await,
        (200, r#"{"text":"u"}"#.into())
    );
});

#[tokio::test]
async fn custom_error_handler_sees_typed_errors() {
    use gateway_runtime::GatewayError;
    let gateway = Gateway::builder()
        .error_handler(|error, cx, gateway| {
            let kind = match &error {
                GatewayError::NotFound => "route",
                GatewayError::InvalidQueryParameter { .. } => "query",
                GatewayError::Upstream(_) => "upstream",
                _ => "other",
            };
            let mut response = gateway.default_error_response(error);
            response
                .headers_mut()
                .insert("x-error-kind", kind.parse().unwrap());
            response
                .headers_mut()
                .insert("x-error-path", cx.uri.path().parse().unwrap());
            response
        })
        .build();
    let env = Env::start(Backend::InProcess, gateway).await;
    for (path, kind) in [("/nope", "route"), ("/v1/echo/t?i32=z", "query")] {
        let (_, headers, _) = env.send("GET", path, None, &[]).await;
        assert_eq!(headers["x-error-kind"], kind, "{path}");
    }
    let (status, headers, _) = env
        .send("POST", "/v1/fail", Some(r#"{"code":5}"#), &[])
        .await;
    assert_eq!(status, 404);
    assert_eq!(headers["x-error-kind"], "upstream");
    assert_eq!(headers["x-error-path"], "/v1/fail");
}

#[tokio::test]
async fn routers_take_tower_layers() {
    let gateway = sparse();
    let app =
        common::app(Backend::InProcess, &gateway)
            .await
            .layer(axum::middleware::map_response(
                |mut r: axum::response::Response| async move {
                    r.headers_mut().insert("x-layer", "on".parse().unwrap());
                    r
                },
            ));
    let addr = gateway_e2e::serve::spawn_http(app).await;
    let response = reqwest::get(format!("http://{addr}/v1/echo/t"))
        .await
        .unwrap();
    assert_eq!(response.headers()["x-layer"], "on");
    assert_eq!(response.text().await.unwrap(), r#"{"text":"t"}"#);
}
