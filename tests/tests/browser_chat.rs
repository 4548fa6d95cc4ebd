//! A real browser: headless Chromium opens the chat example's page through
//! nginx round-robin over three nodes, once with polling only and once with
//! the default transports, and the two pages talk. The page comes from
//! another origin than the socket.io server, so CORS is exercised too.

use std::path::PathBuf;

use serde_json::json;
use switchyard_e2e::{node::example, repo, run_js, ClusterFixture};

/// The origin the pages come from; Chromium maps its name to nginx.
const PAGE_ORIGIN: &str = "http://chat.test";

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .find(|path| path.exists())
        .expect("chromium is missing: scripts/test installs Debian's package")
}

#[actix_rt::test]
async fn two_browser_pages_chat_through_round_robin() {
    let client_js = repo::root().join("tests/node_modules/socket.io-client/dist/socket.io.min.js");
    let client_js = client_js.to_string_lossy().into_owned();
    let cluster = ClusterFixture::start_program(
        example("chat"),
        3,
        &[
            ("SWITCHYARD_CORS__ORIGINS", PAGE_ORIGIN),
            ("CHAT_CLIENT_JS", &client_js),
        ],
    )
    .await;
    let lb = cluster.url().trim_start_matches("http://").to_owned();
    let screenshots = repo::root().join("tests/artifacts");
    let plan = json!({ "lb": lb, "chromium": chromium(), "screenshots": screenshots });
    let report = run_js("browser-chat.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", cluster.logs());

    let both = json!([
        { "name": "ada", "text": "hello from polling" },
        { "name": "bob", "text": "hello from websocket" },
    ]);
    assert_eq!(report["adaAck"], json!(true), "{report}");
    assert_eq!(report["polling"]["transport"], "polling", "{report}");
    assert_eq!(report["polling"]["messages"], both, "{report}");
    assert_eq!(report["upgrading"]["transport"], "websocket", "{report}");
    assert_eq!(report["upgrading"]["messages"], both, "{report}");
    // The stranger's origin is refused, and nobody heard from it.
    assert_eq!(report["stranger"]["connected"], false, "{report}");
    assert!(report["stranger"]["error"].is_string(), "{report}");

    // The polling page's requests really were spread over the nodes.
    let forwarded = cluster
        .metric_sum("switchyard_forwarded_requests_total")
        .await;
    assert!(forwarded > 0.0, "no request was forwarded: {report}");

    for shot in report["screenshots"].as_array().expect("screenshots") {
        let path = PathBuf::from(shot.as_str().expect("path"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "{} is missing or empty", path.display());
    }
}
