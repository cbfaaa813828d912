//! The published OpenAPI document (docs/openapi.json, served at `GET /openapi.json`) against
//! the code: it must list exactly the public routes the routers declare, every operation
//! must say what it answers, and every reference in it must resolve. Schemathesis
//! (`tests/schemathesis/run.sh`, in `.ci/run`) then holds the running server's answers to
//! the document.
#![cfg(feature = "embedded")]

use pizza_pipeline::serving::OPENAPI_DOCUMENT;
use serde_json::Value;
use std::collections::BTreeSet;

/// The source files whose routers the public listener of `dev` serves: the HTTP function
/// (`functions::http_router`) and the read and admin API (`serving::router`).
const PUBLIC_ROUTERS: [&str; 2] = ["src/functions/mod.rs", "src/serving/mod.rs"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_DOCUMENT).expect("docs/openapi.json is JSON")
}

/// `(METHOD, path)` of every `.route("path", method(...))` in `source`, limited to the
/// function that builds the public router (`fn http_router` in functions, `fn router` in
/// serving).
fn routes_declared_in(path: &str) -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(path).unwrap();
    let start = source
        .find("pub fn http_router(")
        .or_else(|| source.find("pub fn router("))
        .unwrap_or_else(|| panic!("{path}: no public router"));
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").expect("end of the router function")];
    let mut routes = BTreeSet::new();
    for call in body.split(".route(").skip(1) {
        let call: String = call.split_whitespace().collect();
        let path = call.split('"').nth(1).expect("a route path literal");
        let method = call
            .split(',')
            .nth(1)
            .and_then(|m| m.split('(').next())
            .expect("a method router");
        routes.insert((method.to_ascii_uppercase(), path.to_string()));
    }
    routes
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            operations.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    operations
}

#[test]
fn the_document_lists_exactly_the_public_routes() {
    let declared: BTreeSet<_> = PUBLIC_ROUTERS
        .iter()
        .flat_map(|file| routes_declared_in(file))
        .collect();
    assert!(
        declared.contains(&("POST".into(), "/api/orders".into())),
        "the route scan found {declared:?}"
    );
    assert_eq!(documented_operations(&document()), declared);
}

#[test]
fn the_document_is_openapi_3_1_and_every_operation_says_what_it_answers() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let id = operation["operationId"].as_str().expect(&at);
            assert!(operation_ids.insert(id.to_string()), "{at}: duplicate {id}");
            let responses = operation["responses"].as_object().expect(&at);
            assert!(
                responses.keys().any(|code| code.starts_with('2')),
                "{at}: no success answer"
            );
            for (code, response) in responses {
                assert!(response["description"].is_string(), "{at} {code}");
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        schemes.contains_key(scheme),
                        "{at}: unknown scheme {scheme}"
                    );
                }
            }
            // A route that needs the key says it can answer 401.
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{at}: secured without a 401");
            }
        }
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    fn visit(value: &Value, doc: &Value, seen: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let pointer = reference.strip_prefix('#').expect("a local reference");
                    assert!(
                        doc.pointer(pointer).is_some(),
                        "{reference} does not resolve"
                    );
                    *seen += 1;
                }
                map.values().for_each(|v| visit(v, doc, seen));
            }
            Value::Array(items) => items.iter().for_each(|v| visit(v, doc, seen)),
            _ => {}
        }
    }
    let doc = document();
    let mut seen = 0;
    visit(&doc, &doc, &mut seen);
    assert!(
        seen > 10,
        "only {seen} references: the scan is not reading the document"
    );
}

#[test]
fn the_order_schema_states_the_contract_limits() {
    let doc = document();
    let order = &doc["components"]["schemas"]["Order"]["properties"];
    assert_eq!(order["qty"]["maximum"], 1000);
    assert_eq!(order["retail_price"]["maximum"], 1_000_000);
    assert_eq!(order["order_id"]["maximum"], i64::MAX);
    let menu: Vec<&str> = order["type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let known: Vec<&str> = pizza_pipeline::order::PizzaType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(menu, known);
    let batch = &doc["components"]["schemas"]["OrderBatch"];
    assert_eq!(
        batch["maxItems"].as_u64().unwrap() as usize,
        pizza_pipeline::order::MAX_BATCH_ORDERS
    );
}
