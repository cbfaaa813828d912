//! The Functions app files and the handler agree: every function folder has its route,
//! and binding names are the ones the handler reads.

use pizza_pipeline::functions::invocation::{ORDERS_BINDING, TIMER_BINDING};
use pizza_pipeline::functions::FUNCTION_ROUTES;
use serde_json::Value;
use std::path::Path;

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_function_folder_has_a_route_and_matching_bindings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders: Vec<String> = std::fs::read_dir(root.join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    folders.sort();
    let mut routed: Vec<String> = FUNCTION_ROUTES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    routed.sort();
    assert_eq!(folders, routed);

    let host = read_json(&root.join("host.json"));
    assert_eq!(
        host["customHandler"]["description"]["arguments"][0],
        "serve"
    );
    assert_eq!(host["customHandler"]["enableForwardingHttpRequest"], true);
    let prefix = host["extensions"]["http"]["routePrefix"].as_str().unwrap();

    for (name, route) in FUNCTION_ROUTES {
        let function = read_json(&root.join("functions").join(name).join("function.json"));
        let trigger = &function["bindings"][0];
        match trigger["type"].as_str().unwrap() {
            "httpTrigger" => {
                assert_eq!(
                    format!("/{prefix}/{}", trigger["route"].as_str().unwrap()),
                    route
                );
                assert_eq!(
                    function["bindings"][1]["type"], "http",
                    "forwarding needs exactly one http output"
                );
                assert_eq!(function["bindings"].as_array().unwrap().len(), 2);
            }
            "eventHubTrigger" => {
                assert_eq!(route, format!("/{name}"));
                assert_eq!(trigger["name"], ORDERS_BINDING);
                assert_eq!(trigger["cardinality"], "many");
                assert_eq!(
                    function["retry"]["maxRetryCount"], -1,
                    "a failed batch is retried, never skipped"
                );
                // Without it the host parses every event body as JSON before the handler
                // sees the batch: one body that is not JSON fails the binding itself and,
                // with unlimited retries, holds its partition still for ever. As strings,
                // a broken body reaches the handler, which quarantines it.
                assert_eq!(
                    trigger["dataType"], "string",
                    "the Event Hubs trigger hands bodies over as strings"
                );
            }
            "timerTrigger" => {
                assert_eq!(route, format!("/{name}"));
                assert_eq!(trigger["name"], TIMER_BINDING);
            }
            other => panic!("{name}: unexpected trigger {other}"),
        }
    }
}
