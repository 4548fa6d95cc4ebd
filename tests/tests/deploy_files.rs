//! The deployment files: docker-compose.yml runs the shipped parts, sets
//! only real settings, and scales its nodes freely.

use std::process::Command;

use serde_json::{json, Value};
use switchyard_e2e::{nginx, repo, run_py};

#[actix_rt::test]
async fn the_compose_file_scales_nodes_behind_the_shipped_nginx_config() {
    let path = repo::root().join("docker-compose.yml");
    let compose = run_py("compose_json.py", &json!({ "file": path })).await;
    let services = compose["services"].as_object().expect("services");
    for name in ["nats", "node", "lb"] {
        assert!(services.contains_key(name), "no {name} service: {compose}");
    }

    // `--scale node=3` needs the nodes to publish no fixed host port.
    let node = &compose["services"]["node"];
    assert_eq!(node.get("ports"), None, "{node}");
    assert_eq!(node["build"], ".", "{node}");

    // Every SWITCHYARD_* variable set anywhere is a real configuration key.
    let keys = repo::config_variables();
    for (name, service) in services {
        let variables: Vec<String> = match &service["environment"] {
            Value::Object(map) => map.keys().cloned().collect(),
            Value::Array(list) => list
                .iter()
                .filter_map(|v| v.as_str()?.split('=').next().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for variable in variables.iter().filter(|v| v.starts_with("SWITCHYARD_")) {
            assert!(keys.contains(variable), "{name}: {variable} is no setting");
        }
    }

    // The load balancer publishes 3000 and runs the template the tests run;
    // what it renders passes `nginx -t` (with a local address standing in
    // for the node service's name, which only Docker's DNS resolves).
    let lb = &compose["services"]["lb"];
    assert_eq!(lb["ports"], json!(["3000:3000"]), "{lb}");
    assert!(
        lb["volumes"][0]
            .as_str()
            .is_some_and(|v| v.starts_with("./config/nginx.conf.template:")),
        "{lb}"
    );
    let script = lb["command"][2].as_str().expect("the lb's shell script");
    let dir = std::env::temp_dir().join(format!("compose-lb-{}", std::process::id()));
    let template = repo::root().join("config/nginx.conf.template");
    let script = script
        .replace(
            "/etc/switchyard/nginx.conf.template",
            &template.to_string_lossy(),
        )
        .replace("/tmp/nginx", &dir.to_string_lossy())
        .replace("server node:3000;", "server 127.0.0.1:3000;")
        .replace("exec nginx ", &format!("{} -t ", nginx::binary().display()));
    let output = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("run the lb's script");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}\n{stderr}");
    assert!(stderr.contains("test is successful"), "{stderr}");
}
